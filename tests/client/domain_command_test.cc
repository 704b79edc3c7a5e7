// Unit tests of `dtrust domain` (client/domain_command.cc) with a fake
// dtrustd.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;

v1::DomainPolicy Policy(const std::string& domain, v1::SecureMode send,
                        v1::SecureMode receive) {
  v1::DomainPolicy policy;
  policy.set_domain(domain);
  policy.set_send(send);
  policy.set_receive(receive);
  return policy;
}

using DomainCommandTest = FakeDtrustdTest;

TEST_F(DomainCommandTest, AddSetsTheListsGiven) {
  fake_->set_domain_policy.answer =
      Policy("org-a.example", v1::SECURE_MODE_TESTING, v1::SECURE_MODE_OFF);
  const CliRun run =
      Run({"domain", "add", "Org-A.example", "--send", "--testing"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->set_domain_policy.requests.size(), 1u);
  const v1::SetDomainPolicyRequest& request =
      fake_->set_domain_policy.requests[0];
  EXPECT_EQ(request.domain(), "org-a.example");
  EXPECT_EQ(request.send(), v1::SECURE_MODE_TESTING);
  EXPECT_EQ(request.receive(), v1::SECURE_MODE_UNSPECIFIED);
  EXPECT_EQ(run.out, "org-a.example  send=testing  receive=off\n");
}

TEST_F(DomainCommandTest, RemoveWithoutFlagsTakesItOffBothLists) {
  const CliRun run = Run({"--json", "domain", "remove", "org-a.example"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  ASSERT_EQ(fake_->set_domain_policy.requests.size(), 1u);
  EXPECT_EQ(fake_->set_domain_policy.requests[0].send(), v1::SECURE_MODE_OFF);
  EXPECT_EQ(fake_->set_domain_policy.requests[0].receive(),
            v1::SECURE_MODE_OFF);
  EXPECT_EQ(run.out,
            "{\"domain\":\"\",\"send\":\"off\",\"receive\":\"off\"}\n");
}

TEST_F(DomainCommandTest, ListAndShow) {
  v1::ListDomainPoliciesResponse policies;
  *policies.add_policies() =
      Policy("org-a.example", v1::SECURE_MODE_ENFORCE, v1::SECURE_MODE_ENFORCE);
  fake_->list_domain_policies.answer = policies;
  EXPECT_EQ(Run({"domain", "list"}).out,
            "org-a.example  send=enforce  receive=enforce\n");

  const CliRun show = Run({"domain", "show", "org-a.example"});
  EXPECT_EQ(show.code, cli::ExitCode::kOk) << show.err;
  EXPECT_EQ(fake_->list_domain_policies.requests.back().domain(),
            "org-a.example");
  ASSERT_EQ(fake_->list.requests.size(), 1u);
  EXPECT_EQ(fake_->list.requests[0].domain(), "org-a.example");
  EXPECT_EQ(show.out,
            "org-a.example  send=enforce  receive=enforce\n"
            "no server is published for this domain\n");

  fake_->list_domain_policies.answer = v1::ListDomainPoliciesResponse();
  EXPECT_THAT(Run({"domain", "list"}).out,
              HasSubstr("no domains listed: every domain gets opportunistic"));
}

TEST_F(DomainCommandTest, RefusalIsExitCode4) {
  fake_->set_domain_policy.answer =
      absl::PermissionDeniedError("only admins may change the lists");
  const CliRun run = Run({"domain", "add", "org-a.example", "--receive"});
  EXPECT_EQ(run.code, cli::ExitCode::kNotAllowed);
  EXPECT_EQ(run.err, "dtrust: only admins may change the lists\n");
}

TEST_F(DomainCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"domain"},
                              "domain needs add, remove, list or show");
  ExpectRejectedBeforeAnyCall({"domain", "frob"},
                              "unknown domain command frob");
  ExpectRejectedBeforeAnyCall({"domain", "add", "org-a.example"},
                              "domain add needs --send and/or --receive");
  ExpectRejectedBeforeAnyCall({"domain", "add", "--send"},
                              "domain add needs exactly one MAIL-DOMAIN");
  ExpectRejectedBeforeAnyCall(
      {"domain", "remove", "org-a.example", "--testing"},
      "--testing goes with domain add");
  ExpectRejectedBeforeAnyCall({"domain", "list", "x"},
                              "domain list takes no arguments");
  ExpectRejectedBeforeAnyCall({"domain", "show", "not a name"}, "MAIL-DOMAIN");
}

}  // namespace
}  // namespace dtrust::testing
