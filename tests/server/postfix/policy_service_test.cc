// The policy delegation service over real sockets, with the real core over
// an in-memory directory.
#include "server/postfix/policy_service.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/core/clock.h"
#include "server/core/inbound_policy.h"
#include "server/core/trust_service.h"
#include "server/postfix/stream_server.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/fake_metrics.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::FakeClock;
using ::dtrust::testing::LinesWith;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::OnlyLineWith;
using ::dtrust::testing::StderrDuring;
using ::dtrust::testing::TempDir;
using ::dtrust::testing::TestCert;
using ::dtrust::testing::TestClient;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kOrgB[] = "org-b.example";
constexpr char kMx1[] = "mx1.org-b.example";
constexpr char kDunno[] = "action=DUNNO\n\n";

std::string Sha256Colon(const TestCert& cert) {
  return Certificate::FromDer(cert.der)->sha256().ToColonHex();
}
std::string SpkiColon(const TestCert& cert) {
  return Certificate::FromDer(cert.der)->spki_sha256().ToColonHex();
}

struct Rcpt {
  std::string sender = "alice@org-b.example";
  const TestCert* cert = nullptr;  // Presented client certificate.
  bool tls = true;
  std::string instance = "a1b2.6553a1b2.7c0d.0";
  std::string recipient = "bob@org-a.example";
  std::string protocol_state = "RCPT";
  std::string helo = "mx1.org-b.example";
};

// A request as Postfix 3.7 (compatibility_level 3.7) sends it.
std::string Request(const Rcpt& rcpt) {
  return absl::StrCat(
      "request=smtpd_access_policy\n"
      "protocol_state=",
      rcpt.protocol_state,
      "\nprotocol_name=ESMTP\n"
      "client_address=127.0.0.1\n"
      "client_name=localhost\n"
      "reverse_client_name=localhost\n"
      "helo_name=",
      rcpt.helo, "\nsender=", rcpt.sender, "\nrecipient=", rcpt.recipient,
      "\nrecipient_count=0\n"
      "queue_id=\n"
      "instance=",
      rcpt.instance,
      "\nsize=0\n"
      "etrn_domain=\n"
      "stress=\n"
      "sasl_method=\n"
      "sasl_username=\n"
      "sasl_sender=\n"
      "ccert_subject=\n"
      "ccert_issuer=\n"
      "ccert_fingerprint=",
      rcpt.cert ? Sha256Colon(*rcpt.cert) : "",
      "\nccert_pubkey_fingerprint=", rcpt.cert ? SpkiColon(*rcpt.cert) : "",
      "\nencryption_protocol=", rcpt.tls ? "TLSv1.3" : "",
      "\nencryption_cipher=", rcpt.tls ? "TLS_AES_256_GCM_SHA384" : "",
      "\nencryption_keysize=", rcpt.tls ? "256" : "0",
      "\npolicy_context=\n"
      "server_address=127.0.0.1\n"
      "server_port=2525\n"
      "compatibility_level=3.7\n"
      "mail_version=3.7.11\n"
      "\n");
}

class PolicyServiceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(trust_
                    .Publish({.server = kMx1,
                              .domains = {kOrgB},
                              .certificate_der = mx1_.der})
                    .ok());
    SetReceive(kOrgB, SecureMode::kEnforce);
    // Parameter: unix socket (true) or loopback TCP (false).
    const std::string address =
        GetParam() ? absl::StrCat("unix:", dir_.path(), "/policy.sock")
                   : "inet:127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<StreamServer>> server = StreamServer::Start(
        *ParseListenAddress(address),
        {.name = "policy", .idle_timeout = kPolicyIdleTimeout},
        [this](absl::string_view peer) { return service_.NewSession(peer); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void SetReceive(const std::string& domain, SecureMode mode) {
    ASSERT_TRUE(
        directory_.PutDomainPolicy({.domain = domain, .receive = mode}).ok());
  }

  std::unique_ptr<TestClient> Connect() {
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect(server_->address());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Sends one request on a new connection and returns the reply.
  std::string Ask(const Rcpt& rcpt) {
    std::unique_ptr<TestClient> client = Connect();
    if (client == nullptr || !client->Send(Request(rcpt))) return "";
    return client->ReadUntil("\n\n");
  }

  const TestCert mx1_ = MakeTestCert({.common_name = kMx1});
  testing::FakeDirectory directory_;
  TrustService trust_{&directory_, Clock::Real()};
  InboundPolicy inbound_{&directory_, &trust_};
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  PolicyService service_{&inbound_, &clock_};
  TempDir dir_;
  std::unique_ptr<StreamServer> server_;  // Stopped before the rest goes.
};

TEST_P(PolicyServiceTest, DomainSecuredOncePerMessageHoweverManyRecipients) {
  std::unique_ptr<TestClient> postfix = Connect();
  ASSERT_NE(postfix, nullptr);
  Rcpt rcpt{.cert = &mx1_, .instance = "msg.1"};
  std::string three;
  for (const char* recipient :
       {"a@org-a.example", "b@org-a.example", "c@org-a.example"}) {
    rcpt.recipient = recipient;
    three += Request(rcpt);
  }
  ASSERT_TRUE(postfix->Send(three));  // Pipelined, as one write.
  EXPECT_EQ(
      postfix->ReadUntil("\n\n"),
      absl::StrCat("action=PREPEND X-DirectTrust: domain-secured; "
                   "domain=org-b.example; server=mx1.org-b.example; "
                   "cert-sha256=",
                   Certificate::FromDer(mx1_.der)->sha256().ToHex(), "\n\n"));
  EXPECT_EQ(postfix->ReadUntil("\n\n"), kDunno);
  EXPECT_EQ(postfix->ReadUntil("\n\n"), kDunno);

  // The next message on the same connection gets its own header.
  rcpt.instance = "msg.2";
  ASSERT_TRUE(postfix->Send(Request(rcpt)));
  EXPECT_THAT(postfix->ReadUntil("\n\n"),
              StartsWith("action=PREPEND X-DirectTrust: domain-secured;"));
}

TEST_P(PolicyServiceTest, EnforcedDomainRejectsNamingTheReason) {
  const TestCert stranger = MakeTestCert({.common_name = kMx1});
  EXPECT_THAT(Ask({.cert = &stranger}),
              StartsWith("action=550 5.7.1 dtrust: org-b.example requires "
                         "domain-secured mail: client certificate is not "
                         "published\n\n"));
  EXPECT_THAT(Ask({}), StartsWith("action=550 5.7.1 "));
  EXPECT_THAT(Ask({}), HasSubstr("no client certificate"));
  EXPECT_THAT(Ask({.cert = &mx1_, .tls = false}), HasSubstr("no TLS"));
}

TEST_P(PolicyServiceTest, TestingModeLetsMailThroughWithAHeader) {
  SetReceive(kOrgB, SecureMode::kTesting);
  EXPECT_THAT(Ask({}), StartsWith("action=PREPEND X-DirectTrust: testing; "
                                  "domain=org-b.example; result=fail"));
}

TEST_P(PolicyServiceTest, OtherDomainsAndBouncesAreNotOurs) {
  EXPECT_EQ(Ask({.sender = "carol@org-c.example"}), kDunno);
  EXPECT_EQ(Ask({.sender = ""}), kDunno);
}

TEST_P(PolicyServiceTest, EachDecisionIsCountedByVerdict) {
  testing::FakeMetrics metrics;
  const TestCert stranger = MakeTestCert({.common_name = kMx1});
  EXPECT_THAT(Ask({.cert = &mx1_}), StartsWith("action=PREPEND "));
  EXPECT_THAT(Ask({.cert = &stranger}), StartsWith("action=550 "));
  EXPECT_EQ(Ask({.sender = "carol@org-c.example"}), kDunno);
  directory_.SetUnavailable(true);
  EXPECT_THAT(Ask({.cert = &mx1_}), StartsWith("action=451 "));
  EXPECT_EQ(metrics.Count("verdict policy prepend"), 1);
  EXPECT_EQ(metrics.Count("verdict policy reject"), 1);
  EXPECT_EQ(metrics.Count("verdict policy dunno"), 1);
  EXPECT_EQ(metrics.Count("verdict policy defer"), 1);
  EXPECT_EQ(metrics.Count("error policy unavailable"), 1);
  EXPECT_EQ(metrics.Count("request policy policy"), 4);
}

TEST_P(PolicyServiceTest, DirectoryDownDefersNeverAccepts) {
  directory_.SetUnavailable(true);
  EXPECT_THAT(Ask({.cert = &mx1_}), StartsWith("action=451 4.3.0 "));
  EXPECT_THAT(Ask({.sender = "carol@org-c.example"}),
              StartsWith("action=451 4.3.0 "));
}

TEST_P(PolicyServiceTest, Md5FingerprintsCountAsNoCertificate) {
  // What Postfix sends below compatibility_level 3.6.
  std::string request = Request({.cert = &mx1_});
  const std::string sha256 = Sha256Colon(mx1_);
  request.replace(request.find(sha256), sha256.size(),
                  "D4:1D:8C:D9:8F:00:B2:04:E9:80:09:98:EC:F8:42:7E");
  const std::string spki = SpkiColon(mx1_);
  request.replace(request.find(spki), spki.size(),
                  "0C:C1:75:B9:C0:F1:B6:A8:31:C3:99:E2:69:77:26:61");
  std::unique_ptr<TestClient> client = Connect();
  ASSERT_TRUE(client->Send(request));
  EXPECT_THAT(client->ReadUntil("\n\n"), HasSubstr("no client certificate"));
}

TEST_P(PolicyServiceTest, NoHeaderAtEndOfMessageWherePostfixCannotAddIt) {
  EXPECT_EQ(Ask({.cert = &mx1_, .protocol_state = "END-OF-MESSAGE"}), kDunno);
  // Refusals still work there.
  EXPECT_THAT(Ask({.protocol_state = "END-OF-MESSAGE"}),
              StartsWith("action=550 5.7.1 "));
}

TEST_P(PolicyServiceTest, JunkClientIsDroppedOthersKeepWorking) {
  std::unique_ptr<TestClient> good = Connect();
  std::unique_ptr<TestClient> junk = Connect();
  ASSERT_TRUE(good && junk);
  ASSERT_TRUE(good->Send(Request({.cert = &mx1_})));
  EXPECT_THAT(good->ReadUntil("\n\n"), StartsWith("action=PREPEND"));
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>(i * 7));
  junk->Send(binary);
  EXPECT_TRUE(junk->WaitClosed());
  ASSERT_TRUE(good->Send(Request({.cert = &mx1_, .instance = "next"})));
  EXPECT_THAT(good->ReadUntil("\n\n"), StartsWith("action=PREPEND"));
}

