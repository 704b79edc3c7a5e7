// dtrustd's wiring of the Postfix services: the real binary with its
// embedded directory, --policy-listen / --socketmap-listen / --socketmap-name.
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/postfix/listen_address.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/run_command.h"

namespace dtrust {
namespace {

using ::dtrust::testing::CommandResult;
using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::Eventually;
using ::dtrust::testing::LinesWith;
using ::dtrust::testing::RunCommand;
using ::dtrust::testing::TempDir;
using ::dtrust::testing::TestClient;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// The TCP address dtrustd logged for `service` ("policy", "socketmap").
absl::StatusOr<ListenAddress> LoggedInetAddress(const std::string& log,
                                                const std::string& service) {
  const std::string prefix =
      absl::StrCat(service, " service listening on inet:127.0.0.1:");
  const size_t at = log.find(prefix);
  if (at == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("no \"", prefix, "\" in the log"));
  }
  const size_t start = at + prefix.size();
  const std::string port = log.substr(start, log.find('\n', start) - start);
  return ParseListenAddress(absl::StrCat("inet:127.0.0.1:", port));
}

std::string PolicyRequest(const std::string& sender) {
  return absl::StrCat("request=smtpd_access_policy\nprotocol_state=RCPT\n",
                      "sender=", sender,
                      "\nclient_address=127.0.0.1\nclient_name=localhost\n"
                      "instance=1.2.3\nencryption_protocol=\n\n");
}

TEST(DtrustdPostfixTest, ServesBothProtocolsAndCleansUpOnSigterm) {
  TempDir dir;
  const std::string policy_sock = dir.path() + "/policy.sock";
  const std::string socketmap_sock = dir.path() + "/socketmap.sock";
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start(
          {"--data-dir", dir.path() + "/data", "--policy-listen",
           "unix:" + policy_sock, "--policy-listen", "inet:127.0.0.1:0",
           "--socketmap-listen", "unix:" + socketmap_sock, "--socketmap-listen",
           "inet:127.0.0.1:0", "--socketmap-name", "dtrust"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string log = (*dtrustd)->Log();
  EXPECT_THAT(log,
              HasSubstr("policy service listening on unix:" + policy_sock));
  EXPECT_THAT(
      log, HasSubstr("socketmap service listening on unix:" + socketmap_sock));

  // Policy delegation, on the unix socket and on the kernel-chosen port.
  // "dtrustd ready" comes after the mirror's first load: the first answer
  // is already the real one, not a deferral.
  absl::StatusOr<ListenAddress> policy_tcp = LoggedInetAddress(log, "policy");
  ASSERT_TRUE(policy_tcp.ok()) << policy_tcp.status() << log;
  for (const ListenAddress& address :
       {*ParseListenAddress("unix:" + policy_sock), *policy_tcp}) {
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect(address);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE((*client)->Send(PolicyRequest("alice@org-c.example")));
    EXPECT_EQ((*client)->ReadUntil("\n\n"), "action=DUNNO\n\n")
        << address.ToString();
  }

  // Socketmap, both sockets; only the configured map name.
  absl::StatusOr<ListenAddress> socketmap_tcp =
      LoggedInetAddress(log, "socketmap");
  ASSERT_TRUE(socketmap_tcp.ok()) << socketmap_tcp.status() << log;
  for (const ListenAddress& address :
       {*ParseListenAddress("unix:" + socketmap_sock), *socketmap_tcp}) {
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect(address);
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_TRUE(
        (*client)->Send(absl::StrCat(FormatNetstring("dtrust org-c.example"),
                                     FormatNetstring("other org-c.example"))));
    EXPECT_EQ((*client)->ReadNetstringData(), "NOTFOUND ");
    EXPECT_EQ((*client)->ReadNetstringData(), "PERM unknown map other");
  }

  // An idle Postfix connection does not hold up the shutdown.
  absl::StatusOr<std::unique_ptr<TestClient>> idle =
      TestClient::Connect(*ParseListenAddress("unix:" + policy_sock));
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
  EXPECT_TRUE((*idle)->WaitClosed());
  EXPECT_NE(access(policy_sock.c_str(), F_OK), 0);
  EXPECT_NE(access(socketmap_sock.c_str(), F_OK), 0);
}

TEST(DtrustdPostfixTest, AddressInUseStopsTheStart) {
  TempDir dir;
  const std::string policy_sock = dir.path() + "/policy.sock";
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> first =
      DtrustdProcess::Start({"--data-dir", dir.path() + "/data1",
                             "--policy-listen", "unix:" + policy_sock});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> second =
      DtrustdProcess::Start({"--data-dir", dir.path() + "/data2",
                             "--policy-listen", "unix:" + policy_sock});
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr("cannot serve policy: unix:" + policy_sock +
                        ": a server is already listening there"));
  // The first one still serves.
  absl::StatusOr<std::unique_ptr<TestClient>> client =
      TestClient::Connect(*ParseListenAddress("unix:" + policy_sock));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Send(PolicyRequest("")));
  EXPECT_EQ((*client)->ReadUntil("\n\n"), "action=DUNNO\n\n");
}

// A line that looks like one of dtrustd's own, for clients to smuggle in.
constexpr char kForgedLine[] = "1999-12-31T23:59:59.000Z INFO Publish by root";

// A connection to `address`, or null (a test failure).
std::unique_ptr<TestClient> ConnectTo(const ListenAddress& address) {
  absl::StatusOr<std::unique_ptr<TestClient>> client =
      TestClient::Connect(address);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// The answer to one socketmap lookup of `key` in map "dtrust".
std::string Lookup(const ListenAddress& address, absl::string_view key) {
  std::unique_ptr<TestClient> client = ConnectTo(address);
  if (client == nullptr ||
      !client->Send(FormatNetstring(absl::StrCat("dtrust ", key)))) {
    return "";
  }
  return client->ReadNetstringData();
}

// dtrustd (embedded directory) serving policy on `policy` and socketmap on
// `socketmap` (unix sockets in `dir`), with org-b.example, for which no
// certificate is published, on the send and receive lists; null (a test
// failure) if it cannot be set up.
std::unique_ptr<DtrustdProcess> StartWithOrgBListed(
    const TempDir& dir, const ListenAddress& policy,
    const ListenAddress& socketmap) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start({"--data-dir", dir.path() + "/data",
                             "--policy-listen", policy.ToString(),
                             "--socketmap-listen", socketmap.ToString(),
                             "--socketmap-name", "dtrust"});
  EXPECT_TRUE(dtrustd.ok()) << dtrustd.status();
  if (!dtrustd.ok()) return nullptr;
  absl::StatusOr<CommandResult> added =
      RunCommand(dir.path(), {DTRUST_BINARY_DIR "/client/dtrust", "--endpoint",
                              (*dtrustd)->endpoint(), "domain", "add",
                              "org-b.example", "--send", "--receive"});
  if (!added.ok() || !added->ok()) {
    ADD_FAILURE() << (added.ok() ? added->Describe("dtrust domain add")
                                 : added.status().ToString());
    return nullptr;
  }
  if (!Eventually([&] {
        return absl::StartsWith(Lookup(socketmap, "org-b.example"), "TEMP ");
      })) {
    ADD_FAILURE() << "org-b.example never became send-secure: "
                  << (*dtrustd)->Log();
    return nullptr;
  }
  return *std::move(dtrustd);
}

class DtrustdPostfixListedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dtrustd_ = StartWithOrgBListed(dir_, policy_, socketmap_);
    ASSERT_NE(dtrustd_, nullptr);
  }

  TempDir dir_;
  const ListenAddress policy_ =
      *ParseListenAddress("unix:" + dir_.path() + "/p");
  const ListenAddress socketmap_ =
      *ParseListenAddress("unix:" + dir_.path() + "/s");
  std::unique_ptr<DtrustdProcess> dtrustd_;
};

