// Bad input through the real dtrust: exit code 2, a "dtrust: " message on
// stderr, and nothing written (the listing is unchanged).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/test_certs.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> started =
        DtrustdProcess::StartEmbedded();
    ASSERT_TRUE(started.ok()) << started.status();
    dtrustd_ = started->release();
    published_ =
        new TestCert(MakeTestCert({.common_name = "mx1.org-b.example"}));
    const CommandResult r =
        Cli().Run({"publish", "--server", "mx1.org-b.example", "--domain",
                   "org-b.example", WriteTempFile("mx1.pem", published_->pem)});
    ASSERT_EQ(r.exit_code(), 0) << r.err;
  }

  static void TearDownTestSuite() {
    delete dtrustd_;
    dtrustd_ = nullptr;
    delete published_;
    published_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(dtrustd_, nullptr);
    listing_before_ = List();
  }

  // No test in this suite may change the directory.
  void TearDown() override {
    if (dtrustd_ != nullptr) {
      EXPECT_EQ(List(), listing_before_);
    }
  }

  static DtrustCli Cli() { return DtrustCli(dtrustd_->endpoint()); }

  static std::string List() {
    const CommandResult r = Cli().Run({"list", "--json"});
    EXPECT_EQ(r.exit_code(), 0) << r.err;
    return r.out;
  }

  // Runs dtrust with `args`; expects exit code 2 and a message containing
  // `message`. (TearDown checks that nothing was written.)
  void ExpectRejected(const std::vector<std::string>& args,
                      const std::string& message) {
    const CommandResult r = Cli().Run(args);
    EXPECT_EQ(r.exit_code(), 2) << r.out << r.err;
    EXPECT_THAT(r.err, StartsWith("dtrust: "));
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(r.out, "");
  }

  // `publish` of `file` for a new server, expecting it to be rejected.
  void ExpectPublishRejected(const std::string& file,
                             const std::string& message) {
    ExpectRejected({"publish", "--server", "mx9.org-b.example", "--domain",
                    "org-b.example", file},
                   message);
  }

  static DtrustdProcess* dtrustd_;
  static TestCert* published_;
  std::string listing_before_;
};

DtrustdProcess* BadInputTest::dtrustd_ = nullptr;
TestCert* BadInputTest::published_ = nullptr;

TEST_F(BadInputTest, NotACertificate) {
  const std::string file = WriteTempFile("notes.txt", "hello, world\n");
  ExpectPublishRejected(file, file);
}

TEST_F(BadInputTest, PemWithTrailingJunk) {
  const std::string file =
      WriteTempFile("junk.pem", MakeTestCert().pem + "and then some junk\n");
  ExpectPublishRejected(file, file);
}

TEST_F(BadInputTest, TwoCertificatesInOneFile) {
  const std::string file =
      WriteTempFile("chain.pem", MakeTestCert().pem + MakeTestCert().pem);
  ExpectPublishRejected(file, file);
}

TEST_F(BadInputTest, DerWithTrailingBytes) {
  const std::string file =
      WriteTempFile("trailing.der", MakeTestCert().der + std::string("\0", 1));
  ExpectPublishRejected(file, file);
}

TEST_F(BadInputTest, FileOverTheLimitIsRefusedUnread) {
  // A valid certificate padded with whitespace beyond 64 KiB.
  const std::string file = WriteTempFile(
      "big.pem", MakeTestCert().pem + std::string(64 * 1024, '\n'));
  ExpectPublishRejected(file, "larger than 65536 bytes");
  ExpectRejected({"verify", file}, "larger than 65536 bytes");
}

TEST_F(BadInputTest, UnreadableFiles) {
  ExpectPublishRejected("/nonexistent/mx1.pem", "/nonexistent/mx1.pem");
  ExpectPublishRejected("/tmp", "/tmp");
}

TEST_F(BadInputTest, ServerNameThatIsNotADnsName) {
  const std::string file = WriteTempFile("ok.pem", MakeTestCert().pem);
  for (const std::string& name : std::vector<std::string>{
           "mx1..org-b.example", "-mx1.org-b.example", "mx1_b.example",
           "mx1.org-b.example..", "", std::string(254, 'a')}) {
    SCOPED_TRACE(name);
    ExpectRejected(
        {"publish", "--server", name, "--domain", "org-b.example", file},
        "--server");
  }
}

TEST_F(BadInputTest, NamesWithLdapSpecialCharacters) {
  const std::string file = WriteTempFile("ok.pem", MakeTestCert().pem);
  for (const std::string& bad : std::vector<std::string>{
           "*", "mx*.org-b.example", "mx1(.example", "mx1,ou=x.example",
           "cn=mx1.example", "mx1\\2a.example", "mx1)(cn=*"}) {
    SCOPED_TRACE(bad);
    ExpectRejected(
        {"publish", "--server", bad, "--domain", "org-b.example", file},
        "--server");
    ExpectRejected(
        {"publish", "--server", "mx9.org-b.example", "--domain", bad, file},
        "--domain");
    ExpectRejected({"verify", file, "--domain", bad}, "--domain");
    ExpectRejected({"list", "--server", bad}, "--server");
  }
}

