// Unit tests of `dtrust client` (client/client_command.cc) with a fake
// dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ClientCommandTest = FakeDtrustdTest;

TEST_F(ClientCommandTest, GrantARoleWithScopesToAUnixUser) {
  v1::ClientGrant answer;
  answer.mutable_subject()->set_unix_user("orgb-admin");
  answer.set_role(v1::ROLE_PUBLISHER);
  answer.add_scopes("org-b.example");
  answer.set_label("org-b admins");
  answer.set_granted_by("unix user root (uid 0)");
  fake_->grant_client.answer = answer;

  const CliRun run =
      Run({"client", "grant", "--role", "publisher", "--scope", "org-b.example",
           "--scope", "org-c.example", "--unix-user", "orgb-admin", "--label",
           "org-b admins"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->grant_client.requests.size(), 1u);
  const v1::GrantClientRequest& request = fake_->grant_client.requests[0];
  EXPECT_EQ(request.subject().unix_user(), "orgb-admin");
  EXPECT_EQ(request.role(), v1::ROLE_PUBLISHER);
  EXPECT_THAT(request.scopes(), ElementsAre("org-b.example", "org-c.example"));
  EXPECT_EQ(request.label(), "org-b admins");
  EXPECT_EQ(run.out,
            "granted: unix user orgb-admin\n"
            "  role:       publisher\n"
            "  scopes:     org-b.example\n"
            "  label:      org-b admins\n"
            "  granted:    - by unix user root (uid 0)\n");
}

TEST_F(ClientCommandTest, GrantOrRevokeACertificate) {
  const TestCert cert = MakeTestCert();
  const std::string file = WriteTempFile("client.pem", cert.pem);
  EXPECT_EQ(Run({"client", "grant", "--role", "admin", file}).code,
            cli::ExitCode::kOk);
  ASSERT_EQ(fake_->grant_client.requests.size(), 1u);
  EXPECT_EQ(fake_->grant_client.requests[0].subject().cert_sha256().size(),
            32u);
  EXPECT_EQ(fake_->grant_client.requests[0].role(), v1::ROLE_ADMIN);

  const CliRun run =
      Run({"client", "revoke", "--sha256", std::string(64, 'b'), "--json"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->revoke_client.requests.size(), 1u);
  EXPECT_EQ(fake_->revoke_client.requests[0].subject().cert_sha256(),
            std::string(32, '\xbb'));
  EXPECT_THAT(run.out, HasSubstr("\"role\":\"none\""));
}

TEST_F(ClientCommandTest, List) {
  EXPECT_THAT(Run({"client", "list"}).out, HasSubstr("no grants: only root"));
  v1::ListClientsResponse grants;
  v1::ClientGrant* grant = grants.add_grants();
  grant->mutable_subject()->set_unix_group("mailops");
  grant->set_role(v1::ROLE_READER);
  fake_->list_clients.answer = grants;
  EXPECT_EQ(Run({"client", "list", "--json"}).out,
            "{\"clients\":[{\"unix_group\":\"mailops\",\"role\":\"reader\","
            "\"scopes\":[],\"label\":\"\",\"granted_by\":\"\"}]}\n");
}

TEST_F(ClientCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"client"}, "client needs grant, revoke or list");
  ExpectRejectedBeforeAnyCall({"client", "frob"},
                              "unknown client command frob");
  ExpectRejectedBeforeAnyCall({"client", "grant", "--unix-user", "u"},
                              "client grant needs --role reader, publisher "
                              "or admin");
  ExpectRejectedBeforeAnyCall(
      {"client", "grant", "--role", "reader", "--unix-user", "u",
       "--unix-group", "g"},
      "client grant needs exactly one of CERT-FILE, --sha256, --unix-user, "
      "--unix-group");
  ExpectRejectedBeforeAnyCall({"client", "revoke"}, "client revoke needs");
  ExpectRejectedBeforeAnyCall({"client", "revoke", "--sha256", "12"},
                              "--sha256");
  ExpectRejectedBeforeAnyCall({"client", "list", "x"},
                              "client list takes no arguments");
}

}  // namespace
}  // namespace dtrust::testing
