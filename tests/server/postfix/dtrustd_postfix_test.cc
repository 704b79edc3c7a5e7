// dtrustd's wiring of the Postfix services: the real binary with its
// embedded directory, --policy-listen / --socketmap-listen / --socketmap-name.
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/postfix/listen_address.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/dtrustd_process.h"

namespace dtrust {
namespace {

using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::TempDir;
using ::dtrust::testing::TestClient;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace dtrust
