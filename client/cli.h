// The dtrust command line: global options, command dispatch, help, errors.
#ifndef DTRUST_CLIENT_CLI_H_
#define DTRUST_CLIENT_CLI_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "client/channel_security.h"
#include "client/dtrustd_client.h"
#include "client/exit_code.h"

namespace dtrust::cli {

// Reads an environment variable: its value, or nullopt if it is not set.
using GetEnv = absl::FunctionRef<std::optional<std::string>(const char* name)>;

// Which dtrustd to talk to and how, from the global options and the
// environment.
struct DtrustdConnection {
  std::string endpoint{};  // Not empty.
  absl::Duration timeout{};
  ChannelSecurityFlags security{};
};

// Makes the client a command talks to dtrustd through; InvalidArgument for
// unusable security flags.
using ConnectDtrustd =
    absl::FunctionRef<absl::StatusOr<std::shared_ptr<DtrustdClient>>(
        const DtrustdConnection& connection)>;

// Runs `dtrust ARGS...` (`args` excludes the program name). `getenv` reads
// DTRUST_ENDPOINT, DTRUST_CERT, DTRUST_KEY and DTRUST_SERVER_SHA256. Appends
// what belongs on stdout to `out` and error lines ("dtrust: ...") to `err`;
// returns the exit code. Bad input is rejected before anything is sent to
// dtrustd. Talks to dtrustd over gRPC (GrpcDtrustdClient).
ExitCode RunCli(absl::Span<const std::string> args, GetEnv getenv,
                std::string* out, std::string* err);

// The same, with the client made by `connect` (called at most once, only
// for a command that runs).
ExitCode RunCli(absl::Span<const std::string> args, GetEnv getenv,
                ConnectDtrustd connect, std::string* out, std::string* err);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_CLI_H_
