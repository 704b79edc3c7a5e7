// dtrust status and the grpc.health.v1 service against the real dtrustd over
// a real slapd, up and stopped: without a mirror (--directory-sync none) and
// with one (the default, refresh-and-persist).
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::testing {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// Check(service) on dtrustd's health service.
HealthCheckResponse::ServingStatus Health(const std::string& endpoint,
                                          const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  const grpc::Status status = stub->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

// Runs `dtrust status ARGS` until it exits `exit_code`, for at most 5 s;
// returns the last run.
CommandResult AwaitStatus(const DtrustCli& cli, int exit_code,
                          const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {"status"};
  argv.insert(argv.end(), args.begin(), args.end());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  CommandResult r = cli.Run(argv);
  while (r.exit_code() != exit_code && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    r = cli.Run(argv);
  }
  return r;
}

TEST(StatusTest, NoMirrorServingThenDirectoryDownThenBack) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd, {"--directory-sync", "none"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string endpoint = (*dtrustd)->endpoint();
  const DtrustCli cli(endpoint);
  const std::string uri = (*slapd)->uri();

  CommandResult r = cli.Run({"status"});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, StartsWith("serving:"));
  EXPECT_EQ(DetailValue(r.out, "serving"), "yes");
  EXPECT_EQ(DetailValue(r.out, "sync mode"), "none");
  EXPECT_EQ(DetailValue(r.out, "directory"), uri);
  EXPECT_EQ(DetailValue(r.out, "connected"), "yes");
  EXPECT_EQ(DetailValue(r.out, "snapshot age"), "-");
  EXPECT_EQ(DetailValue(r.out, "last error"), "-");
  EXPECT_EQ(DetailValue(r.out, "servers"), "-");
  EXPECT_THAT(DetailValue(r.out, "started"), StartsWith("20"));

  r = cli.Run({"status", "--json"});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  EXPECT_TRUE(Field(json, "serving").bool_value());
  EXPECT_EQ(Field(json, "sync_mode").string_value(), "none");
  EXPECT_EQ(Field(json, "directory_uri").string_value(), uri);
  EXPECT_TRUE(Field(json, "connected").bool_value());
  EXPECT_TRUE(Field(json, "snapshot_age_ms").has_null_value());
  EXPECT_TRUE(Field(json, "pins").has_null_value());
  EXPECT_TRUE(Field(json, "last_error").has_null_value());
  EXPECT_THAT(Field(json, "started").string_value(), StartsWith("20"));

  EXPECT_EQ(Health(endpoint, ""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Health(endpoint, "dtrust.v1.DirectTrust"),
            HealthCheckResponse::SERVING);

  // Directory down: not serving, within a couple of seconds.
  ASSERT_TRUE((*slapd)->Stop().ok());
  const absl::Time stopped = absl::Now();
  r = AwaitStatus(cli, 3);
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(3));
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_EQ(DetailValue(r.out, "serving"), "no");
  EXPECT_EQ(DetailValue(r.out, "connected"), "no");
  EXPECT_EQ(DetailValue(r.out, "directory"), uri);
  EXPECT_THAT(DetailValue(r.out, "last error"), HasSubstr(uri));
  r = cli.Run({"status", "--json"});
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  json = ParseJson(r.out);
  EXPECT_FALSE(Field(json, "serving").bool_value());
  EXPECT_FALSE(Field(json, "connected").bool_value());
  EXPECT_THAT(Field(json, "last_error").string_value(), Not(IsEmpty()));
  // The health service follows (HealthService polls every 250 ms).
  const absl::Time deadline = absl::Now() + absl::Seconds(3);
  while (Health(endpoint, "") != HealthCheckResponse::NOT_SERVING &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(Health(endpoint, ""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health(endpoint, "dtrust.v1.DirectTrust"),
            HealthCheckResponse::NOT_SERVING);

  // Back.
  ASSERT_TRUE((*slapd)->Restart().ok());
  r = AwaitStatus(cli, 0);
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(DetailValue(r.out, "last error"), "-");
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

TEST(StatusTest, MirrorShowsItsDataAndItsStaleness) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd, {"--max-staleness", "1s"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const DtrustCli cli((*dtrustd)->endpoint());
  const std::string cert = MakeOpensslCert("mx1.org-b.example").cert_path;
  CommandResult r = cli.Run({"publish", "--server", "mx1.org-b.example",
                             "--domain", "org-b.example", cert});
  ASSERT_EQ(r.exit_code(), 0) << r.out << r.err;

  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  r = cli.Run({"status"});
  while (DetailValue(r.out, "pins") != "1" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    r = cli.Run({"status"});
  }
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(DetailValue(r.out, "serving"), "yes");
  EXPECT_EQ(DetailValue(r.out, "sync mode"), "refresh-and-persist");
  EXPECT_EQ(DetailValue(r.out, "directory"), (*slapd)->uri());
  EXPECT_EQ(DetailValue(r.out, "connected"), "yes");
  EXPECT_EQ(DetailValue(r.out, "snapshot age"), "0");
  EXPECT_EQ(DetailValue(r.out, "max staleness"), "1s");
  EXPECT_THAT(DetailValue(r.out, "last current"), StartsWith("20"));
  EXPECT_EQ(DetailValue(r.out, "servers"), "1");
  EXPECT_EQ(DetailValue(r.out, "pins"), "1");
  EXPECT_EQ(DetailValue(r.out, "domain policies"), "0");
  EXPECT_THAT(DetailValue(r.out, "index bytes"), Not("-"));
  EXPECT_THAT(DetailValue(r.out, "initial load"), Not("-"));

  r = cli.Run({"status", "--json"});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  const google::protobuf::Value json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "sync_mode").string_value(), "refresh-and-persist");
  EXPECT_EQ(Field(json, "snapshot_age_ms").number_value(), 0);
  EXPECT_EQ(Field(json, "max_staleness_ms").number_value(), 1000);
  EXPECT_EQ(Field(json, "servers").number_value(), 1);
  EXPECT_EQ(Field(json, "pins").number_value(), 1);
  EXPECT_GT(Field(json, "index_bytes").number_value(), 0);
  EXPECT_TRUE(Field(json, "initial_load_ms").has_number_value());

  // Directory down: answers from the mirror until it is older than 1 s.
  ASSERT_TRUE((*slapd)->Stop().ok());
  const absl::Time stopped = absl::Now();
  r = AwaitStatus(cli, 3);
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(4));
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_EQ(DetailValue(r.out, "serving"), "no");
  EXPECT_EQ(DetailValue(r.out, "connected"), "no");
  EXPECT_EQ(DetailValue(r.out, "pins"), "1");
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

TEST(StatusTest, DtrustdUnreachable) {
  const DtrustCli cli("unix:/nonexistent/dtrustd.sock");
  for (const char* json : {"", "--json"}) {
    std::vector<std::string> args = {"status", "--timeout", "2s"};
    if (*json != '\0') args.push_back(json);
    const CommandResult r = cli.Run(args);
    EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
    EXPECT_THAT(r.out, IsEmpty());
    EXPECT_THAT(r.err, StartsWith("dtrust: "));
    EXPECT_THAT(r.err, HasSubstr("/nonexistent/dtrustd.sock"));
  }
}

TEST(StatusTest, TakesNoArguments) {
  const CommandResult r = RunDtrust({"status", "extra"});
  EXPECT_EQ(r.exit_code(), 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("status takes no arguments, got extra"));
}

TEST(StatusTest, ListedInHelp) {
  const CommandResult r = RunDtrust({"--help"});
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_THAT(r.out, HasSubstr("  status "));
}

}  // namespace
}  // namespace dtrust::testing
