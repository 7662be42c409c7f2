#include "serve/explain_curl.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/tokenizer.hpp"
#include "boost/url/parse.hpp"
// Boost.URL is used header-only; this is the one translation unit that
// compiles its sources.
#include "boost/url/src.hpp"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::serve {
namespace {

constexpr std::string_view kField = "curl";

absl::Status CurlError(std::string_view message) { return FieldError(kField, message); }

absl::StatusOr<std::vector<std::string>> Words(std::string_view command) {
  // A backslash before a line break continues the line, as in a shell.
  std::string text = absl::StrReplaceAll(ToAbsl(command), {{"\\\r\n", " "}, {"\\\n", " "}});
  if (text.find("$'") != std::string::npos) {
    return CurlError(
        "ANSI-C quoting ($'...') is not understood; copy the command for a POSIX shell or give "
        "host and path");
  }
  std::vector<std::string> words;
  try {
    boost::escaped_list_separator<char> separator("\\", " \t\r\n", "'\"");
    boost::tokenizer<boost::escaped_list_separator<char>> tokens(text, separator);
    for (const std::string& word : tokens) {
      // Runs of blanks give empty words: they separate nothing.
      if (!word.empty()) words.push_back(word);
    }
  } catch (const boost::escaped_list_error& e) {
    return CurlError(StrCat("the command does not split into words: ", e.what()));
  }
  return words;
}

// Options that take a value but do not change where a request is routed.
const std::set<std::string, std::less<>>& SkippedWithValue() {
  static const auto* kSet = new std::set<std::string, std::less<>>{
      "-o",           "--output",     "-m", "--max-time",   "--connect-timeout",
      "-u",           "--user",       "-w", "--write-out",  "--cacert",
      "--cert",       "--key",        "-x", "--proxy",      "--retry",
      "--resolve",    "--connect-to", "-c", "--cookie-jar", "--limit-rate",
      "--max-redirs", "--retry-delay"};
  return *kSet;
}

// Value-less options that do not change routing; also in short bundles
// such as -sSL.
const std::set<std::string, std::less<>>& SkippedFlags() {
  static const auto* kSet = new std::set<std::string, std::less<>>{
      "--compressed",     "--silent", "--verbose",     "--insecure",    "--include",   "--location",
      "--show-error",     "--fail",   "--http1.1",     "--http1.0",     "--no-buffer", "--globoff",
      "--fail-with-body", "--raw",    "--tr-encoding", "--no-keepalive"};
  return *kSet;
}
constexpr std::string_view kSkippedShortFlags = "sSvkiLfNg";

bool IsDataOption(std::string_view option) {
  return option == "-d" || option == "-F" || option == "--form" || option == "--json" ||
         option.starts_with("--data");
}

struct CurlState {
  ExplainRequest request;
  std::string url;
  std::string method;  // from -X, -I, -G
  bool data = false;
  std::string host_header;
};

absl::Status AddHeader(std::string_view line, CurlState* state) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return CurlError(StrCat("header \"", line, "\" is not \"Name: value\""));
  }
  std::string name(FromAbsl(absl::StripAsciiWhitespace(ToAbsl(line.substr(0, colon)))));
  std::string value(FromAbsl(absl::StripAsciiWhitespace(ToAbsl(line.substr(colon + 1)))));
  if (absl::AsciiStrToLower(name) == "host") {
    state->host_header = std::move(value);
  } else {
    state->request.headers.emplace_back(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

absl::Status AddCookies(std::string_view text, CurlState* state) {
  if (text.find('=') == std::string_view::npos) {
    return CurlError(StrCat("cookie \"", text, "\" names a file; give name=value pairs"));
  }
  for (absl::string_view piece : absl::StrSplit(ToAbsl(text), ';', absl::SkipWhitespace())) {
    std::string_view pair = FromAbsl(absl::StripAsciiWhitespace(piece));
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return CurlError(StrCat("cookie \"", pair, "\" is not name=value"));
    }
    state->request.cookies[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  }
  return absl::OkStatus();
}

// One option and, when it takes one, its value (`value` is nullptr when the
// command ended first).
absl::StatusOr<bool> Option(std::string_view option, const std::string* value, CurlState* state) {
  auto need = [&]() -> absl::Status {
    if (value == nullptr) return CurlError(StrCat("option ", option, " needs a value"));
    return absl::OkStatus();
  };
  if (option == "-H" || option == "--header") {
    CW_RETURN_IF_ERROR(need());
    CW_RETURN_IF_ERROR(AddHeader(*value, state));
  } else if (option == "-X" || option == "--request") {
    CW_RETURN_IF_ERROR(need());
    state->method = *value;
  } else if (option == "-b" || option == "--cookie") {
    CW_RETURN_IF_ERROR(need());
    CW_RETURN_IF_ERROR(AddCookies(*value, state));
  } else if (option == "-A" || option == "--user-agent") {
    CW_RETURN_IF_ERROR(need());
    state->request.headers.emplace_back("User-Agent", *value);
  } else if (option == "-e" || option == "--referer") {
    CW_RETURN_IF_ERROR(need());
    state->request.headers.emplace_back("Referer", *value);
  } else if (option == "--url") {
    CW_RETURN_IF_ERROR(need());
    state->url = *value;
  } else if (IsDataOption(option)) {
    CW_RETURN_IF_ERROR(need());
    state->data = true;
  } else if (SkippedWithValue().contains(option)) {
    CW_RETURN_IF_ERROR(need());
  } else {
    return false;  // takes no value
  }
  return true;
}

absl::Status Flag(std::string_view flag, CurlState* state) {
  if (flag == "-I" || flag == "--head") {
    state->method = "HEAD";
  } else if (flag == "-G" || flag == "--get") {
    state->method = "GET";
  } else if (SkippedFlags().contains(flag)) {
  } else if (flag.size() > 1 && flag[0] == '-' && flag[1] != '-' &&
             flag.substr(1).find_first_not_of(kSkippedShortFlags) == std::string_view::npos) {
  } else {
    return CurlError(StrCat("option ", flag,
                            " is not understood (routing reads the URL, -H, -X, -b, -A, -e and "
                            "the data options)"));
  }
  return absl::OkStatus();
}

// The URL's "host[:port]" and "path?query"; a URL without a scheme is http,
// as curl reads it.
absl::Status ReadUrl(std::string_view text, CurlState* state) {
  std::string url(text);
  if (url.find("://") == std::string::npos) url = StrCat("http://", url);
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return CurlError(StrCat("URL \"", text, "\" does not parse: ", parsed.error().message()));
  }
  const std::string scheme = absl::AsciiStrToLower(std::string(parsed->scheme()));
  if (scheme != "http" && scheme != "https") {
    return CurlError(StrCat("URL \"", text, "\" is not http or https"));
  }
  state->request.host = std::string(parsed->encoded_host_and_port());
  std::string target(parsed->encoded_target());
  state->request.path = target.empty() || target[0] != '/' ? StrCat("/", target) : target;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExplainRequest> ParseCurlCommand(std::string_view command) {
  CW_ASSIGN_OR_RETURN(std::vector<std::string> words, Words(command));
  if (words.empty() || words[0] != "curl") return CurlError("the command does not start with curl");
  CurlState state;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word.size() < 2 || word[0] != '-') {
      if (!state.url.empty()) {
        return CurlError(StrCat("more than one URL: \"", state.url, "\" and \"", word, "\""));
      }
      state.url = word;
      continue;
    }
    std::string option = word;
    std::optional<std::string> attached;
    // "-HHost: x", "-XPOST": a short option with its value attached.
    if (word[1] != '-' && word.size() > 2 &&
        std::string_view("HXbAed").find(word[1]) != std::string_view::npos) {
      option = word.substr(0, 2);
      attached = word.substr(2);
    }
    const std::string* value =
        attached ? &*attached : (i + 1 < words.size() ? &words[i + 1] : nullptr);
    CW_ASSIGN_OR_RETURN(bool took_value, Option(option, value, &state));
    if (took_value) {
      if (!attached) ++i;
      continue;
    }
    CW_RETURN_IF_ERROR(Flag(word, &state));
  }
  if (state.url.empty()) return CurlError("the command has no URL");
  CW_RETURN_IF_ERROR(ReadUrl(state.url, &state));
  if (!state.host_header.empty()) state.request.host = state.host_header;
  state.request.method = !state.method.empty() ? state.method : state.data ? "POST" : "GET";
  return std::move(state.request);
}

}  // namespace causeway::serve