TEST_F(BadInputTest, UnpublishingWhatIsNotThere) {
  const TestCert unpublished = MakeTestCert();
  ExpectRejected({"unpublish", WriteTempFile("new.pem", unpublished.pem)},
                 "is not published");
  ExpectRejected({"unpublish", "--sha256", std::string(64, 'a')},
                 "is not published");
  // Published, but not for this server.
  ExpectRejected({"unpublish", "--server", "mx2.org-b.example",
                  WriteTempFile("mx1.pem", published_->pem)},
                 "is not published");
}

TEST_F(BadInputTest, PublishingTwiceSucceedsAsAlreadyPublished) {
  const std::string file = WriteTempFile("mx1.pem", published_->pem);
  const CommandResult r =
      Cli().Run({"publish", file, "--server", "MX1.org-b.example.", "--domain",
                 "org-b.example"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            absl::StrCat("already published ", file, " for mx1.org-b.example"));
  EXPECT_EQ(DetailValue(r.out, "domains added"), "-");
}

TEST_F(BadInputTest, UsageErrors) {
  const std::string file = WriteTempFile("ok.pem", MakeTestCert().pem);
  ExpectRejected({"publish", "--domain", "org-b.example", file},
                 "publish needs --server");
  // dtrustd refuses a new server without a domain.
  ExpectRejected({"publish", "--server", "mx9.org-b.example", file},
                 "mx9.org-b.example is not published yet: give the mail "
                 "domain(s) it serves");
  ExpectRejected(
      {"publish", "--server", "mx9.org-b.example", "--domain", "org-b.example"},
      "exactly one certificate file");
  ExpectRejected({"publish", "--server", "mx9.org-b.example", "--domain",
                  "org-b.example", file, file},
                 "exactly one certificate file");
  ExpectRejected({"publish", "--server", "mx9.org-b.example", "--domain",
                  "org-b.example", "--pin", "spki", file},
                 "--pin spki: must be cert or key");
  ExpectRejected({"publish", "--server", "mx9.org-b.example", "--server",
                  "mx8.org-b.example", "--domain", "org-b.example", file},
                 "--server given more than once");
  ExpectRejected({"publish", "--bogus", file}, "unknown option --bogus");
  ExpectRejected({"verify"}, "either a certificate file or --sha256");
  ExpectRejected({"verify", file, "--sha256", std::string(64, 'a')},
                 "either a certificate file or --sha256");
  ExpectRejected({"verify", "--sha256", "abc"}, "--sha256");
  ExpectRejected({"verify", "--spki-sha256", std::string(64, 'g')},
                 "--spki-sha256");
  ExpectRejected({"unpublish"}, "either a certificate file or --sha256");
  ExpectRejected({"unpublish", "--sha256", std::string(63, 'a')}, "--sha256");
  ExpectRejected({"list", "extra"}, "list takes no arguments");
  ExpectRejected({"list", "--timeout", "soon"}, "--timeout soon");
  ExpectRejected({"frobnicate"}, "unknown command frobnicate");
}

TEST(CliUsageTest, HelpDocumentsCommandsOptionsAndExitCodes) {
  CommandResult r = RunDtrust({"--help"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  for (const char* text :
       {"publish", "verify", "list", "unpublish", "--endpoint",
        "DTRUST_ENDPOINT", "--json", "--timeout", "Exit codes:", "  0 ", "  1 ",
        "  2 ", "  3 "}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
  EXPECT_EQ(RunDtrust({"help"}).out, r.out);
  EXPECT_EQ(RunDtrust({"-h"}).out, r.out);

  r = RunDtrust({"help", "publish"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  for (const char* text : {"usage: dtrust publish", "--server", "--domain",
                           "--pin cert|key", "Exit codes:"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
  EXPECT_EQ(RunDtrust({"publish", "--help"}).out, r.out);
  EXPECT_EQ(RunDtrust({"--json", "publish", "-h", "x.pem"}).out, r.out);
  EXPECT_THAT(RunDtrust({"help", "verify"}).out,
              HasSubstr("dtrust verify --sha256 HEX | --spki-sha256 HEX"));

  r = RunDtrust({});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, StartsWith("dtrust: missing command"));
  r = RunDtrust({"help", "frobnicate"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, StartsWith("dtrust: no help for frobnicate"));
  r = RunDtrust({"--server", "x", "publish"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("unknown option --server"));
}

}  // namespace
}  // namespace dtrust::testing
