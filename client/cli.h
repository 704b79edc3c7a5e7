// The dtrust command line: global options, command dispatch, help, errors.
#ifndef DTRUST_CLIENT_CLI_H_
#define DTRUST_CLIENT_CLI_H_

#include <optional>
#include <string>

#include "absl/types/span.h"
#include "client/exit_code.h"

namespace dtrust::cli {

// The endpoint used when neither --endpoint nor DTRUST_ENDPOINT is set.
inline constexpr char kDefaultEndpoint[] = "127.0.0.1:7750";

// Runs `dtrust ARGS...` (`args` excludes the program name). `env_endpoint`
// is the value of $DTRUST_ENDPOINT, if set. Appends what belongs on stdout
// to `out` and error lines ("dtrust: ...") to `err`; returns the exit code.
// Bad input is rejected before anything is sent to dtrustd.
ExitCode RunCli(absl::Span<const std::string> args,
                const std::optional<std::string>& env_endpoint,
                std::string* out, std::string* err);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_CLI_H_
