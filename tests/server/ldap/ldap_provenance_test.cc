// Pin provenance (proof of possession) in a real slapd: dtrustPinProvenance
// and dtrustPinPublisher, in slapd.conf (dtrust.schema) and cn=config
// (dtrust.ldif) mode.
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/ldap/ldap_directory.h"
#include "tests/server/ldap/ldap_directory_fixture.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::LdapDirectoryFixture;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SlapdFixture;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kServer[] = "mx1.org-b.example";
constexpr char kDomain[] = "org-b.example";
constexpr char kPeer[] = "ipv4:127.0.0.1:40000";

class LdapProvenanceTest : public LdapDirectoryFixture {
 protected:
  // A server entry with one pin, as `provenance` by `publisher`.
  PinRecord Publish(PinProvenance provenance, const std::string& publisher) {
    const Certificate certificate = *Certificate::FromDer(MakeTestCert().der);
    PinRecord pin{certificate.sha256(),
                  certificate.spki_sha256(),
                  PinKind::kCertificate,
                  certificate.not_before(),
                  certificate.not_after(),
                  certificate.subject(),
                  certificate.der(),
                  {},
                  provenance,
                  publisher};
    EXPECT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
    EXPECT_TRUE(directory_->AddPin(kServer, pin).ok());
    return pin;
  }
  PinRecord Stored() {
    absl::StatusOr<std::optional<ServerRecord>> server =
        directory_->GetServer(kServer);
    EXPECT_TRUE(server.ok() && server->has_value() &&
                (*server)->pins.size() == 1);
    return server.ok() && server->has_value() && !(*server)->pins.empty()
               ? (*server)->pins[0]
               : PinRecord{};
  }
  absl::Status Modify(const PinRecord& pin, const std::string& change) {
    return slapd_->LdapModify(absl::StrCat(
        "dn: dtrustCertSha256=", pin.cert_sha256.ToHex(), ",cn=", kServer, ",",
        ServersDn(), "\nchangetype: modify\n", change));
  }
};

TEST_F(LdapProvenanceTest, AddPinStoresProvenanceAndPublisher) {
  Connect();
  const PinRecord pin = Publish(PinProvenance::kPossessionProven, kPeer);
  EXPECT_EQ(Stored().provenance, PinProvenance::kPossessionProven);
  EXPECT_EQ(Stored().publisher, kPeer);
  absl::StatusOr<std::vector<ServerRecord>> found =
      directory_->FindByDigest(&pin.cert_sha256, nullptr);
  ASSERT_TRUE(found.ok());
  ASSERT_THAT(*found, SizeIs(1));
  EXPECT_EQ((*found)[0].pins[0].provenance, PinProvenance::kPossessionProven);
  EXPECT_THAT(Search(ServersDn(), "(objectClass=dtrustPinnedCertificate)",
                     {"dtrustPinProvenance", "dtrustPinPublisher"}),
              AllOf(HasSubstr("dtrustPinProvenance: possession-proven"),
                    HasSubstr(absl::StrCat("dtrustPinPublisher: ", kPeer))));
}

TEST_F(LdapProvenanceTest, UpdatePinUpgradesAndRecordsThePublisher) {
  Connect();
  PinRecord pin = Publish(PinProvenance::kAsserted, kPeer);
  EXPECT_EQ(Stored().provenance, PinProvenance::kAsserted);
  pin.provenance = PinProvenance::kPossessionProven;
  pin.publisher = "unix:/run/dtrust/dtrustd.sock";
  ASSERT_TRUE(directory_->UpdatePin(kServer, pin).ok());
  EXPECT_EQ(Stored().provenance, PinProvenance::kPossessionProven);
  EXPECT_EQ(Stored().publisher, "unix:/run/dtrust/dtrustd.sock");
  // An empty publisher removes the attribute.
  pin.publisher.clear();
  ASSERT_TRUE(directory_->UpdatePin(kServer, pin).ok());
  EXPECT_EQ(Stored().publisher, "");
  EXPECT_THAT(Search(ServersDn(), "(objectClass=dtrustPinnedCertificate)"),
              Not(HasSubstr("dtrustPinPublisher")));
}

// Pins written before dtrust recorded provenance, or by other tools.
TEST_F(LdapProvenanceTest, EntriesWithoutOrWithBadProvenanceReadAsAsserted) {
  Connect();
  const PinRecord pin = Publish(PinProvenance::kPossessionProven, kPeer);
  ASSERT_TRUE(Modify(pin,
                     "delete: dtrustPinProvenance\n-\n"
                     "delete: dtrustPinPublisher\n")
                  .ok());
  EXPECT_EQ(Stored().provenance, PinProvenance::kAsserted);
  EXPECT_EQ(Stored().publisher, "");
  ASSERT_TRUE(
      Modify(pin,
             "replace: dtrustPinProvenance\ndtrustPinProvenance: trusted\n")
          .ok());
  EXPECT_EQ(Stored().provenance, PinProvenance::kAsserted);
  ASSERT_TRUE(Modify(pin,
                     "replace: dtrustPinProvenance\n"
                     "dtrustPinProvenance: Possession-Proven\n")
                  .ok());
  EXPECT_EQ(Stored().provenance, PinProvenance::kPossessionProven);
}

TEST_F(LdapProvenanceTest, CnConfigSchemaHasTheAttributes) {
  StartSlapd(
      {.mode = SlapdFixture::ConfigMode::kCnConfig, .suffix = "o=dtrust"});
  Connect();
  Publish(PinProvenance::kPossessionProven, kPeer);
  EXPECT_EQ(Stored().provenance, PinProvenance::kPossessionProven);
  EXPECT_EQ(Stored().publisher, kPeer);
}

}  // namespace
}  // namespace dtrust
