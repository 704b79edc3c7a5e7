// `dtrust domain`: the Domain Security lists, end to end through the real
// dtrust and dtrustd binaries and a real slapd.
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;

TEST(DomainTest, AddShowListRemove) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd);
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const DtrustCli cli((*dtrustd)->endpoint());

  CommandResult r = cli.Run({"domain", "list"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, "no domains listed: every domain gets opportunistic TLS\n");

  r = cli.Run(
      {"domain", "add", "Org-B.example", "--send", "--receive", "--testing"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, "org-b.example  send=testing  receive=testing\n");
  r = cli.Run({"domain", "add", "org-b.example", "--receive"});
  EXPECT_EQ(r.out, "org-b.example  send=testing  receive=enforce\n");
  r = cli.Run({"domain", "add", "org-c.example", "--send"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;

  r = cli.Run({"domain", "list", "--json"});
  EXPECT_EQ(r.out,
            "{\"domains\":[{\"domain\":\"org-b.example\",\"send\":\"testing\","
            "\"receive\":\"enforce\"},{\"domain\":\"org-c.example\",\"send\":"
            "\"enforce\",\"receive\":\"off\"}]}\n");
  // It is in the directory, where every MTA's dtrustd shares it.
  const std::string ldif = *(*slapd)->LdapSearch(
      "ou=domains," + (*slapd)->suffix(), "(cn=org-b.example)",
      {"dtrustSendSecurity", "dtrustReceiveSecurity"});
  EXPECT_THAT(ldif, HasSubstr("dtrustSendSecurity: testing"));
  EXPECT_THAT(ldif, HasSubstr("dtrustReceiveSecurity: enforce"));

  const TestCert cert = MakeTestCert();
  r = cli.Run({"publish", "--server", "mx1.org-b.example", "--domain",
               "org-b.example", WriteTempFile("mx1.pem", cert.pem)});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  r = cli.Run({"domain", "show", "org-b.example"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("org-b.example  send=testing  receive=enforce"));
  EXPECT_THAT(r.out, HasSubstr("mx1.org-b.example"));

  r = cli.Run({"domain", "remove", "org-b.example", "--send"});
  EXPECT_EQ(r.out, "org-b.example  send=off  receive=enforce\n");
  r = cli.Run({"domain", "remove", "org-b.example"});
  EXPECT_EQ(r.out, "org-b.example  send=off  receive=off\n");
  r = cli.Run({"domain", "remove", "org-b.example"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("org-b.example is on no Domain Security list"));
}

TEST(DomainTest, BadInputIsRefusedLocally) {
  // No dtrustd needed: nothing is sent.
  const DtrustCli cli("unix:/nonexistent/dtrustd.sock");
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"domain", "add", "*.org-b.example", "--send"}, "wildcards"},
           {{"domain", "add", "org-b.example"}, "--send and/or --receive"},
           {{"domain", "add", "a,b=c", "--send"}, "not allowed"},
           {{"domain", "remove", "org-b.example", "--testing"},
            "--testing goes with domain add"},
           {{"domain", "frob"}, "unknown domain command frob"},
           {{"domain"}, "add, remove, list or show"},
           {{"domain", "show"}, "exactly one MAIL-DOMAIN"},
       }) {
    const CommandResult r = cli.Run(args);
    EXPECT_EQ(r.exit_code(), 2) << args[1] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
  }
}

TEST(DomainTest, DirectoryDownIsUnavailable) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd, {"--max-staleness", "3s"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const DtrustCli cli((*dtrustd)->endpoint());
  ASSERT_TRUE((*slapd)->Stop().ok());
  const absl::Time stopped = absl::Now();
  // The lists are read from the mirror until its data is older than
  // --max-staleness; writes need the directory.
  EXPECT_EQ(cli.Run({"domain", "list"}).exit_code(), 0);
  EXPECT_EQ(cli.Run({"domain", "add", "org-b.example", "--send"}).exit_code(),
            3);
  absl::SleepFor(stopped + absl::Seconds(4) - absl::Now());
  EXPECT_EQ(cli.Run({"domain", "list"}).exit_code(), 3);
}

}  // namespace
}  // namespace dtrust::testing
