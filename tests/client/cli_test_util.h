// Helpers for end-to-end tests of the dtrust CLI: running the real binaries
// and openssl, reading their output.
#ifndef DTRUST_TESTS_CLIENT_CLI_TEST_UTIL_H_
#define DTRUST_TESTS_CLIENT_CLI_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "tests/testing/json_value.h"
#include "tests/testing/run_command.h"

namespace dtrust::testing {

// Runs argv[0] (a path, or a name looked up in PATH) with the environment
// of this process plus `env` ("NAME=value" entries, overriding; a bare
// "NAME" removes it), stdin from /dev/null, and waits for it (RunCommand in
// run_command.h). Aborts the test binary if it cannot run it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

// Runs `/bin/sh -c script`.
CommandResult RunShell(const std::string& script);

// Runs the real dtrust (DTRUST_BINARY_DIR "/client/dtrust") with `args`.
// DTRUST_ENDPOINT is removed from its environment unless given in `env`.
CommandResult RunDtrust(const std::vector<std::string>& args,
                        const std::vector<std::string>& env = {});

// The dtrust CLI bound to one dtrustd endpoint: appends --endpoint.
class DtrustCli {
 public:
  explicit DtrustCli(std::string endpoint) : endpoint_(std::move(endpoint)) {}
  CommandResult Run(std::vector<std::string> args) const;

 private:
  std::string endpoint_;
};

// A certificate and key made with the real `openssl req -x509 -newkey ec
// -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=...` (or `-key
// KEY_PATH` to reuse a key) in a fresh temporary directory.
struct OpensslCert {
  std::string cert_path;  // PEM
  std::string key_path;   // PEM
};
OpensslCert MakeOpensslCert(const std::string& common_name,
                            const std::string& key_path = "");

// `openssl x509 -noout -fingerprint -sha256`: upper-case hex with colons.
std::string OpensslSha256(const std::string& cert_path);
// SHA-256 of the DER SubjectPublicKeyInfo as `openssl x509 -pubkey -noout |
// openssl pkey -pubin -outform DER | openssl dgst -sha256` prints it: 64
// lower-case hex digits.
std::string OpensslSpkiSha256(const std::string& cert_path);

// "AB:CD:..." -> "abcd...".
std::string ColonHexToLower(const std::string& colon_hex);

// The value of the first "LABEL: value" line of `text` (leading spaces and
// "- " list markers ignored); "" if there is none.
std::string DetailValue(const std::string& text, const std::string& label);
// The first line of `text`, without its newline.
std::string FirstLine(const std::string& text);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_CLIENT_CLI_TEST_UTIL_H_
