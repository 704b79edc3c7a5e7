// A whole dtrustd started in this process through Dtrustd::Start, against
// a real slapd, called over gRPC on a unix socket, and stopped; and the
// binary's exit status on --help and bad usage.
#include "server/dtrustd.h"

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/run_command.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::CommandResult;
using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::Eventually;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::RunCommand;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::StderrDuring;
using ::dtrust::testing::TempDir;
using ::dtrust::testing::TestCert;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class DtrustdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
  }

  // dtrustd on slapd_, serving gRPC on unix:DIR/NAME.
  DtrustdOptions Options(const std::string& name) const {
    DtrustdOptions options;
    options.listen = {Endpoint(name)};
    options.ldap_uris = {slapd_->uri()};
    options.base_dn = slapd_->suffix();
    options.bind_dn = slapd_->bind_dn();
    options.bind_password = slapd_->bind_password();
    return options;
  }

  std::string Endpoint(const std::string& name) const {
    return "unix:" + dir_.path() + "/" + name;
  }

  static std::unique_ptr<v1::DirectTrust::Stub> Connect(
      const std::string& endpoint) {
    return v1::DirectTrust::NewStub(
        grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  }

  static grpc::Status Verify(v1::DirectTrust::Stub& stub, const TestCert& cert,
                             v1::VerifyResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::VerifyRequest request;
    request.set_certificate_der(cert.der);
    return stub.Verify(&context, request, response);
  }

  TempDir dir_;
  std::unique_ptr<SlapdFixture> slapd_;
};

TEST_F(DtrustdTest, StartsServesOverGrpcAndStops) {
  absl::StatusOr<std::unique_ptr<Dtrustd>> dtrustd;
  const std::string start_log =
      StderrDuring([&] { dtrustd = Dtrustd::Start(Options("dtrustd.sock")); });
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  EXPECT_THAT(start_log, HasSubstr("dtrustd ready: serving on " +
                                   Endpoint("dtrustd.sock")));
  EXPECT_THAT((*dtrustd)->grpc_addresses(),
              ElementsAre(Endpoint("dtrustd.sock")));

  // This process's uid is admin over the unix socket: it may publish.
  std::unique_ptr<v1::DirectTrust::Stub> stub =
      Connect(Endpoint("dtrustd.sock"));
  const TestCert cert = MakeTestCert();
  v1::PublishRequest publish;
  publish.set_server("mx1.org-b.example");
  publish.add_domains("org-b.example");
  publish.set_certificate_der(cert.der);
  grpc::ClientContext context;
  v1::PublishResponse published;
  const grpc::Status status = stub->Publish(&context, publish, &published);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::VerifyResponse verified;
  EXPECT_TRUE(Eventually([&] {
    return Verify(*stub, cert, &verified).ok() &&
           verified.verdict() == v1::TRUSTED;
  })) << verified.reason();

  const std::string stop_log = StderrDuring([&] { (*dtrustd)->Stop(); });
  EXPECT_THAT(stop_log, HasSubstr("dtrustd stopped"));
  EXPECT_EQ(StderrDuring([&] { (*dtrustd)->Stop(); }), "");  // Idempotent.
  EXPECT_EQ(
      Verify(*Connect(Endpoint("dtrustd.sock")), cert, &verified).error_code(),
      grpc::StatusCode::UNAVAILABLE);
}

TEST_F(DtrustdTest, AnAddressInUseFailsTheStartAndStopsWhatStarted) {
  const std::string policy = "unix:" + dir_.path() + "/policy.sock";
  DtrustdOptions first_options = Options("first.sock");
  first_options.policy_listen = {*ParseListenAddress(policy)};
  absl::StatusOr<std::unique_ptr<Dtrustd>> first =
      Dtrustd::Start(first_options);
  ASSERT_TRUE(first.ok()) << first.status();

  DtrustdOptions second_options = Options("second.sock");
  second_options.policy_listen = first_options.policy_listen;
  absl::StatusOr<std::unique_ptr<Dtrustd>> second;
  const std::string log =
      StderrDuring([&] { second = Dtrustd::Start(second_options); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(),
              HasSubstr("cannot serve policy: " + policy +
                        ": a server is already listening there"));
  EXPECT_THAT(log, Not(HasSubstr("dtrustd ready")));
  // The first one still serves gRPC; the second never listened there.
  v1::VerifyResponse verified;
  EXPECT_TRUE(
      Verify(*Connect(Endpoint("first.sock")), MakeTestCert(), &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::NOT_PUBLISHED);
  EXPECT_FALSE(
      Verify(*Connect(Endpoint("second.sock")), MakeTestCert(), &verified)
          .ok());
}

TEST_F(DtrustdTest, AMetricsAddressInUseFailsTheStartBeforeReady) {
  absl::StatusOr<int> port = testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  DtrustdOptions first_options = Options("first.sock");
  first_options.metrics_listen = absl::StrCat("127.0.0.1:", *port);
  absl::StatusOr<std::unique_ptr<Dtrustd>> first;
  const std::string first_log =
      StderrDuring([&] { first = Dtrustd::Start(first_options); });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(first_log, HasSubstr(absl::StrCat("serving metrics on 127.0.0.1:",
                                                *port, " (port ", *port, ")")));

  DtrustdOptions second_options = Options("second.sock");
  second_options.metrics_listen = first_options.metrics_listen;
  absl::StatusOr<std::unique_ptr<Dtrustd>> second;
  const std::string log =
      StderrDuring([&] { second = Dtrustd::Start(second_options); });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("cannot serve metrics: UNAVAILABLE: "
                                     "cannot serve metrics on 127.0.0.1:",
                                     *port)));
  EXPECT_THAT(log, Not(HasSubstr("dtrustd ready")));
}

