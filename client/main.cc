// dtrust: command-line client of dtrustd. See `dtrust help`.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "client/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto getenv = [](const char* name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name)) return value;
    return std::nullopt;
  };
  std::string out, err;
  const dtrust::cli::ExitCode code =
      dtrust::cli::RunCli(args, getenv, &out, &err);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fwrite(err.data(), 1, err.size(), stderr);
  // A failed write to stdout (e.g. a full disk) must not pass as success.
  if (std::fflush(stdout) != 0 && code == dtrust::cli::ExitCode::kOk) {
    std::fputs("dtrust: cannot write to stdout\n", stderr);
    return static_cast<int>(dtrust::cli::ExitCode::kUnavailable);
  }
  return static_cast<int>(code);
}
