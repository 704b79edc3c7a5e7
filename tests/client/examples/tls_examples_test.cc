// dtrust-tls-server and dtrust-tls-client as separate processes over
// loopback against a real dtrustd (embedded slapd), with `openssl s_server`
// and `openssl s_client` as the other side: inbound mutual TLS, outbound,
// every refusal with its alert and reason, and dtrustd stuck or stopped.
#include <fcntl.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/owned_fd.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kServerBinary[] =
    DTRUST_BINARY_DIR "/client/examples/dtrust-tls-server";
constexpr char kClientBinary[] =
    DTRUST_BINARY_DIR "/client/examples/dtrust-tls-client";

// A long-running child whose stdout and stderr go to files; terminated by
// the destructor. Thread-compatible.
class Background {
 public:
  Background(const ScratchDir& scratch, const std::string& name,
             const std::vector<std::string>& argv,
             const std::string& stdin_text = "")
      : out_path_(scratch.Path(name + ".out")) {
    const std::string in_path = scratch.Path(name + ".in");
    EXPECT_TRUE(WriteTestFile(in_path, stdin_text).ok());
    OwnedFd in(open(in_path.c_str(), O_RDONLY | O_CLOEXEC));
    OwnedFd out(open(out_path_.c_str(),
                     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    absl::StatusOr<pid_t> pid =
        SpawnProcess(argv, in.get(), out.get(), out.get());
    EXPECT_TRUE(pid.ok()) << pid.status();
    pid_ = pid.value_or(-1);
  }
  ~Background() {
    if (pid_ > 0) {
      EXPECT_TRUE(TerminateProcess(pid_, absl::Seconds(5)).ok());
    }
  }
  std::string Output() const { return ReadFileOrEmpty(out_path_); }
  // Waits up to 10 s for `text` in the output.
  bool WaitFor(const std::string& text) const {
    return Eventually([&] { return Output().find(text) != std::string::npos; },
                      absl::Seconds(10));
  }

 private:
  std::string out_path_;
  pid_t pid_ = -1;
};

class TlsExamplesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
        DtrustdProcess::StartEmbedded();
    ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
    dtrustd_ = dtrustd->release();
    const absl::Time now = absl::Now();
    published_ = new TestCert(MakeTestCert());
    Publish(*published_, {});
    expired_ = new TestCert(MakeTestCert({.not_before = now - absl::Hours(48),
                                          .not_after = now - absl::Hours(1)}));
    Publish(*expired_, {});
    pin_ended_ =
        new TestCert(MakeTestCert({.not_before = now - absl::Hours(48)}));
    Publish(*pin_ended_, {"--not-before", Rfc3339(now - absl::Hours(47)),
                          "--not-after", Rfc3339(now - absl::Hours(1))});
    pin_ahead_ = new TestCert(MakeTestCert());
    Publish(*pin_ahead_, {"--not-before", Rfc3339(now + absl::Hours(1))});
  }

  static void TearDownTestSuite() {
    delete dtrustd_;
    for (TestCert* cert : {published_, expired_, pin_ended_, pin_ahead_}) {
      delete cert;
    }
  }

  void SetUp() override { ASSERT_NE(dtrustd_, nullptr); }