TEST_P(PolicyServiceTest, ThousandAttributesCloseTheConnection) {
  std::unique_ptr<TestClient> client = Connect();
  std::string request = "request=smtpd_access_policy\n";
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&request, "x", i, "=1\n");
  client->Send(request + "\n");
  EXPECT_TRUE(client->WaitClosed());
}

TEST_P(PolicyServiceTest, RequestsThatAreNotAccessPolicyCloseTheConnection) {
  std::unique_ptr<TestClient> client = Connect();
  ASSERT_TRUE(client->Send("sender=alice@org-b.example\n\n"));
  EXPECT_TRUE(client->WaitClosed());
}

TEST_P(PolicyServiceTest, TenMegabyteLineIsClosedWithBoundedMemory) {
  std::unique_ptr<TestClient> client = Connect();
  const std::string chunk(64 * 1024, 'x');
  const int64_t before = testing::CurrentRssBytes();
  testing::ResetPeakRss();
  client->Send("request=smtpd_access_policy\nsender=");
  for (int sent = 0; sent < 10 * 1024 * 1024; sent += chunk.size()) {
    if (!client->Send(chunk)) break;  // Closed early, as it should.
  }
  EXPECT_TRUE(client->WaitClosed());
  // The server held at most a line's limit, not the 10 MB.
  EXPECT_LT(testing::PeakRssBytes() - before, 4 * 1024 * 1024);
}

TEST_P(PolicyServiceTest, DecisionLinesAreLimitedPerSecondThenCounted) {
  std::unique_ptr<TestClient> client = Connect();
  ASSERT_NE(client, nullptr);
  std::string requests;
  for (int i = 0; i < 25; ++i) {
    requests += Request({.instance = absl::StrCat("flood.", i)});
  }
  std::string log = StderrDuring([&] {
    ASSERT_TRUE(client->Send(requests));
    for (int i = 0; i < 25; ++i) {
      EXPECT_THAT(client->ReadUntil("\n\n"), StartsWith("action=550 ")) << i;
    }
    // Deferrals are another kind, with their own allowance.
    directory_.SetUnavailable(true);
    ASSERT_TRUE(client->Send(Request({})));
    EXPECT_THAT(client->ReadUntil("\n\n"), StartsWith("action=451 "));
    directory_.SetUnavailable(false);
  });
  EXPECT_THAT(LinesWith(log, "inbound: rejected"), SizeIs(20)) << log;
  EXPECT_THAT(LinesWith(log, "inbound: deferred"), SizeIs(1)) << log;

  clock_.Set(clock_.Now() + absl::Seconds(1));
  log = StderrDuring([&] {
    ASSERT_TRUE(client->Send(Request({.instance = "after"})));
    EXPECT_THAT(client->ReadUntil("\n\n"), StartsWith("action=550 "));
  });
  EXPECT_THAT(OnlyLineWith(log, "inbound: rejected"),
              EndsWith("(5 more such lines suppressed before this one, over "
                       "20/s)"));
}

TEST_P(PolicyServiceTest, ClientTextCannotForgeALogLine) {
  // Postfix passes the HELO name on as the client sent it; the parser
  // refuses ASCII controls, but not a C1 NEL or bytes that are not UTF-8.
  const std::string forged = "2001-01-01T00:00:00.000Z INFO Publish by root";
  const std::string log = StderrDuring([&] {
    EXPECT_THAT(Ask({.helo = "mx1\xc2\x85" + forged + "\xff"}),
                StartsWith("action=550 "));
  });
  EXPECT_THAT(OnlyLineWith(log, "Publish by root"),
              HasSubstr("inbound: rejected mail from org-b.example by "
                        "localhost[127.0.0.1] (helo mx1\\u0085" +
                        forged + "\\xff)"));
  EXPECT_THAT(log, Not(HasSubstr("\xc2\x85")));
  EXPECT_EQ(log.find('\n'), log.size() - 1) << log;
}

INSTANTIATE_TEST_SUITE_P(UnixAndTcp, PolicyServiceTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Unix" : "Tcp";
                         });

}  // namespace
}  // namespace dtrust