TEST_F(DtrustdTest, ADirectoryThatDoesNotAnswerFailsTheStartWithoutAMirror) {
  DtrustdOptions options = Options("dtrustd.sock");
  options.directory_sync = SyncMode::kNone;
  options.ldap_uris = {"ldap://127.0.0.1:1"};
  options.ldap_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<Dtrustd>> dtrustd = Dtrustd::Start(options);
  ASSERT_FALSE(dtrustd.ok());
  EXPECT_THAT(dtrustd.status().message(),
              HasSubstr("cannot use the directory at ldap://127.0.0.1:1 "
                        "under " +
                        slapd_->suffix()));
}

// "dtrustd ready" only once the mirror is loaded: the first answer is the
// real one, not a deferral.
TEST_F(DtrustdTest, ReadyOnlyOnceTheMirrorIsLoaded) {
  absl::StatusOr<std::unique_ptr<Dtrustd>> dtrustd;
  const std::string log =
      StderrDuring([&] { dtrustd = Dtrustd::Start(Options("dtrustd.sock")); });
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const size_t loaded = log.find("directory mirror loaded");
  ASSERT_NE(loaded, std::string::npos) << log;
  EXPECT_NE(log.find("dtrustd ready", loaded), std::string::npos) << log;
  v1::VerifyResponse verified;
  const grpc::Status first =
      Verify(*Connect(Endpoint("dtrustd.sock")), MakeTestCert(), &verified);
  EXPECT_TRUE(first.ok()) << first.error_message();
  EXPECT_EQ(verified.verdict(), v1::NOT_PUBLISHED);
}

// A directory unreachable at start holds Start() for --startup-timeout at
// most; dtrustd then serves, failing closed, and says it is not ready.
TEST_F(DtrustdTest, AnUnreachableDirectoryHoldsTheStartForTheBoundOnly) {
  DtrustdOptions options = Options("dtrustd.sock");
  options.ldap_uris = {"ldap://127.0.0.1:1"};
  options.ldap_timeout = absl::Seconds(1);
  options.startup_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<Dtrustd>> dtrustd;
  const absl::Time start = absl::Now();
  const std::string log =
      StderrDuring([&] { dtrustd = Dtrustd::Start(options); });
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  EXPECT_GE(took, absl::Seconds(1));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_THAT(log, HasSubstr("dtrustd not ready after --startup-timeout 1s"));
  EXPECT_THAT(log, Not(HasSubstr("dtrustd ready")));
  v1::VerifyResponse verified;
  EXPECT_EQ(
      Verify(*Connect(Endpoint("dtrustd.sock")), MakeTestCert(), &verified)
          .error_code(),
      grpc::StatusCode::UNAVAILABLE);
}

TEST(DtrustdBinaryTest, HelpExitsZeroAndBadUsageTwo) {
  TempDir dir;
  const auto run = [&dir](std::vector<std::string> args) {
    args.insert(args.begin(), DTRUST_BINARY_DIR "/server/dtrustd");
    absl::StatusOr<CommandResult> result = RunCommand(dir.path(), args);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(CommandResult{});
  };
  for (const char* help : {"--help", "-h"}) {
    const CommandResult r = run({help});
    EXPECT_TRUE(r.ok()) << r.Describe(help);
    EXPECT_THAT(r.out, HasSubstr("Usage: dtrustd [OPTIONS]"));
    EXPECT_THAT(r.out, HasSubstr("--require-proof-for DOMAIN"));
  }
  const CommandResult unknown = run({"--listen=unix:/run/x.sock", "--bogus"});
  EXPECT_TRUE(WIFEXITED(unknown.status) && WEXITSTATUS(unknown.status) == 2)
      << unknown.Describe("dtrustd --bogus");
  EXPECT_EQ(unknown.err,
            "dtrustd: unknown option \"--bogus\" (see dtrustd --help)\n");
  const CommandResult missing = run({"--data-dir"});
  EXPECT_TRUE(WIFEXITED(missing.status) && WEXITSTATUS(missing.status) == 2);
  EXPECT_THAT(missing.err, HasSubstr("--data-dir needs a value"));
}

