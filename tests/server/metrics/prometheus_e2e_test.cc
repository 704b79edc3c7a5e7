// A real Prometheus (Debian's /usr/bin/prometheus, on loopback, with
// deploy/prometheus/alerts.yml loaded) scrapes a real dtrustd on a private
// slapd every second. The test publishes, verifies over gRPC, the policy
// and socketmap protocols, stops the directory, and reads the values back
// through Prometheus's HTTP API; `promtool check metrics` on /metrics.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/owned_fd.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/postfix/listen_address.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/json_value.h"
#include "tests/testing/run_command.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::CommandResult;
using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::Eventually;
using ::dtrust::testing::Field;
using ::dtrust::testing::FreeLoopbackPort;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::ParseJson;
using ::dtrust::testing::PercentEncode;
using ::dtrust::testing::RunCommand;
using ::dtrust::testing::ScratchDir;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::SpawnProcess;
using ::dtrust::testing::TerminateProcess;
using ::dtrust::testing::TestCert;
using ::dtrust::testing::TestClient;
using ::testing::HasSubstr;

constexpr absl::Duration kPatience = absl::Seconds(30);
constexpr absl::Duration kPoll = absl::Milliseconds(250);

// The body of GET http://127.0.0.1:PORT`target` (HTTP/1.0), when the
// answer is 200; reads for at most 10 s.
absl::StatusOr<std::string> HttpGet(int port, const std::string& target) {
  const OwnedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", port));
  }
  const std::string request =
      absl::StrCat("GET ", target, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError("cannot send the request");
  }
  std::string response;
  char buffer[64 * 1024];
  ssize_t got;
  while ((got = read(fd.get(), buffer, sizeof(buffer))) > 0) {
    response.append(buffer, got);
  }
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos ||
      !absl::StrContains(response.substr(0, body), " 200 ")) {
    return absl::UnavailableError(
        absl::StrCat("GET ", target, ": ", response.substr(0, 200)));
  }
  return response.substr(body + 4);
}

