// The socketmap service over real sockets, with the real core over an
// in-memory directory, and queried by Postfix's own postmap when installed.
#include "server/postfix/socketmap_service.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/core/clock.h"
#include "server/core/outbound_policy.h"
#include "server/core/trust_service.h"
#include "server/postfix/socketmap_protocol.h"
#include "server/postfix/stream_server.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/fake_metrics.h"
#include "tests/testing/run_command.h"
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
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kOrgB[] = "org-b.example";
constexpr char kMx1[] = "mx1.org-b.example";
constexpr char kMapName[] = "dtrust";
constexpr char kPostmap[] = "/usr/sbin/postmap";

class SocketmapServiceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(trust_
                    .Publish({.server = kMx1,
                              .domains = {kOrgB},
                              .certificate_der = mx1_.der})
                    .ok());
    ASSERT_TRUE(
        directory_
            .PutDomainPolicy({.domain = kOrgB, .send = SecureMode::kEnforce})
            .ok());
    // Parameter: unix socket (true) or loopback TCP (false).
    const std::string address =
        GetParam() ? absl::StrCat("unix:", dir_.path(), "/socketmap.sock")
                   : "inet:127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<StreamServer>> server = StreamServer::Start(
        *ParseListenAddress(address),
        {.name = "socketmap", .idle_timeout = kSocketmapIdleTimeout},
        [this](absl::string_view peer) { return service_.NewSession(peer); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<TestClient> Connect() {
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect(server_->address());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Looks `key` up under map `name` on a new connection.
  std::string Lookup(const std::string& key,
                     const std::string& name = kMapName) {
    std::unique_ptr<TestClient> client = Connect();
    if (client == nullptr ||
        !client->Send(FormatNetstring(absl::StrCat(name, " ", key)))) {
      return "";
    }
    return client->ReadNetstringData();
  }

  std::string Mx1Pin() const {
    return Certificate::FromDer(mx1_.der)->sha256().ToColonHex();
  }

  const TestCert mx1_ = MakeTestCert({.common_name = kMx1});
  testing::FakeDirectory directory_;
  TrustService trust_{&directory_, Clock::Real()};
  OutboundPolicy outbound_{&directory_, Clock::Real()};
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  SocketmapService service_{&outbound_, kMapName, &clock_};
  TempDir dir_;
  std::unique_ptr<StreamServer> server_;  // Stopped before the rest goes.
};

TEST_P(SocketmapServiceTest, SendSecureDomainGetsItsPins) {
  EXPECT_EQ(Lookup(kOrgB), absl::StrCat("OK fingerprint match=", Mx1Pin()));
  EXPECT_EQ(Lookup("[mx1.org-b.example]:25"),
            absl::StrCat("OK fingerprint match=", Mx1Pin()));
}

TEST_P(SocketmapServiceTest, UnlistedAndParentKeysAreNotFound) {
  EXPECT_EQ(Lookup("org-c.example"), "NOTFOUND ");
  EXPECT_EQ(Lookup(".org-b.example"), "NOTFOUND ");
  EXPECT_EQ(Lookup("[127.0.0.1]:2526"), "NOTFOUND ");
}

TEST_P(SocketmapServiceTest, DirectoryDownIsTemporary) {
  directory_.SetUnavailable(true);
  EXPECT_THAT(Lookup(kOrgB), StartsWith("TEMP "));
  EXPECT_THAT(Lookup("org-c.example"), StartsWith("TEMP "));
}

TEST_P(SocketmapServiceTest, EachAnswerIsCountedByVerdict) {
  testing::FakeMetrics metrics;
  EXPECT_THAT(Lookup(kOrgB), StartsWith("OK "));
  EXPECT_EQ(Lookup("org-c.example"), "NOTFOUND ");
  directory_.SetUnavailable(true);
  EXPECT_THAT(Lookup(kOrgB), StartsWith("TEMP "));
  EXPECT_EQ(metrics.Count("verdict socketmap found"), 1);
  EXPECT_EQ(metrics.Count("verdict socketmap not_found"), 1);
  EXPECT_EQ(metrics.Count("verdict socketmap temp_fail"), 1);
  EXPECT_EQ(metrics.Count("error socketmap unavailable"), 1);
  EXPECT_EQ(metrics.Count("request socketmap socketmap"), 3);
}

TEST_P(SocketmapServiceTest, NothingValidPublishedIsTemporary) {
  ASSERT_TRUE(directory_
                  .PutDomainPolicy(
                      {.domain = "org-d.example", .send = SecureMode::kEnforce})
                  .ok());
  EXPECT_THAT(Lookup("org-d.example"),
              StartsWith("TEMP dtrust: org-d.example is send-secure but no "
                         "valid certificate is published"));
}

TEST_P(SocketmapServiceTest, PipelinedRequestsAreAnsweredInOrder) {
  std::unique_ptr<TestClient> client = Connect();
  ASSERT_TRUE(
      client->Send(absl::StrCat(FormatNetstring("dtrust org-c.example"),
                                FormatNetstring("dtrust org-b.example"),
                                FormatNetstring("other org-b.example"),
                                FormatNetstring("dtrust .org-b.example"))));
  EXPECT_EQ(client->ReadNetstringData(), "NOTFOUND ");
  EXPECT_EQ(client->ReadNetstringData(),
            absl::StrCat("OK fingerprint match=", Mx1Pin()));
  EXPECT_EQ(client->ReadNetstringData(), "PERM unknown map other");
  EXPECT_EQ(client->ReadNetstringData(), "NOTFOUND ");
  // Postfix keeps the connection for the next lookups.
  ASSERT_TRUE(client->Send(FormatNetstring("dtrust org-b.example")));
  EXPECT_THAT(client->ReadNetstringData(), StartsWith("OK "));
}

TEST_P(SocketmapServiceTest, RequestWithoutNameAndKeyIsPermanentError) {
  testing::FakeMetrics metrics;
  std::unique_ptr<TestClient> client = Connect();
  ASSERT_TRUE(client->Send(FormatNetstring("org-b.example")));
  EXPECT_EQ(client->ReadNetstringData(),
            "PERM dtrust: request is not \"NAME KEY\"");
  // The framing was fine: the connection goes on.
  ASSERT_TRUE(client->Send(FormatNetstring("dtrust org-c.example")));
  EXPECT_EQ(client->ReadNetstringData(), "NOTFOUND ");
  EXPECT_EQ(metrics.Count("verdict socketmap perm_fail"), 1);
  EXPECT_EQ(metrics.Count("error socketmap invalid_argument"), 1);
}

TEST_P(SocketmapServiceTest, BadNetstringClosesOnlyThatConnection) {
  std::unique_ptr<TestClient> good = Connect();
  std::unique_ptr<TestClient> bad = Connect();
  ASSERT_TRUE(good && bad);
  ASSERT_TRUE(bad->Send(absl::StrCat(FormatNetstring("dtrust org-c.example"),
                                     "12:dtrust x.example;")));
  EXPECT_EQ(bad->ReadNetstringData(), "NOTFOUND ");  // Before the bad one.
  EXPECT_TRUE(bad->WaitClosed());
  std::unique_ptr<TestClient> huge = Connect();
  huge->Send("100001:");
  EXPECT_TRUE(huge->WaitClosed());
  ASSERT_TRUE(good->Send(FormatNetstring("dtrust org-b.example")));
  EXPECT_THAT(good->ReadNetstringData(), StartsWith("OK "));
}

TEST_P(SocketmapServiceTest, AnswerOverPostfixsLimitIsTemporary) {
  // 1100 key pins: about 105,000 bytes of fingerprints.
  ASSERT_TRUE(directory_.CreateServer("mx2.org-b.example", {kOrgB}).ok());
  for (int i = 0; i < 1100; ++i) {
    PinRecord pin;
    pin.cert_sha256 = Sha256Digest::Of(absl::StrCat("cert", i));
    pin.spki_sha256 = Sha256Digest::Of(absl::StrCat("key", i));
    pin.kind = PinKind::kPublicKey;
    pin.not_before = absl::Now() - absl::Hours(1);
    pin.not_after = absl::Now() + absl::Hours(1);
    ASSERT_TRUE(directory_.AddPin("mx2.org-b.example", pin).ok());
  }
  const std::string reply = Lookup(kOrgB);
  EXPECT_THAT(reply, StartsWith("TEMP dtrust: the policy is "));
  EXPECT_THAT(reply, HasSubstr("over the socketmap limit of 100000"));
}

// Runs `command` through the shell, its stderr merged into its stdout.
testing::CommandResult RunShellCommand(const std::string& command) {
  absl::StatusOr<testing::CommandResult> result =
      testing::RunCommand("/tmp", {"/bin/sh", "-c", command + " 2>&1"});
  EXPECT_TRUE(result.ok()) << result.status();
  return result.value_or(testing::CommandResult());
}

TEST_P(SocketmapServiceTest, RealPostmapGetsTheAnswers) {
  if (access(kPostmap, X_OK) != 0) {
    GTEST_SKIP() << kPostmap << " is missing: install Postfix "
                 << "(deploy/install-deps.sh) to run this test";
  }
  // A private config directory: compatibility_level 3.7 is all postmap needs.
  const std::string main_cf = dir_.path() + "/main.cf";
  std::ofstream(main_cf) << "compatibility_level = 3.7\n";
  // Postfix waits until main.cf is a few seconds old; make it so.
  std::filesystem::last_write_time(
      main_cf,
      std::filesystem::file_time_type::clock::now() - std::chrono::seconds(10));
  const ListenAddress& address = server_->address();
  const std::string table =
      absl::StrCat("socketmap:",
                   address.kind == ListenAddress::Kind::kUnix
                       ? absl::StrCat("unix:", address.path)
                       : absl::StrCat("inet:", address.host, ":", address.port),
                   ":", kMapName);
  const auto postmap = [&](const std::string& key) {
    return RunShellCommand(
        absl::StrCat(kPostmap, " -c ", dir_.path(), " -q '", key, "' ", table));
  };
  testing::CommandResult listed = postmap(kOrgB);
  EXPECT_EQ(listed.exit_code(), 0) << listed.out;
  EXPECT_EQ(listed.out, absl::StrCat("fingerprint match=", Mx1Pin(), "\n"));

  testing::CommandResult unlisted = postmap("org-c.example");
  EXPECT_EQ(unlisted.exit_code(), 1) << unlisted.out;
  EXPECT_EQ(unlisted.out, "");
  testing::CommandResult parent = postmap(".org-b.example");
  EXPECT_EQ(parent.exit_code(), 1) << parent.out;

  directory_.SetUnavailable(true);
  testing::CommandResult down = postmap(kOrgB);
  EXPECT_NE(down.exit_code(), 0) << down.out;
  EXPECT_THAT(down.out, HasSubstr("directory unavailable"));
}

TEST_P(SocketmapServiceTest, AnswerAndFailureLinesAreLimitedApart) {
  std::unique_ptr<TestClient> client = Connect();
  ASSERT_NE(client, nullptr);
  std::string requests;
  for (int i = 0; i < 25; ++i) {
    absl::StrAppend(&requests, FormatNetstring("dtrust org-b.example"),
                    FormatNetstring("other org-b.example"),
                    FormatNetstring("no-key"));
  }
  std::string log = StderrDuring([&] {
    ASSERT_TRUE(client->Send(requests));
    for (int i = 0; i < 25; ++i) {
      EXPECT_THAT(client->ReadNetstringData(), StartsWith("OK ")) << i;
      EXPECT_EQ(client->ReadNetstringData(), "PERM unknown map other") << i;
      EXPECT_THAT(client->ReadNetstringData(), StartsWith("PERM ")) << i;
    }
  });
  EXPECT_THAT(LinesWith(log, "is send-secure, pinned"), SizeIs(20)) << log;
  // Unknown maps and requests without a key share one allowance.
  EXPECT_EQ(LinesWith(log, "unknown map").size() +
                LinesWith(log, "is not \"NAME KEY\"").size(),
            20)
      << log;

  clock_.Set(clock_.Now() + absl::Seconds(1));
  log = StderrDuring([&] { EXPECT_THAT(Lookup(kOrgB), StartsWith("OK ")); });
  EXPECT_THAT(OnlyLineWith(log, "send-secure"),
              EndsWith(" (5 more such lines suppressed before this one, over "
                       "20/s)"));
}

TEST_P(SocketmapServiceTest, AKeyWithALineBreakStaysOnOneLogLine) {
  // The host in brackets is all the policy looks at; the log shows the
  // whole key.
  const std::string key =
      "[org-b.example]\r\n2001-01-01t00:00:00.000z info publish by root";
  const std::string log =
      StderrDuring([&] { EXPECT_THAT(Lookup(key), StartsWith("OK ")); });
  EXPECT_EQ(log.find('\n'), log.size() - 1) << log;
  EXPECT_THAT(log, HasSubstr(" INFO outbound: [org-b.example]\\r\\n2001-01-01t"
                             "00:00:00.000z info publish by root: "
                             "org-b.example is send-secure"));
}

INSTANTIATE_TEST_SUITE_P(UnixAndTcp, SocketmapServiceTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Unix" : "Tcp";
                         });

}  // namespace
}  // namespace dtrust
