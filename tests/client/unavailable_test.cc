// When dtrustd or its directory is unavailable, dtrust exits 3 with a
// message and never reports a verdict.
#include <signal.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
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
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

void ExpectUnavailable(const CommandResult& r, const std::string& endpoint) {
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, StartsWith("dtrust: "));
  EXPECT_THAT(r.err, HasSubstr(endpoint));
  EXPECT_THAT(r.err, Not(HasSubstr("NOT_PUBLISHED")));
}

TEST(UnavailableTest, DirectoryDownWithoutMirror) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd, {"--directory-sync", "none"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string endpoint = (*dtrustd)->endpoint();
  const DtrustCli cli(endpoint);
  const TestCert cert = MakeTestCert();
  const std::string published = WriteTempFile("mx1.pem", cert.pem);
  const std::string other = WriteTempFile("other.pem", MakeTestCert().pem);
  CommandResult r = cli.Run({"publish", "--server", "mx1.org-b.example",
                             "--domain", "org-b.example", published});
  ASSERT_EQ(r.exit_code(), 0) << r.err;

  ASSERT_TRUE((*slapd)->Stop().ok());
  ExpectUnavailable(cli.Run({"verify", published}), endpoint);
  ExpectUnavailable(cli.Run({"verify", other}), endpoint);
  ExpectUnavailable(cli.Run({"verify", other, "--json"}), endpoint);
  ExpectUnavailable(cli.Run({"list"}), endpoint);
  ExpectUnavailable(cli.Run({"publish", "--server", "mx2.org-b.example",
                             "--domain", "org-b.example", other}),
                    endpoint);
  ExpectUnavailable(cli.Run({"unpublish", published}), endpoint);

  // Once the directory is back, so is the service, with the data intact.
  ASSERT_TRUE((*slapd)->Restart().ok());
  r = cli.Run({"verify", published});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("TRUSTED (mx1.org-b.example"));
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

// With the mirror (the default) verification goes on from the last snapshot
// for --max-staleness, then stops; writes and lists need the directory.
TEST(UnavailableTest, DirectoryDownWithMirror) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartWithLdap(**slapd, {"--max-staleness", "2s"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string endpoint = (*dtrustd)->endpoint();
  const DtrustCli cli(endpoint);
  const std::string published = WriteTempFile("mx1.pem", MakeTestCert().pem);
  const std::string other = WriteTempFile("other.pem", MakeTestCert().pem);
  CommandResult r = cli.Run({"publish", "--server", "mx1.org-b.example",
                             "--domain", "org-b.example", published});
  ASSERT_EQ(r.exit_code(), 0) << r.err;

  ASSERT_TRUE((*slapd)->Stop().ok());
  const absl::Time stopped = absl::Now();
  // Answered from the snapshot, whose age the answer gives once dtrustd has
  // noticed the directory is gone.
  do {
    r = cli.Run({"verify", published});
  } while (r.out.find("snapshot-age:") == std::string::npos &&
           absl::Now() < stopped + absl::Seconds(1));
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("TRUSTED (mx1.org-b.example"));
  EXPECT_THAT(r.out, HasSubstr("snapshot-age:"));
  r = cli.Run({"verify", other});
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("NOT_PUBLISHED"));
  ExpectUnavailable(cli.Run({"list"}), endpoint);
  ExpectUnavailable(cli.Run({"publish", "--server", "mx2.org-b.example",
                             "--domain", "org-b.example", other}),
                    endpoint);

  // Older than --max-staleness: no answer rather than a stale one.
  absl::SleepFor(stopped + absl::Seconds(3) - absl::Now());
  ExpectUnavailable(cli.Run({"verify", published}), endpoint);
  ExpectUnavailable(cli.Run({"verify", other}), endpoint);

  ASSERT_TRUE((*slapd)->Restart().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    r = cli.Run({"verify", published});
  } while (r.exit_code() != 0 && absl::Now() < deadline);
  EXPECT_THAT(r.out, StartsWith("TRUSTED (mx1.org-b.example"));
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

TEST(UnavailableTest, DtrustdNotRunning) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::StartEmbedded();
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string endpoint = (*dtrustd)->endpoint();
  const DtrustCli cli(endpoint);
  const std::string file = WriteTempFile("mx1.pem", MakeTestCert().pem);

  // Stopped (SIGSTOP): the deadline applies.
  ASSERT_EQ(kill((*dtrustd)->pid(), SIGSTOP), 0);
  CommandResult r = cli.Run({"verify", file, "--timeout", "300ms"});
  ExpectUnavailable(r, endpoint);
  EXPECT_THAT(r.err, HasSubstr("within 300ms"));
  ASSERT_EQ(kill((*dtrustd)->pid(), SIGCONT), 0);
  r = cli.Run({"verify", file});
  EXPECT_EQ(r.exit_code(), 1) << r.err;

  // Gone.
  ASSERT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
  ExpectUnavailable(cli.Run({"verify", file}), endpoint);
  ExpectUnavailable(cli.Run({"list", "--json"}), endpoint);
  ExpectUnavailable(cli.Run({"publish", "--server", "mx1.org-b.example",
                             "--domain", "org-b.example", file}),
                    endpoint);
  // Nothing listening on a TCP port either.
  ExpectUnavailable(RunDtrust({"list", "--endpoint", "127.0.0.1:1"}),
                    "127.0.0.1:1");
}

}  // namespace
}  // namespace dtrust::testing
