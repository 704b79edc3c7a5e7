// Unit tests of `dtrust request` and `dtrust selfsign`
// (client/keygen_commands.cc): local only, dtrustd is never called.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"
#include "tests/testing/scratch_dir.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class KeygenCommandsTest : public FakeDtrustdTest {
 protected:
  ScratchDir scratch_;
};

TEST_F(KeygenCommandsTest, SelfsignWritesKeyAndCertificate) {
  const CliRun run =
      Run({"selfsign", "--subject", "CN=mx1.org-b.example,O=Org B,C=DE",
           "--dns-name", "mx1.org-b.example", "--key", scratch_.Path("mx1.key"),
           "--out", scratch_.Path("mx1.pem"), "--days", "30"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  EXPECT_EQ(fake_->calls(), 0u);
  EXPECT_THAT(scratch_.Listing(), ElementsAre("mx1.key", "mx1.pem"));
  EXPECT_EQ(ScratchDir::Mode(scratch_.Path("mx1.key")), 0600u);
  EXPECT_THAT(ScratchDir::Read(scratch_.Path("mx1.pem")),
              StartsWith("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(run.out, StartsWith("wrote " + scratch_.Path("mx1.key") +
                                  " (private key, "));
}

TEST_F(KeygenCommandsTest, RequestWritesACsrAndReportsJson) {
  const CliRun run =
      Run({"request", "--json", "--subject", "CN=mx1.org-b.example", "--key",
           scratch_.Path("mx1.key"), "--out", scratch_.Path("mx1.csr"),
           "--key-type", "rsa-2048"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  EXPECT_THAT(ScratchDir::Read(scratch_.Path("mx1.csr")),
              StartsWith("-----BEGIN CERTIFICATE REQUEST-----"));
  EXPECT_THAT(run.out, HasSubstr("\"key_source\":\"generated\""));
  EXPECT_THAT(run.out, HasSubstr("\"subject\":\"CN=mx1.org-b.example\""));
}

TEST_F(KeygenCommandsTest, RejectsBadInputWritingNothing) {
  const std::string key = scratch_.Path("k.pem");
  const std::string out = scratch_.Path("o.pem");
  ExpectRejectedBeforeAnyCall({"request", "--key", key, "--out", out},
                              "request needs --subject (see 'dtrust help "
                              "request')");
  ExpectRejectedBeforeAnyCall(
      {"selfsign", "--subject", "CN=x", "--key", key, "--out", key},
      "--key and --out name the same file");
  ExpectRejectedBeforeAnyCall({"request", "--subject", "CN=x", "--key", key,
                               "--out", out, "--days", "3"},
                              "unknown option --days");
  ExpectRejectedBeforeAnyCall({"selfsign", "--subject", "CN=x", "--key", key,
                               "--out", out, "--days", "0"},
                              "--days 0: must be a whole number from 1 to");
  ExpectRejectedBeforeAnyCall(
      {"selfsign", "--subject", "XX=x", "--key", key, "--out", out},
      "--subject");
  EXPECT_TRUE(scratch_.Listing().empty());
}

}  // namespace
}  // namespace dtrust::testing