// `dtrustd ARGS...` run to its end in `dir`.
CommandResult RunDtrustd(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), DTRUST_BINARY_DIR "/server/dtrustd");
  absl::StatusOr<CommandResult> result = RunCommand(dir.path(), args);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.value_or(CommandResult{});
}

// Replaces the contents of file `path`.
void Rewrite(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::trunc) << contents;
}

TEST(DtrustdBinaryTest, CheckConfigExitsZeroWhenValidAndTwoNamingTheLine) {
  TempDir dir;
  const std::string config = dir.path() + "/dtrustd.conf";
  Rewrite(config, "# embedded, but never started by --check-config\n" +
                      ("data-dir = " + dir.path() + "/data\n") +
                      "listen = unix:" + dir.path() + "/dtrustd.sock\n");
  const CommandResult valid =
      RunDtrustd(dir, {"--config", config, "--check-config"});
  EXPECT_TRUE(valid.ok()) << valid.Describe("--check-config");
  EXPECT_EQ(valid.out, "dtrustd: configuration valid (" + config + ")\n");
  EXPECT_FALSE(std::ifstream(dir.path() + "/data/slapd.conf").good());
  Rewrite(config, "log-level = info\nanonymous = everyone\n");
  const CommandResult bad =
      RunDtrustd(dir, {"--config", config, "--check-config"});
  EXPECT_TRUE(WIFEXITED(bad.status) && WEXITSTATUS(bad.status) == 2)
      << bad.Describe("--check-config");
  EXPECT_THAT(bad.err, HasSubstr(config + ":2: --anonymous: \"everyone\""));
  const CommandResult missing = RunDtrustd(
      dir, {"--config", dir.path() + "/none.conf", "--check-config"});
  EXPECT_TRUE(WIFEXITED(missing.status) && WEXITSTATUS(missing.status) == 2)
      << missing.Describe("--check-config");
}

class DtrustdBinaryReloadTest : public DtrustdTest {};

TEST_F(DtrustdBinaryReloadTest, SighupAppliesTheLogLevelAndNamesTheRest) {
  const std::string config = dir_.path() + "/dtrustd.conf";
  Rewrite(config, "log-level = info\n");
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(*slapd_, {"--config", config});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  EXPECT_THAT((*dtrustd)->Log(), Not(HasSubstr(" DEBUG ")));

  Rewrite(config, "log-level = debug\nldap-timeout = 3s\n");
  ASSERT_EQ(kill((*dtrustd)->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains((*dtrustd)->Log(), "need a restart");
  })) << (*dtrustd)->Log();
  const std::string log = (*dtrustd)->Log();
  EXPECT_THAT(
      log, HasSubstr(
               "INFO SIGHUP: reloaded " + config +
               "; applied --log-level=debug, --log-format=text (the default)"));
  EXPECT_THAT(log, HasSubstr("WARNING SIGHUP: changed settings not applied, "
                             "they need a restart: --ldap-timeout"));

  Rewrite(config, "log-format = json\nldap-timeout = 3s\n");
  ASSERT_EQ(kill((*dtrustd)->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains(
        (*dtrustd)->Log(),
        "\"level\":\"info\",\"msg\":\"SIGHUP: reloaded " + config +
            "; applied --log-level=info (the default), --log-format=json\"}");
  })) << (*dtrustd)->Log();

  Rewrite(config, "log-level = loud\n");
  ASSERT_EQ(kill((*dtrustd)->pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains((*dtrustd)->Log(), "nothing changed");
  })) << (*dtrustd)->Log();
  EXPECT_THAT((*dtrustd)->Log(),
              HasSubstr("\"level\":\"error\",\"msg\":\"SIGHUP: "
                        "configuration not reloaded, nothing changed: " +
                        config + ":1: --log-level"));
  EXPECT_TRUE((*dtrustd)->Stop().ok());
}

}  // namespace
}  // namespace dtrust
