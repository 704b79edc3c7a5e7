#include "tests/testing/test_tls.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "tests/testing/run_command.h"

namespace dtrust::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

// Runs openssl with `args` in `dir`; Internal with its output on failure.
absl::Status Openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), kOpenssl);
  DTRUST_ASSIGN_OR_RETURN(CommandResult result, RunCommand(dir, args));
  if (!result.ok()) {
    return absl::InternalError(
        result.Describe(absl::StrCat("openssl ", args[1])));
  }
  return absl::OkStatus();
}

TlsFiles FilesNamed(const std::string& dir, const std::string& name) {
  return {.cert_file = absl::StrCat(dir, "/", name, ".pem"),
          .key_file = absl::StrCat(dir, "/", name, ".key")};
}

}  // namespace

absl::StatusOr<TlsFiles> MakeTestCa(const std::string& dir,
                                    const std::string& name) {
  const TlsFiles ca = FilesNamed(dir, name);
  DTRUST_RETURN_IF_ERROR(Openssl(
      dir,
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", ca.key_file, "-out", ca.cert_file, "-days", "2",
       "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign"}));
  return ca;
}

absl::StatusOr<TlsFiles> IssueTestServerCert(
    const std::string& dir, const std::string& name, const TlsFiles& ca,
    const std::string& subject_alt_names) {
  const TlsFiles server = FilesNamed(dir, name);
  const std::string request = absl::StrCat(dir, "/", name, ".csr");
  const std::string extensions = absl::StrCat(dir, "/", name, ".ext");
  DTRUST_RETURN_IF_ERROR(WriteTestFile(
      extensions, absl::StrCat("subjectAltName=", subject_alt_names, "\n",
                               "basicConstraints=critical,CA:FALSE\n"
                               "keyUsage=critical,digitalSignature\n"
                               "extendedKeyUsage=serverAuth\n")));
  DTRUST_RETURN_IF_ERROR(
      Openssl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    server.key_file, "-out", request, "-subj", "/CN=" + name}));
  DTRUST_RETURN_IF_ERROR(
      Openssl(dir, {"x509", "-req", "-in", request, "-CA", ca.cert_file,
                    "-CAkey", ca.key_file, "-set_serial", "2", "-days", "2",
                    "-extfile", extensions, "-out", server.cert_file}));
  return server;
}

}  // namespace dtrust::testing