  static std::string Rfc3339(absl::Time time) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
  }

  // Publishes `cert` for mx1.org-b.example (serving org-b.example) at
  // `endpoint` (the suite's dtrustd by default).
  static void Publish(const TestCert& cert, std::vector<std::string> window,
                      const std::string& endpoint = dtrustd_->endpoint()) {
    std::vector<std::string> args = {"publish", "--server", "mx1.org-b.example",
                                     "--domain", "org-b.example"};
    args.insert(args.end(), window.begin(), window.end());
    args.push_back(WriteTempFile("cert.pem", cert.pem));
    const CommandResult r = DtrustCli(endpoint).Run(args);
    ASSERT_EQ(r.exit_code(), 0) << r.err << r.out;
  }

  // Files for `cert` in the scratch directory: {cert path, key path}.
  std::vector<std::string> Files(const TestCert& cert,
                                 const std::string& name) {
    const std::string cert_path = scratch_.Path(name + ".pem");
    const std::string key_path = scratch_.Path(name + ".key");
    EXPECT_TRUE(WriteTestFile(cert_path, cert.pem).ok());
    EXPECT_TRUE(WriteTestFile(key_path, cert.key_pem).ok());
    return {cert_path, key_path};
  }

  int Port() {
    absl::StatusOr<int> port = FreeLoopbackPort();
    EXPECT_TRUE(port.ok()) << port.status();
    return port.value_or(0);
  }

  // dtrust-tls-client against `openssl s_server` presenting `cert`; the
  // s_server's output goes to *server_output. `in_process`: the client
  // answers from its in-process copy (--in-process).
  CommandResult Outbound(const TestCert& cert, const std::string& domain,
                         std::string* server_output,
                         const std::string& endpoint = dtrustd_->endpoint(),
                         bool in_process = false) {
    const int port = Port();
    const std::vector<std::string> files = Files(cert, "server");
    Background server(scratch_, "s_server",
                      {"/usr/bin/openssl", "s_server", "-accept",
                       absl::StrCat("127.0.0.1:", port), "-naccept", "1",
                       "-cert", files[0], "-key", files[1]},
                      "hello from s_server\n");
    EXPECT_TRUE(server.WaitFor("ACCEPT")) << server.Output();
    std::vector<std::string> argv = {
        kClientBinary, "--connect",         absl::StrCat("127.0.0.1:", port),
        "--server",    "mx1.org-b.example", "--endpoint",
        endpoint};
    if (!domain.empty()) argv.insert(argv.end(), {"--domain", domain});
    if (in_process) argv.push_back("--in-process");
    CommandResult result = RunCommand(argv);
    Eventually(
        [&] {
          return server.Output().find("DONE") != std::string::npos ||
                 server.Output().find("ERROR") != std::string::npos;
        },
        absl::Seconds(2));
    *server_output = server.Output();
    return result;
  }

  // `openssl s_client` presenting `cert` (none if null) to the server on
  // 127.0.0.1:`port`.
  CommandResult SClient(int port, const TestCert* cert) {
    std::vector<std::string> argv = {"/usr/bin/openssl", "s_client", "-connect",
                                     absl::StrCat("127.0.0.1:", port),
                                     "-ign_eof"};
    if (cert != nullptr) {
      const std::vector<std::string> files = Files(*cert, "client");
      argv.insert(argv.end(), {"-cert", files[0], "-key", files[1]});
    }
    return RunCommand(argv);
  }

  // `openssl s_client` presenting `cert` (none if null) to
  // dtrust-tls-server expecting `domain`; the server's stdout line goes to
  // *server_line. `in_process`: the server answers from its in-process copy.
  CommandResult Inbound(const TestCert* cert, const std::string& domain,
                        std::string* server_line, bool in_process = false) {
    const int port = Port();
    const std::vector<std::string> own =
        Files(MakeTestCert({.common_name = "mx.org-a.example"}), "own");
    std::vector<std::string> server_argv = {kServerBinary,
                                            "--listen",
                                            absl::StrCat("127.0.0.1:", port),
                                            "--cert",
                                            own[0],
                                            "--key",
                                            own[1],
                                            "--domain",
                                            domain,
                                            "--endpoint",
                                            dtrustd_->endpoint()};
    if (in_process) server_argv.push_back("--in-process");
    Background server(scratch_, "dtrust-tls-server", server_argv);
    EXPECT_TRUE(server.WaitFor("listening")) << server.Output();
    CommandResult result = SClient(port, cert);
    EXPECT_TRUE(Eventually(
        [&] {
          return server.Output().find(
                     '\n', server.Output().find("listening\n") + 10) !=
                 std::string::npos;
        },
        absl::Seconds(5)))
        << server.Output();
    const std::string output = server.Output();
    *server_line = output.substr(output.find("listening\n") + 10);
    return result;
  }

  static DtrustdProcess* dtrustd_;
  static TestCert* published_;
  static TestCert* expired_;
  static TestCert* pin_ended_;
  static TestCert* pin_ahead_;
  ScratchDir scratch_;
};

DtrustdProcess* TlsExamplesTest::dtrustd_ = nullptr;
TestCert* TlsExamplesTest::published_ = nullptr;
TestCert* TlsExamplesTest::expired_ = nullptr;
TestCert* TlsExamplesTest::pin_ended_ = nullptr;
TestCert* TlsExamplesTest::pin_ahead_ = nullptr;

TEST_F(TlsExamplesTest, OutboundPublishedServerIsTrusted) {
  std::string s_server;
  const CommandResult r = Outbound(*published_, "org-b.example", &s_server);
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err << s_server;
  EXPECT_THAT(r.out, StartsWith("TRUSTED "));
  EXPECT_THAT(r.out, HasSubstr("server: hello from s_server"));
}

TEST_F(TlsExamplesTest, OutboundUnpublishedServerIsRefusedWithBadCertificate) {
  std::string s_server;
  const CommandResult r = Outbound(MakeTestCert(), "", &s_server);
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("NOT_PUBLISHED "));
  EXPECT_THAT(s_server, HasSubstr("alert bad certificate"));
}

TEST_F(TlsExamplesTest, OutboundWrongDomainIsRefused) {
  std::string s_server;
  const CommandResult r = Outbound(*published_, "org-c.example", &s_server);
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("WRONG_DOMAIN "));
  EXPECT_THAT(r.out, HasSubstr("org-c.example"));
  EXPECT_THAT(s_server, HasSubstr("alert bad certificate"));
}