TEST_F(DtrustdPostfixListedTest, ClientTextNeverForgesALogLine) {
  // A next-hop key with CR LF: the policy looks at the bracketed host only
  // (TEMP: nothing is published for it), the log line shows the whole key.
  EXPECT_THAT(
      Lookup(socketmap_, absl::StrCat("[org-b.example]\r\n", kForgedLine)),
      ::testing::StartsWith("TEMP "));
  // A HELO name with a C1 NEL and a byte that is not UTF-8, which the
  // policy protocol passes on: rejected (org-b.example's mail without TLS).
  std::unique_ptr<TestClient> client = ConnectTo(policy_);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(absl::StrCat(
      "request=smtpd_access_policy\nprotocol_state=RCPT\nhelo_name=mx\xc2\x85",
      kForgedLine,
      "\xff\nsender=a@org-b.example\nclient_address=127.0.0.1\n"
      "encryption_protocol=\n\n")));
  EXPECT_THAT(client->ReadUntil("\n\n"), ::testing::StartsWith("action=550 "));
  // CR or LF inside a value: malformed, the connection is closed.
  for (const char* breaker : {"\r", "\n"}) {
    client = ConnectTo(policy_);
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Send(
        absl::StrCat("request=smtpd_access_policy\nsender=a@org-b.example",
                     breaker, kForgedLine, "\n\n")));
    EXPECT_TRUE(client->WaitClosed()) << (*breaker == '\r' ? "CR" : "LF");
  }

  ASSERT_TRUE(dtrustd_->Stop().ok());
  const std::string log = dtrustd_->Log();
  // Each event is one line starting with dtrustd's own timestamp.
  const std::vector<std::string> lines = LinesWith(log, "ublish by root");
  EXPECT_THAT(lines, SizeIs(3)) << log;  // The CR line is not quoted.
  for (const std::string& line : lines) {
    EXPECT_FALSE(absl::StartsWith(line, "1999-")) << log;
  }
  EXPECT_THAT(LinesWith(log, "a line contains a control character"), SizeIs(1))
      << log;
  EXPECT_THAT(log, HasSubstr("outbound: [org-b.example]\\r\\n1999-12-31t"));
  EXPECT_THAT(log, HasSubstr("(helo mx\\u00851999-12-31T23:59:59.000Z INFO "
                             "Publish by root\\xff)"));
  EXPECT_THAT(log, HasSubstr("a line has no '=' (\"1999-12-31T23:59:59.000Z"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("\r")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("\xc2\x85")));
}

