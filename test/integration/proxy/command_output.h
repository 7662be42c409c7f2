// Runs a shell command line (curl, nghttp, openssl) and captures what it
// prints, for tests that drive the proxy with command-line clients.
#pragma once

#include <array>
#include <cstdio>
#include <string>

namespace causeway::testing {

struct CommandOutput {
  int exit_status = -1;
  std::string output;  // stdout and stderr
};

inline CommandOutput RunCommand(const std::string& line) {
  CommandOutput out;
  FILE* pipe = ::popen((line + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.output.append(buf.data(), n);
  out.exit_status = ::pclose(pipe);
  return out;
}

}  // namespace causeway::testing