TEST_F(TlsExamplesTest, OutboundExpiredIsRefusedWithCertificateExpired) {
  std::string s_server;
  const CommandResult r = Outbound(*expired_, "org-b.example", &s_server);
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("EXPIRED "));
  EXPECT_THAT(s_server, HasSubstr("alert certificate expired"));
}

TEST_F(TlsExamplesTest, OutboundPinNotYetActiveIsRefused) {
  std::string s_server;
  const CommandResult r = Outbound(*pin_ahead_, "", &s_server);
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("PIN_NOT_YET_ACTIVE "));
  EXPECT_THAT(s_server, HasSubstr("alert bad certificate"));
}

TEST_F(TlsExamplesTest, InboundPublishedClientIsTrusted) {
  std::string line;
  const CommandResult r = Inbound(published_, "org-b.example", &line);
  EXPECT_THAT(r.out, HasSubstr("OK TRUSTED")) << r.err;
  EXPECT_THAT(line, StartsWith("TRUSTED "));
}

TEST_F(TlsExamplesTest, InboundUnpublishedClientIsRefusedWithBadCertificate) {
  const TestCert stranger = MakeTestCert();
  std::string line;
  const CommandResult r = Inbound(&stranger, "org-b.example", &line);
  EXPECT_THAT(r.out, Not(HasSubstr("OK TRUSTED")));
  EXPECT_THAT(r.err + r.out, HasSubstr("alert bad certificate"));
  EXPECT_THAT(line, StartsWith("NOT_PUBLISHED "));
}

TEST_F(TlsExamplesTest, InboundWrongDomainIsRefused) {
  std::string line;
  const CommandResult r = Inbound(published_, "org-c.example", &line);
  EXPECT_THAT(r.err + r.out, HasSubstr("alert bad certificate"));
  EXPECT_THAT(line, StartsWith("WRONG_DOMAIN "));
}

TEST_F(TlsExamplesTest, InboundPinWindowEndedIsRefused) {
  std::string line;
  const CommandResult r = Inbound(pin_ended_, "org-b.example", &line);
  EXPECT_THAT(r.err + r.out, HasSubstr("alert bad certificate"));
  EXPECT_THAT(line, StartsWith("PIN_EXPIRED "));
}

TEST_F(TlsExamplesTest, InboundWithoutClientCertificateIsRefused) {
  std::string line;
  const CommandResult r = Inbound(nullptr, "org-b.example", &line);
  EXPECT_THAT(r.err + r.out, HasSubstr("alert certificate required"));
  EXPECT_THAT(line, StartsWith("REFUSED "));
}

// The first TLS alert s_server reports in `output` ("alert bad
// certificate"), or "" if none.
std::string AlertIn(const std::string& output) {
  const size_t alert = output.find("alert ");
  if (alert == std::string::npos) return "";
  return output.substr(alert, output.find_first_of(":\n", alert) - alert);
}

// Through the in-process copy (fed by the real dtrustd's Watch) every case
// prints exactly what the RPC path prints: the same verdicts, reasons and
// alerts, as both run dtrustd's decision code.
TEST_F(TlsExamplesTest, InProcessOutboundAnswersAsTheRpcPath) {
  const TestCert stranger = MakeTestCert();
  const std::vector<std::pair<const TestCert*, std::string>> cases = {
      {published_, "org-b.example"},
      {&stranger, ""},
      {published_, "org-c.example"},
      {expired_, "org-b.example"},
      {pin_ahead_, ""}};
  for (const auto& [cert, domain] : cases) {
    std::string rpc_server, local_server;
    const CommandResult rpc = Outbound(*cert, domain, &rpc_server);
    const CommandResult local =
        Outbound(*cert, domain, &local_server, dtrustd_->endpoint(),
                 /*in_process=*/true);
    EXPECT_EQ(local.exit_code(), rpc.exit_code()) << local.out << local.err;
    EXPECT_EQ(local.out, rpc.out);
    EXPECT_EQ(AlertIn(local_server), AlertIn(rpc_server)) << local_server;
  }
  std::string s_server;
  const CommandResult trusted =
      Outbound(*published_, "org-b.example", &s_server, dtrustd_->endpoint(),
               /*in_process=*/true);
  EXPECT_EQ(trusted.exit_code(), 0) << trusted.out << trusted.err;
  EXPECT_THAT(trusted.out, StartsWith("TRUSTED "));
}