// A running Prometheus scraping job "dtrustd" at 127.0.0.1:`target_port`
// every second, evaluating deploy/prometheus/alerts.yml; stopped by the
// destructor.
class PrometheusProcess {
 public:
  static absl::StatusOr<std::unique_ptr<PrometheusProcess>> Start(
      const ScratchDir& dir, int target_port) {
    DTRUST_ASSIGN_OR_RETURN(const int port, FreeLoopbackPort());
    const std::string config = dir.Path("prometheus.yml");
    if (absl::Status written = testing::WriteTestFile(
            config, absl::StrCat("global: {scrape_interval: 1s, "
                                 "evaluation_interval: 1s}\n"
                                 "rule_files: ['",
                                 DTRUST_SOURCE_DIR,
                                 "/deploy/prometheus/alerts.yml']\n"
                                 "scrape_configs:\n"
                                 "  - job_name: dtrustd\n"
                                 "    static_configs: [{targets: ['127.0.0.1:",
                                 target_port, "']}]\n"));
        !written.ok()) {
      return written;
    }
    const OwnedFd log(open(dir.Path("prometheus.log").c_str(),
                           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    const OwnedFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    absl::StatusOr<pid_t> pid = SpawnProcess(
        {"/usr/bin/prometheus", absl::StrCat("--config.file=", config),
         absl::StrCat("--storage.tsdb.path=", dir.Path("tsdb")),
         absl::StrCat("--web.listen-address=127.0.0.1:", port)},
        null.get(), log.get(), log.get());
    if (!pid.ok()) return pid.status();
    std::unique_ptr<PrometheusProcess> prometheus(
        new PrometheusProcess(*pid, port));
    if (!Eventually([&] { return HttpGet(port, "/-/ready").ok(); }, kPatience,
                    kPoll)) {
      return absl::DeadlineExceededError(
          absl::StrCat("Prometheus did not get ready: ",
                       testing::ReadFileOrEmpty(dir.Path("prometheus.log"))));
    }
    return prometheus;
  }

  ~PrometheusProcess() {
    TerminateProcess(pid_, absl::Seconds(10)).IgnoreError();
  }

  // The value of the one sample `expression` gives now; nullopt if none.
  std::optional<double> Query(const std::string& expression) const {
    absl::StatusOr<std::string> body =
        HttpGet(port_, "/api/v1/query?query=" + PercentEncode(expression));
    if (!body.ok()) return std::nullopt;
    const google::protobuf::Value answer = ParseJson(*body);
    const auto& result = Field(Field(answer, "data"), "result").list_value();
    if (result.values_size() != 1) return std::nullopt;
    double value = 0;
    if (!absl::SimpleAtod(Field(result.values(0), "value")
                              .list_value()
                              .values(1)
                              .string_value(),
                          &value)) {
      return std::nullopt;
    }
    return value;
  }

  // Whether `expression` comes to have the value `expected` within 30 s
  // (a scrape and a rule evaluation every second).
  bool Reaches(const std::string& expression, double expected) const {
    return Eventually([&] { return Query(expression) == expected; }, kPatience,
                      kPoll);
  }

 private:
  PrometheusProcess(pid_t pid, int port) : pid_(pid), port_(port) {}

  const pid_t pid_;
  const int port_;
};

// A policy request at RCPT from `sender`, presenting `cert` if given.
std::string PolicyRequest(const std::string& sender, const TestCert* cert) {
  return absl::StrCat(
      "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=", sender,
      "\nclient_address=127.0.0.1\nclient_name=localhost\ninstance=1.2.",
      sender.size(), "\nencryption_protocol=TLSv1.3\nccert_fingerprint=",
      cert ? Certificate::FromDer(cert->der)->sha256().ToColonHex() : "",
      "\n\n");
}

// The one reply of the Postfix service at `port` to `request` (policy:
// until the empty line; socketmap: one netstring).
std::string Ask(int port, const std::string& request, bool socketmap) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = TestClient::Connect(
      *ParseListenAddress(absl::StrCat("inet:127.0.0.1:", port)));
  if (!client.ok() || !(*client)->Send(request)) return "";
  return socketmap ? (*client)->ReadNetstringData()
                   : (*client)->ReadUntil("\n\n");
}

class PrometheusE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
    for (int* port : {&metrics_port_, &policy_port_, &socketmap_port_}) {
      absl::StatusOr<int> free = FreeLoopbackPort();
      ASSERT_TRUE(free.ok()) << free.status();
      *port = *free;
    }
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
        DtrustdProcess::StartWithLdap(
            *slapd_,
            {"--metrics-listen", absl::StrCat("127.0.0.1:", metrics_port_),
             "--policy-listen", absl::StrCat("inet:127.0.0.1:", policy_port_),
             "--socketmap-listen",
             absl::StrCat("inet:127.0.0.1:", socketmap_port_),
             "--max-staleness", "3s"});
    ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
    dtrustd_ = *std::move(dtrustd);
    absl::StatusOr<std::unique_ptr<PrometheusProcess>> prometheus =
        PrometheusProcess::Start(dir_, metrics_port_);
    ASSERT_TRUE(prometheus.ok()) << prometheus.status();
    prometheus_ = *std::move(prometheus);
  }

  // `dtrust ARGS...` against the dtrustd.
  CommandResult Dtrust(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {DTRUST_BINARY_DIR "/client/dtrust",
                                     "--endpoint", dtrustd_->endpoint()};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(dir_.dir(), argv);
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) return *result;
    CommandResult failed;
    failed.status = -1;
    return failed;
  }

  // Runs `dtrust ARGS...`, failing the test unless it succeeds.
  void DtrustOk(const std::vector<std::string>& args) {
    const CommandResult result = Dtrust(args);
    EXPECT_TRUE(result.ok()) << result.Describe(args.front());
  }

  std::string Metrics() const {
    absl::StatusOr<std::string> text = HttpGet(metrics_port_, "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  // mx1 of org-b.example with a certificate ending in 10 days; org-b on
  // both lists, org-c (nothing published) on the send list.
  void PublishAndList() {
    ASSERT_TRUE(testing::WriteTestFile(mx1_pem_, mx1_.pem).ok());
    ASSERT_TRUE(testing::WriteTestFile(stranger_pem_, stranger_.pem).ok());
    DtrustOk({"publish", "--server", "mx1.org-b.example", "--domain",
              "org-b.example", mx1_pem_});
    DtrustOk({"domain", "add", "org-b.example", "--send", "--receive"});
    DtrustOk({"domain", "add", "org-c.example", "--send"});
  }

  // One trusted and one other verdict in each protocol.
  void AskEveryProtocol() {
    DtrustOk({"verify", mx1_pem_});
    EXPECT_FALSE(Dtrust({"verify", stranger_pem_}).ok());
    EXPECT_THAT(
        Ask(policy_port_, PolicyRequest("a@org-b.example", &mx1_), false),
        HasSubstr("action=PREPEND X-DirectTrust: domain-secured"));
    EXPECT_THAT(
        Ask(policy_port_, PolicyRequest("b@org-b.example", &stranger_), false),
        HasSubstr("action=550 "));
    EXPECT_THAT(
        Ask(socketmap_port_, FormatNetstring("dtrust org-b.example"), true),
        HasSubstr("OK fingerprint match="));
    EXPECT_EQ(
        Ask(socketmap_port_, FormatNetstring("dtrust org-z.example"), true),
        "NOTFOUND ");
  }

  void ExpectVerdictsScraped() const {
    const auto verdicts = [](const std::string& protocol,
                             const std::string& verdict) {
      return absl::StrCat("dtrust_verdicts_total{protocol=\"", protocol,
                          "\",verdict=\"", verdict, "\"}");
    };
    EXPECT_TRUE(prometheus_->Reaches(verdicts("grpc", "trusted"), 1));
    EXPECT_TRUE(prometheus_->Reaches(verdicts("grpc", "not_published"), 1));
    EXPECT_TRUE(prometheus_->Reaches(verdicts("policy", "prepend"), 1));
    EXPECT_TRUE(prometheus_->Reaches(verdicts("policy", "reject"), 1));
    EXPECT_TRUE(prometheus_->Reaches(verdicts("socketmap", "found"), 1));
    EXPECT_TRUE(prometheus_->Reaches(verdicts("socketmap", "not_found"), 1));
    EXPECT_TRUE(prometheus_->Reaches(
        "dtrust_request_duration_seconds_count{protocol=\"grpc\","
        "rpc=\"Verify\"}",
        2));
    EXPECT_TRUE(prometheus_->Reaches(
        "dtrust_connections_opened_total{listener=\"policy\"}", 2));
  }

  // mx1's pin ends within 14 and 30 days, not 7; org-b loses its last pin
  // with it; org-c has none. The shipped rules read these metrics: their
  // alerts are pending.
  void ExpectHygieneScraped() const {
    EXPECT_TRUE(prometheus_->Reaches("dtrust_pins_expiring{within=\"7d\"}", 0));
    EXPECT_TRUE(
        prometheus_->Reaches("dtrust_pins_expiring{within=\"14d\"}", 1));
    EXPECT_TRUE(
        prometheus_->Reaches("dtrust_pins_expiring{within=\"30d\"}", 1));
    EXPECT_TRUE(prometheus_->Reaches(
        "dtrust_secure_domains_last_pin_expiring{within=\"14d\"}", 1));
    EXPECT_TRUE(
        prometheus_->Reaches("dtrust_secure_domains_without_valid_pin", 1));
    EXPECT_TRUE(prometheus_->Reaches(
        "dtrust_secure_domains{list=\"send\",mode=\"enforce\"}", 2));
    EXPECT_TRUE(prometheus_->Reaches("dtrust_mirror_snapshot_age_seconds", 0));
    EXPECT_TRUE(prometheus_->Reaches(
        "count(ALERTS{alertname=\"DtrustPinExpiringSoon\"})", 1));
    EXPECT_TRUE(prometheus_->Reaches(
        "count(ALERTS{alertname=\"DtrustSecureDomainWithoutPin\"})", 1));
  }

  void ExpectPromtoolAccepts() const {
    ASSERT_TRUE(
        testing::WriteTestFile(dir_.Path("metrics.txt"), Metrics()).ok());
    absl::StatusOr<CommandResult> checked = RunCommand(
        dir_.dir(), {"promtool", "check", "metrics"}, dir_.Path("metrics.txt"));
    ASSERT_TRUE(checked.ok()) << checked.status();
    EXPECT_TRUE(checked->ok()) << checked->Describe("promtool check metrics");
  }

  // The directory goes away: past --max-staleness (3 s) answers fail as
  // unavailable, counted by cause; the snapshot ages; LDAP errors rise.
  void ExpectOutageScraped() {
    ASSERT_TRUE(slapd_->Stop().ok());
    ASSERT_TRUE(prometheus_->Reaches("dtrust_serving", 0)) << dtrustd_->Log();
    EXPECT_FALSE(Dtrust({"verify", mx1_pem_}).ok());
    EXPECT_THAT(
        Ask(policy_port_, PolicyRequest("a@org-b.example", &mx1_), false),
        HasSubstr("action=451 "));
    EXPECT_THAT(
        Ask(socketmap_port_, FormatNetstring("dtrust org-b.example"), true),
        HasSubstr("TEMP "));
    for (const char* protocol : {"grpc", "policy", "socketmap"}) {
      EXPECT_TRUE(prometheus_->Reaches(
          absl::StrCat("dtrust_errors_total{protocol=\"", protocol,
                       "\",cause=\"unavailable\"}"),
          1))
          << protocol;
    }
    EXPECT_TRUE(
        prometheus_->Reaches("dtrust_mirror_snapshot_age_seconds > bool 3", 1));
    EXPECT_TRUE(prometheus_->Reaches(
        "dtrust_ldap_errors_total{operation=\"connect\"} > bool 0", 1));
    EXPECT_TRUE(prometheus_->Reaches("dtrust_directory_connected", 0));
  }

  ScratchDir dir_;
  const TestCert mx1_ =
      MakeTestCert({.common_name = "mx1.org-b.example",
                    .not_after = absl::Now() + absl::Hours(24 * 10)});
  const TestCert stranger_ = MakeTestCert({.common_name = "mx9.org-b.example"});
  const std::string mx1_pem_ = dir_.Path("mx1.pem");
  const std::string stranger_pem_ = dir_.Path("stranger.pem");
  std::unique_ptr<SlapdFixture> slapd_;
  int metrics_port_ = 0;
  int policy_port_ = 0;
  int socketmap_port_ = 0;
  std::unique_ptr<DtrustdProcess> dtrustd_;
  std::unique_ptr<PrometheusProcess> prometheus_;
};

TEST_F(PrometheusE2eTest, VerdictsHygieneAndAnOutageAsPrometheusSeesThem) {
  ASSERT_TRUE(prometheus_->Reaches("up{job=\"dtrustd\"}", 1));
  ASSERT_TRUE(prometheus_->Reaches("dtrust_serving", 1)) << dtrustd_->Log();
  EXPECT_TRUE(prometheus_->Reaches("count(dtrust_build_info)", 1));
  PublishAndList();
  AskEveryProtocol();
  ExpectVerdictsScraped();
  ExpectHygieneScraped();
  ExpectPromtoolAccepts();
  ExpectOutageScraped();
}

}  // namespace
}  // namespace dtrust
