// Proof of possession through the real binaries: dtrust publish --key and
// import --enable smtp with a key prove it, pins say "possession-proven" or
// "asserted by <peer>" in list and verify, and a dtrustd started with
// --require-proof-for refuses unproven publishes for its own domain only.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/scratch_dir.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kOwnDomain[] = "org-b.example";

class PossessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new ScratchDir;
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
        DtrustdProcess::Start({"--data-dir", data_dir_->Path("data"),
                               "--require-proof-for", kOwnDomain});
    ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
    dtrustd_ = dtrustd->release();
  }
  static void TearDownTestSuite() {
    delete dtrustd_;
    dtrustd_ = nullptr;
    delete data_dir_;
    data_dir_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(dtrustd_, nullptr); }

  static CommandResult Dtrust(const std::vector<std::string>& args) {
    return DtrustCli(dtrustd_->endpoint()).Run(args);
  }
  // The provenance and publisher of `server`'s only pin, from list --json.
  static std::pair<std::string, std::string> ListedProvenance(
      const std::string& server) {
    const CommandResult r = Dtrust({"list", "--json", "--server", server});
    EXPECT_EQ(r.exit_code(), 0) << r.err;
    const google::protobuf::Value json = ParseJson(r.out);
    const auto& servers = Field(json, "servers").list_value();
    if (servers.values_size() != 1) {
      ADD_FAILURE() << r.out;
      return {};
    }
    const auto& pins = Field(servers.values(0), "pins").list_value();
    if (pins.values_size() != 1) {
      ADD_FAILURE() << r.out;
      return {};
    }
    return {Field(pins.values(0), "provenance").string_value(),
            Field(pins.values(0), "publisher").string_value()};
  }
  static bool Listed(const std::string& server) {
    const CommandResult r = Dtrust({"list", "--server", server});
    EXPECT_EQ(r.exit_code(), 0) << r.err;
    return r.out.find(server) != std::string::npos;
  }

  static ScratchDir* data_dir_;
  static DtrustdProcess* dtrustd_;
  ScratchDir scratch_;
};

ScratchDir* PossessionTest::data_dir_ = nullptr;
DtrustdProcess* PossessionTest::dtrustd_ = nullptr;

TEST_F(PossessionTest, PublishWithKeyIsPossessionProven) {
  const OpensslCert mx1 = MakeOpensslCert("mx1.org-b.example");
  const CommandResult r =
      Dtrust({"publish", "--server", "mx1.org-b.example", "--domain",
              kOwnDomain, "--key", mx1.key_path, mx1.cert_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(
      DetailValue(r.out, "provenance"),
      StartsWith("possession-proven (published by unix user root (uid 0))"));

  const auto [provenance, publisher] = ListedProvenance("mx1.org-b.example");
  EXPECT_EQ(provenance, "possession-proven");
  EXPECT_EQ(publisher, "unix user root (uid 0)");
  const CommandResult listed =
      Dtrust({"list", "--server", "mx1.org-b.example"});
  EXPECT_THAT(DetailValue(listed.out, "provenance"),
              StartsWith("possession-proven"));

  const CommandResult verified = Dtrust({"verify", mx1.cert_path});
  EXPECT_EQ(verified.exit_code(), 0) << verified.err;
  EXPECT_THAT(DetailValue(verified.out, "provenance"),
              StartsWith("possession-proven"));
  const CommandResult json = Dtrust({"verify", "--json", mx1.cert_path});
  EXPECT_EQ(Field(ParseJson(json.out), "provenance").string_value(),
            "possession-proven");
}

TEST_F(PossessionTest, RsaKeysProvePossessionToo) {
  const CommandResult made =
      RunDtrust({"selfsign", "--subject", "CN=mx2.org-b.example", "--key-type",
                 "rsa-2048", "--key", scratch_.Path("mx2.key"), "--out",
                 scratch_.Path("mx2.pem")});
  ASSERT_EQ(made.exit_code(), 0) << made.err;
  const CommandResult r = Dtrust(
      {"publish", "--server", "mx2.org-b.example", "--domain", kOwnDomain,
       "--key", scratch_.Path("mx2.key"), scratch_.Path("mx2.pem")});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ListedProvenance("mx2.org-b.example").first, "possession-proven");
}

TEST_F(PossessionTest, OwnDomainWithoutKeyIsRefused) {
  const OpensslCert mx3 = MakeOpensslCert("mx3.org-b.example");
  const CommandResult r = Dtrust({"publish", "--server", "mx3.org-b.example",
                                  "--domain", kOwnDomain, mx3.cert_path});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("org-b.example"));
  EXPECT_THAT(r.err, HasSubstr("proof of possession"));
  EXPECT_FALSE(Listed("mx3.org-b.example"));
}

