// A `curl` command line read into an explain request, so a request copied
// from a browser's developer tools ("Copy as cURL") or a terminal can be
// explained as it is. Words are split with shell quoting as Boost's
// escaped_list_separator reads it ('...' and "..." quote, a backslash escapes
// a quote, a backslash or a newline; a backslash at the end of a line joins
// lines; a quote left open runs to the end); nothing is expanded ($VAR, `...` and globs stay as
// written), so nothing of the hub's environment or files can leak into an answer.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "serve/explain.h"

namespace causeway::serve {

// Understood: the URL (or --url), -H/--header, -X/--request, -b/--cookie
// "k=v; k2=v2", -A/--user-agent, -e/--referer, -I/--head, -G/--get, and the
// data options (-d, --data*, --json, -F/--form), which make the method POST
// as curl does. Options that do not change routing (--compressed, -s, -k,
// -L, -o FILE, ...) are skipped. Any other option is InvalidArgument naming
// it (field "curl"), rather than a guess about whether it takes a value. A
// Host header wins over the URL's host, as it does for curl.
absl::StatusOr<ExplainRequest> ParseCurlCommand(std::string_view command);

}  // namespace causeway::serve