TEST_F(TlsExamplesTest, InProcessInboundTrustsAndRefuses) {
  std::string line;
  CommandResult r =
      Inbound(published_, "org-b.example", &line, /*in_process=*/true);
  EXPECT_THAT(r.out, HasSubstr("OK TRUSTED")) << r.err << line;
  EXPECT_THAT(line, StartsWith("TRUSTED "));
  r = Inbound(pin_ended_, "org-b.example", &line, /*in_process=*/true);
  EXPECT_THAT(r.err + r.out, HasSubstr("alert bad certificate"));
  EXPECT_THAT(line, StartsWith("PIN_EXPIRED "));
  const TestCert stranger = MakeTestCert();
  r = Inbound(&stranger, "org-b.example", &line, /*in_process=*/true);
  EXPECT_THAT(r.err + r.out, HasSubstr("alert bad certificate"));
  EXPECT_THAT(line, StartsWith("NOT_PUBLISHED "));
  r = Inbound(published_, "org-c.example", &line, /*in_process=*/true);
  EXPECT_THAT(r.err + r.out, HasSubstr("alert bad certificate"));
  EXPECT_THAT(line, StartsWith("WRONG_DOMAIN "));
}

// A stuck dtrustd costs a handshake the client's deadline, a stopped one
// none; both fail closed with certificate_unknown and exit 3.
TEST_F(TlsExamplesTest, DtrustdStuckOrStoppedFailsClosed) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> other =
      DtrustdProcess::StartEmbedded();
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ(kill((*other)->pid(), SIGSTOP), 0);
  std::string s_server;
  const absl::Time start = absl::Now();
  CommandResult r =
      Outbound(*published_, "org-b.example", &s_server, (*other)->endpoint());
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("UNAVAILABLE "));
  EXPECT_THAT(s_server, HasSubstr("alert certificate unknown"));
  ASSERT_EQ(kill((*other)->pid(), SIGCONT), 0);
  ASSERT_TRUE((*other)->Stop().ok());
  r = Outbound(*published_, "org-b.example", &s_server, (*other)->endpoint());
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("dtrust could not answer"));
}

// The in-process copy without a dtrustd to feed it: no snapshot, so the
// handshake fails closed (exit 3) once the client's deadline for the first
// snapshot has passed.
TEST_F(TlsExamplesTest, InProcessWithoutDtrustdFailsClosed) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> other =
      DtrustdProcess::StartEmbedded();
  ASSERT_TRUE(other.ok()) << other.status();
  const std::string endpoint = (*other)->endpoint();
  ASSERT_TRUE((*other)->Stop().ok());
  std::string s_server;
  const absl::Time start = absl::Now();
  CommandResult r = Outbound(*published_, "org-b.example", &s_server, endpoint,
                             /*in_process=*/true);
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("UNAVAILABLE "));
  EXPECT_THAT(r.out, HasSubstr("no complete snapshot"));
  EXPECT_THAT(s_server, HasSubstr("alert certificate unknown"));
}

// dtrustd stops while dtrust-tls-server runs on its in-process copy: the
// copy keeps answering within dtrustd's staleness bound (--max-staleness 4s
// here), then fails closed (certificate_unknown, the bound named).
TEST_F(TlsExamplesTest, InProcessAnswersUntilTheBoundAfterDtrustdStops) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> other =
      DtrustdProcess::StartWithLdap(**slapd, {"--max-staleness", "4s"});
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_NO_FATAL_FAILURE(Publish(*published_, {}, (*other)->endpoint()));
  const int port = Port();
  const std::vector<std::string> own =
      Files(MakeTestCert({.common_name = "mx.org-a.example"}), "own");
  Background server(
      scratch_, "dtrust-tls-server",
      {kServerBinary, "--listen", absl::StrCat("127.0.0.1:", port), "--cert",
       own[0], "--key", own[1], "--domain", "org-b.example", "--endpoint",
       (*other)->endpoint(), "--in-process"});
  ASSERT_TRUE(server.WaitFor("listening")) << server.Output();
  EXPECT_THAT(SClient(port, published_).out, HasSubstr("OK TRUSTED"))
      << server.Output();

  ASSERT_TRUE((*other)->Stop().ok());
  const absl::Time stopped = absl::Now();
  EXPECT_THAT(SClient(port, published_).out, HasSubstr("OK TRUSTED"))
      << server.Output();
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(3))
      << "too slow to show an answer within the bound";

  absl::SleepFor(stopped + absl::Seconds(5) - absl::Now());
  const CommandResult late = SClient(port, published_);
  EXPECT_THAT(late.out, Not(HasSubstr("OK TRUSTED")));
  EXPECT_THAT(late.err + late.out, HasSubstr("alert certificate unknown"));
  EXPECT_TRUE(server.WaitFor("UNAVAILABLE ")) << server.Output();
  EXPECT_THAT(server.Output(), HasSubstr("over dtrustd's bound of 4s"));
}

}  // namespace
}  // namespace dtrust::testing
