// Shell completion scripts generated from the CLI11 command tree, so they
// never drift from the flags the commands really take.
#pragma once

#include <string>

#include "CLI/CLI.hpp"

namespace causeway::cli {

// A bash completion script for `root` (the `causeway` app): verbs, nested
// verbs, flags, object kinds and -o formats.
std::string BashCompletion(CLI::App& root);
// The same for zsh, through zsh's bash-completion compatibility.
std::string ZshCompletion(CLI::App& root);

}  // namespace causeway::cli
