#include "tests/client/cli_test_util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace dtrust::testing {
namespace {

constexpr char kDtrustPath[] = DTRUST_BINARY_DIR "/client/dtrust";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "cli_test_util: %s: %s\n", what.c_str(),
               std::strerror(errno));
  std::abort();
}

// One temporary directory for the whole test binary, removed at exit.
class ProcessTempDir {
 public:
  ProcessTempDir() {
    char pattern[] = "/tmp/dtrust-cli-test-XXXXXX";
    if (mkdtemp(pattern) == nullptr) Die("mkdtemp");
    path_ = pattern;
  }
  ~ProcessTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  // A new, empty subdirectory.
  std::string NewSubdir() {
    std::string dir = absl::StrCat(path_, "/", counter_++);
    if (mkdir(dir.c_str(), 0700) != 0) Die("mkdir " + dir);
    return dir;
  }

 private:
  std::string path_;
  std::atomic<int> counter_{0};
};

std::string NewTempDir() {
  static ProcessTempDir dir;  // Destroyed, and so removed, at exit.
  return dir.NewSubdir();
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  absl::StatusOr<CommandResult> result =
      RunCommand(NewTempDir(), argv, /*stdin_path=*/"", env);
  if (!result.ok()) Die(std::string(result.status().message()));
  return *std::move(result);
}

CommandResult RunShell(const std::string& script) {
  return RunCommand({"/bin/sh", "-c", script});
}

CommandResult RunDtrust(const std::vector<std::string>& args,
                        const std::vector<std::string>& env) {
  std::vector<std::string> argv = {kDtrustPath};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> full_env = {"DTRUST_ENDPOINT"};
  full_env.insert(full_env.end(), env.begin(), env.end());
  return RunCommand(argv, full_env);
}

CommandResult DtrustCli::Run(std::vector<std::string> args) const {
  args.push_back("--endpoint");
  args.push_back(endpoint_);
  return RunDtrust(args);
}

OpensslCert MakeOpensslCert(const std::string& common_name,
                            const std::string& key_path) {
  const std::string dir = NewTempDir();
  OpensslCert cert{.cert_path = dir + "/cert.pem",
                   .key_path = key_path.empty() ? dir + "/key.pem" : key_path};
  std::vector<std::string> argv = {"openssl", "req", "-x509"};
  if (key_path.empty()) {
    argv.insert(argv.end(),
                {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", cert.key_path});
  } else {
    argv.insert(argv.end(), {"-key", key_path});
  }
  argv.insert(argv.end(), {"-subj", "/CN=" + common_name, "-days", "365",
                           "-out", cert.cert_path});
  const CommandResult result = RunCommand(argv);
  EXPECT_EQ(result.exit_code(), 0) << absl::StrJoin(argv, " ") << "\n"
                                   << result.err;
  return cert;
}

std::string OpensslSha256(const std::string& cert_path) {
  const CommandResult result =
      RunCommand({"openssl", "x509", "-in", cert_path, "-noout", "-fingerprint",
                  "-sha256"});
  EXPECT_EQ(result.exit_code(), 0) << result.err;
  // "sha256 Fingerprint=AB:CD:...\n" (the label's case varies by version).
  absl::string_view line = absl::StripAsciiWhitespace(result.out);
  return std::string(line.substr(line.find('=') + 1));
}

std::string OpensslSpkiSha256(const std::string& cert_path) {
  const CommandResult result = RunShell(
      absl::StrCat("openssl x509 -in '", cert_path,
                   "' -pubkey -noout | openssl pkey -pubin -outform DER | "
                   "openssl dgst -sha256"));
  EXPECT_EQ(result.exit_code(), 0) << result.err;
  // "SHA2-256(stdin)= abcd...\n"
  absl::string_view line = absl::StripAsciiWhitespace(result.out);
  return std::string(
      absl::StripAsciiWhitespace(line.substr(line.find('=') + 1)));
}

std::string ColonHexToLower(const std::string& colon_hex) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(colon_hex, {{":", ""}}));
}

std::string DetailValue(const std::string& text, const std::string& label) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    absl::ConsumePrefix(&line, "- ");
    if (absl::ConsumePrefix(&line, label + ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace dtrust::testing