TEST_F(PossessionTest, PartnerCertificateWithoutKeyIsAssertedByThePeer) {
  const OpensslCert partner = MakeOpensslCert("mx1.org-a.example");
  const CommandResult r =
      Dtrust({"publish", "--server", "mx1.org-a.example", "--domain",
              "org-a.example", partner.cert_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(DetailValue(r.out, "provenance"),
              StartsWith("asserted by unix user root (uid 0)"));
  const auto [provenance, publisher] = ListedProvenance("mx1.org-a.example");
  EXPECT_EQ(provenance, "asserted");
  EXPECT_EQ(publisher, "unix user root (uid 0)");

  const CommandResult verified = Dtrust({"verify", partner.cert_path});
  EXPECT_EQ(verified.exit_code(), 0) << verified.err;
  EXPECT_THAT(DetailValue(verified.out, "provenance"),
              StartsWith("asserted by unix user root (uid 0)"));
  const google::protobuf::Value json =
      ParseJson(Dtrust({"verify", "--json", partner.cert_path}).out);
  EXPECT_EQ(Field(json, "provenance").string_value(), "asserted");
  EXPECT_EQ(Field(json, "publisher").string_value(), "unix user root (uid 0)");
}

TEST_F(PossessionTest, RepublishingWithTheKeyUpgradesAnAssertedPin) {
  const OpensslCert mx = MakeOpensslCert("mx1.org-c.example");
  const std::vector<std::string> publish = {"publish",  "--json",
                                            "--server", "mx1.org-c.example",
                                            "--domain", "org-c.example"};
  std::vector<std::string> asserted = publish;
  asserted.push_back(mx.cert_path);
  ASSERT_EQ(Dtrust(asserted).exit_code(), 0);
  EXPECT_EQ(ListedProvenance("mx1.org-c.example").first, "asserted");

  std::vector<std::string> proven = publish;
  proven.insert(proven.end(), {"--key", mx.key_path, mx.cert_path});
  const CommandResult r = Dtrust(proven);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  const google::protobuf::Value json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "outcome").string_value(), "PIN_UPDATED");
  EXPECT_EQ(Field(Field(json, "pin"), "provenance").string_value(),
            "possession-proven");
  EXPECT_EQ(Field(Field(json, "previous_pin"), "provenance").string_value(),
            "asserted");

  // Text: what changed. A second cert, so the outcome is PIN_UPDATED again.
  const OpensslCert next = MakeOpensslCert("mx2.org-c.example");
  ASSERT_EQ(Dtrust({"publish", "--server", "mx2.org-c.example", "--domain",
                    "org-c.example", next.cert_path})
                .exit_code(),
            0);
  const CommandResult text = Dtrust({"publish", "--server", "mx2.org-c.example",
                                     "--key", next.key_path, next.cert_path});
  ASSERT_EQ(text.exit_code(), 0) << text.err;
  EXPECT_THAT(FirstLine(text.out),
              HasSubstr("(updated: provenance asserted -> possession-proven)"));
}

TEST_F(PossessionTest, WrongKeyIsRefusedAndNothingIsWritten) {
  const OpensslCert mx4 = MakeOpensslCert("mx4.org-b.example");
  const OpensslCert other = MakeOpensslCert("other.org-b.example");
  const CommandResult r =
      Dtrust({"publish", "--server", "mx4.org-b.example", "--domain",
              kOwnDomain, "--key", other.key_path, mx4.cert_path});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("does not belong to the certificate"));
  EXPECT_THAT(r.err, HasSubstr(other.key_path));
  EXPECT_FALSE(Listed("mx4.org-b.example"));
  EXPECT_EQ(Dtrust({"verify", mx4.cert_path}).exit_code(), 1);

  const CommandResult no_key =
      Dtrust({"publish", "--server", "mx4.org-b.example", "--domain",
              kOwnDomain, "--key", mx4.cert_path, mx4.cert_path});
  EXPECT_EQ(no_key.exit_code(), 2);
  EXPECT_THAT(no_key.err, HasSubstr("holds no private key"));
  EXPECT_FALSE(Listed("mx4.org-b.example"));
}

TEST_F(PossessionTest, ImportWithKeyAndEnableSmtpIsPossessionProven) {
  const OpensslCert mx5 = MakeOpensslCert("mx5.org-b.example");
  const CommandResult r =
      Dtrust({"import", mx5.cert_path, "--key", mx5.key_path, "--enable",
              "smtp", "--server", "mx5.org-b.example", "--domain", kOwnDomain});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ListedProvenance("mx5.org-b.example").first, "possession-proven");

  // Without a key there is nothing to prove: refused for the own domain.
  const OpensslCert mx6 = MakeOpensslCert("mx6.org-b.example");
  const CommandResult unproven =
      Dtrust({"import", mx6.cert_path, "--enable", "smtp", "--server",
              "mx6.org-b.example", "--domain", kOwnDomain});
  EXPECT_EQ(unproven.exit_code(), 2);
  EXPECT_THAT(unproven.err, HasSubstr("proof of possession"));
  EXPECT_THAT(Dtrust({"list"}).out, Not(HasSubstr("mx6.org-b.example")));
}

}  // namespace
}  // namespace dtrust::testing