TEST_F(DtrustdPostfixListedTest, LinesClientsCauseAtWillAreRateLimited) {
  std::unique_ptr<TestClient> client = ConnectTo(socketmap_);
  ASSERT_NE(client, nullptr);
  std::string lookups;
  for (int i = 0; i < 200; ++i) {
    lookups += FormatNetstring("dtrust org-b.example");
  }
  absl::SleepFor(absl::Milliseconds(1100));  // A fresh allowance.
  const size_t before = dtrustd_->Log().size();
  ASSERT_TRUE(client->Send(lookups));
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(client->ReadNetstringData(), ::testing::StartsWith("TEMP "));
  }
  // 200 answers take far less than the 10 s it would take to log them all
  // at 20 a second; the batch may straddle a second boundary.
  const size_t logged =
      LinesWith(dtrustd_->Log().substr(before), "is send-secure").size();
  EXPECT_GE(logged, 20u);
  EXPECT_LE(logged, 40u);
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_THAT(Lookup(socketmap_, "org-b.example"),
              ::testing::StartsWith("TEMP "));
  const std::vector<std::string> lines =
      LinesWith(dtrustd_->Log(), "is send-secure");
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.back(),
              HasSubstr("more such lines suppressed before this one, over "
                        "20/s)"));
}

}  // namespace
}  // namespace dtrust
