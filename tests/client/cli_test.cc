// Unit tests of the dtrust command line as a whole (client/cli.cc): where it
// connects, help, and how dtrustd's errors become exit codes.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using CliTest = FakeDtrustdTest;

TEST_F(CliTest, ConnectsToTheDefaultEndpointWithoutTls) {
  const CliRun run = Run({"status"});
  ASSERT_TRUE(run.connection.has_value());
  EXPECT_EQ(run.connection->endpoint, "unix:/run/dtrust/dtrustd.sock");
  EXPECT_EQ(run.connection->timeout, absl::Seconds(10));
  EXPECT_EQ(run.connection->security.cert_file, "");
  EXPECT_EQ(run.connection->security.server_sha256, "");
}

TEST_F(CliTest, EnvironmentGivesDefaultsAndFlagsWin) {
  const std::map<std::string, std::string> env = {
      {"DTRUST_ENDPOINT", "127.0.0.1:7443"},
      {"DTRUST_CERT", "env.pem"},
      {"DTRUST_KEY", "env.key"},
      {"DTRUST_SERVER_SHA256", "ab"}};
  CliRun run = Run({"status"}, env);
  ASSERT_TRUE(run.connection.has_value());
  EXPECT_EQ(run.connection->endpoint, "127.0.0.1:7443");
  EXPECT_EQ(run.connection->security.cert_file, "env.pem");
  EXPECT_EQ(run.connection->security.key_file, "env.key");
  EXPECT_EQ(run.connection->security.server_sha256, "ab");

  run = Run({"--endpoint", "unix:/tmp/d.sock", "status", "--tls-cert",
             "flag.pem", "--timeout", "500ms", "--ca", "ca.pem"},
            env);
  ASSERT_TRUE(run.connection.has_value());
  EXPECT_EQ(run.connection->endpoint, "unix:/tmp/d.sock");
  EXPECT_EQ(run.connection->timeout, absl::Milliseconds(500));
  EXPECT_EQ(run.connection->security.cert_file, "flag.pem");
  EXPECT_EQ(run.connection->security.key_file, "env.key");
  EXPECT_EQ(run.connection->security.ca_file, "ca.pem");
}

TEST_F(CliTest, DtrustdErrorsMapToExitCodes) {
  const struct {
    absl::Status error;
    cli::ExitCode code;
  } kCases[] = {
      {absl::InvalidArgumentError("bad"), cli::ExitCode::kBadInput},
      {absl::NotFoundError("gone"), cli::ExitCode::kBadInput},
      {absl::AlreadyExistsError("there"), cli::ExitCode::kBadInput},
      {absl::FailedPreconditionError("no"), cli::ExitCode::kBadInput},
      {absl::PermissionDeniedError("denied"), cli::ExitCode::kNotAllowed},
      {absl::UnauthenticatedError("who"), cli::ExitCode::kNotAllowed},
      {absl::UnavailableError("down"), cli::ExitCode::kUnavailable},
      {absl::DeadlineExceededError("slow"), cli::ExitCode::kUnavailable},
      {absl::InternalError("bug"), cli::ExitCode::kUnavailable},
  };
  for (const auto& c : kCases) {
    fake_->list.answer = c.error;
    const CliRun run = Run({"list"});
    EXPECT_EQ(run.code, c.code) << c.error;
    EXPECT_EQ(run.err, absl::StrCat("dtrust: ", c.error.message(), "\n"));
    EXPECT_EQ(run.out, "");
  }
}

TEST_F(CliTest, HelpNeedsNoDtrustd) {
  const CliRun general = Run({"--help"});
  EXPECT_EQ(general.code, cli::ExitCode::kOk);
  EXPECT_FALSE(general.connection.has_value());
  EXPECT_THAT(general.out, StartsWith("usage: dtrust [GLOBAL-OPTIONS]"));
  EXPECT_THAT(general.out, HasSubstr("\nExit codes:\n"));
  EXPECT_EQ(Run({"help"}).out, general.out);

  const CliRun publish = Run({"publish", "-h"});
  EXPECT_EQ(publish.code, cli::ExitCode::kOk);
  EXPECT_FALSE(publish.connection.has_value());
  EXPECT_EQ(Run({"help", "publish"}).out, publish.out);
  EXPECT_THAT(publish.out, HasSubstr("  --pin cert|key        cert (default)"));
  EXPECT_EQ(fake_->calls(), 0u);
}

TEST_F(CliTest, UsageErrorsNeverConnect) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"--server", "x", "list"},
                                             {"list", "--bogus"},
                                             {"--endpoint=", "status"},
                                             {"help", "frobnicate"}}) {
    const CliRun run = Run(args);
    EXPECT_EQ(run.code, cli::ExitCode::kBadInput) << run.err;
    EXPECT_FALSE(run.connection.has_value()) << run.err;
    EXPECT_THAT(run.err, StartsWith("dtrust: "));
  }
  EXPECT_THAT(Run({}).err, StartsWith("dtrust: missing command"));
}

}  // namespace
}  // namespace dtrust::testing
