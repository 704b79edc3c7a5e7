// LdapDirectory against a real slapd (tests/testing/slapd_fixture.h).
#include "server/ldap/ldap_directory.h"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "tests/server/ldap/ldap_directory_fixture.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::CertSpec;
using ::dtrust::testing::LdapDirectoryFixture;
using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::TestCert;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kServer[] = "mx1.org-b.example";
constexpr char kDomain[] = "org-b.example";

PinRecord PinFor(const TestCert& cert, PinKind kind = PinKind::kCertificate) {
  absl::StatusOr<Certificate> parsed = Certificate::FromDer(cert.der);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return PinRecord{
      parsed->sha256(),     parsed->spki_sha256(), kind,
      parsed->not_before(), parsed->not_after(),   parsed->subject(),
      parsed->der()};
}

std::vector<std::string> Names(const std::vector<ServerRecord>& servers) {
  std::vector<std::string> names;
  for (const ServerRecord& server : servers) names.push_back(server.name);
  return names;
}

std::vector<Sha256Digest> PinDigests(const ServerRecord& server) {
  std::vector<Sha256Digest> digests;
  for (const PinRecord& pin : server.pins) digests.push_back(pin.cert_sha256);
  return digests;
}

class LdapDirectoryTest : public LdapDirectoryFixture {
 protected:
  // A server with kDomain and a pin for `cert`.
  void Publish(const std::string& server, const TestCert& cert) {
    absl::Status created = directory_->CreateServer(server, {kDomain});
    ASSERT_TRUE(created.ok() || absl::IsAlreadyExists(created)) << created;
    ASSERT_TRUE(directory_->AddPin(server, PinFor(cert)).ok());
  }
};

TEST_F(LdapDirectoryTest, ConnectCreatesServersAndDomainsOus) {
  EXPECT_FALSE(slapd_->LdapSearch(ServersDn(), "(objectClass=*)").ok());
  EXPECT_FALSE(slapd_->LdapSearch(DomainsDn(), "(objectClass=*)").ok());
  Connect();
  EXPECT_THAT(Search(ServersDn(), "(objectClass=organizationalUnit)", {"ou"}),
              HasSubstr("ou: servers"));
  EXPECT_THAT(Search(DomainsDn(), "(objectClass=organizationalUnit)", {"ou"}),
              HasSubstr("ou: domains"));
  EXPECT_EQ(directory_->connected_uri(), slapd_->uri());
  // A second dtrustd finds everything in place.
  EXPECT_TRUE(LdapDirectory::Connect(Options()).ok());
}

TEST_F(LdapDirectoryTest, ConnectCreatesMissingBaseEntry) {
  for (const auto& [rdn, object_class] :
       std::vector<std::pair<std::string, std::string>>{
           {"ou=dtrust", "organizationalUnit"},
           {"o=mail", "organization"},
           {"dc=trust", "domain"}}) {
    SCOPED_TRACE(rdn);
    LdapOptions options = Options();
    options.base_dn = absl::StrCat(rdn, ",", slapd_->suffix());
    absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
        LdapDirectory::Connect(options);
    ASSERT_TRUE(directory.ok()) << directory.status();
    EXPECT_THAT(Search(options.base_dn, "(objectClass=*)", {"objectClass"}),
                HasSubstr(absl::StrCat("objectClass: ", object_class)));
    ASSERT_TRUE((*directory)->CreateServer(kServer, {kDomain}).ok());
    EXPECT_THAT(
        Search(absl::StrCat("ou=servers,", options.base_dn), "(cn=*)", {"cn"}),
        HasSubstr(absl::StrCat("cn: ", kServer)));
    ASSERT_TRUE((*directory)
                    ->PutDomainPolicy({.domain = kDomain,
                                       .send = SecureMode::kEnforce,
                                       .receive = SecureMode::kOff})
                    .ok());
    EXPECT_THAT(
        Search(absl::StrCat("ou=domains,", options.base_dn), "(cn=*)", {"cn"}),
        HasSubstr(absl::StrCat("cn: ", kDomain)));
  }
}

TEST_F(LdapDirectoryTest, ConnectRefusesBaseItCannotCreate) {
  LdapOptions options = Options();
  options.base_dn = absl::StrCat("cn=dtrust,", slapd_->suffix());
  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(directory.status()))
      << directory.status();
  EXPECT_THAT(directory.status().message(), HasSubstr("create it first"));

  options.base_dn = absl::StrCat("ou=dtrust,ou=missing,", slapd_->suffix());
  directory = LdapDirectory::Connect(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(directory.status()))
      << directory.status();
  EXPECT_THAT(directory.status().message(), HasSubstr("No such object"));
}

TEST_F(LdapDirectoryTest, ConnectRejectsBadOptions) {
  LdapOptions options = Options();
  options.base_dn = "not a dn";
  EXPECT_TRUE(
      absl::IsInvalidArgument(LdapDirectory::Connect(options).status()));
  options = Options();
  options.sasl_external = true;
  EXPECT_TRUE(
      absl::IsInvalidArgument(LdapDirectory::Connect(options).status()));
  options = Options();
  options.uris.clear();
  EXPECT_TRUE(
      absl::IsInvalidArgument(LdapDirectory::Connect(options).status()));
  options = Options();
  options.connections = 0;
  EXPECT_TRUE(
      absl::IsInvalidArgument(LdapDirectory::Connect(options).status()));
}

TEST_F(LdapDirectoryTest, WrongPasswordIsUnavailable) {
  LdapOptions options = Options();
  options.bind_password = "wrong";
  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(options);
  EXPECT_TRUE(absl::IsUnavailable(directory.status())) << directory.status();
  EXPECT_THAT(directory.status().message(), HasSubstr("Invalid credentials"));
  EXPECT_THAT(directory.status().message(), HasSubstr(slapd_->uri()));
}

TEST_F(LdapDirectoryTest, AnonymousGetsNothing) {
  LdapOptions options = Options();
  options.bind_dn.clear();
  options.bind_password.clear();
  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(options);
  // Cannot even see the base entry, so it tries to create it and may not.
  EXPECT_TRUE(absl::IsFailedPrecondition(directory.status()))
      << directory.status();
  EXPECT_THAT(directory.status().message(),
              HasSubstr("not readable as anonymous"));
}

TEST_F(LdapDirectoryTest, SaslExternalOverLdapi) {
  LdapOptions options = Options();
  options.uris = {slapd_->ldapi_uri()};
  options.bind_dn.clear();
  options.bind_password.clear();
  options.sasl_external = true;
  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(options);
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_TRUE((*directory)->CreateServer(kServer, {kDomain}).ok());
  EXPECT_THAT(Search(ServersDn(), "(cn=*)", {"cn"}),
              HasSubstr(absl::StrCat("cn: ", kServer)));
}

TEST_F(LdapDirectoryTest, FailsOverToSecondUri) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> dead = SlapdFixture::Start();
  ASSERT_TRUE(dead.ok()) << dead.status();
  const std::string dead_uri = (*dead)->uri();
  ASSERT_TRUE((*dead)->Stop().ok());

  LdapOptions options = Options();
  options.uris = {dead_uri, slapd_->uri()};
  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(options);
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_EQ((*directory)->connected_uri(), slapd_->uri());
  EXPECT_TRUE((*directory)->CreateServer(kServer, {kDomain}).ok());
  EXPECT_TRUE((*directory)->GetServer(kServer)->has_value());
}

TEST_F(LdapDirectoryTest, NoServerAnsweringIsUnavailable) {
  LdapOptions options = Options();
  ASSERT_TRUE(slapd_->Stop().ok());
  options.uris = {slapd_->uri(), slapd_->uri()};
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
      LdapDirectory::Connect(options);
  EXPECT_LT(absl::Now() - start, options.timeout);
  EXPECT_TRUE(absl::IsUnavailable(directory.status())) << directory.status();
  EXPECT_THAT(directory.status().message(),
              HasSubstr("Can't contact LDAP server"));
}

TEST_F(LdapDirectoryTest, CreateAndGetServer) {
  Connect();
  ASSERT_TRUE(directory_
                  ->CreateServer(kServer, {"org-b.example", "org-a.example",
                                           "org-b.example"})
                  .ok());
  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer(kServer);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(server->has_value());
  EXPECT_EQ((*server)->name, kServer);
  EXPECT_THAT((*server)->domains,
              ElementsAre("org-a.example", "org-b.example"));
  EXPECT_THAT((*server)->pins, IsEmpty());

  absl::Status again = directory_->CreateServer(kServer, {kDomain});
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;

  absl::StatusOr<std::optional<ServerRecord>> absent =
      directory_->GetServer("mx9.org-b.example");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->has_value());

  // A server without domains is fine too.
  ASSERT_TRUE(directory_->CreateServer("mx2.org-b.example", {}).ok());
  EXPECT_THAT((*directory_->GetServer("mx2.org-b.example"))->domains,
              IsEmpty());
}

TEST_F(LdapDirectoryTest, AddDomainsAddsOnlyMissingOnes) {
  Connect();
  ASSERT_TRUE(directory_->CreateServer(kServer, {"b.example"}).ok());
  ASSERT_TRUE(
      directory_->AddDomains(kServer, {"c.example", "b.example", "a.example"})
          .ok());
  EXPECT_THAT((*directory_->GetServer(kServer))->domains,
              ElementsAre("a.example", "b.example", "c.example"));
  EXPECT_TRUE(directory_->AddDomains(kServer, {"a.example"}).ok());
  EXPECT_TRUE(directory_->AddDomains(kServer, {}).ok());
  EXPECT_THAT(Search(ServersDn(), "(cn=*)", {"dtrustMailDomain"}),
              HasSubstr("dtrustMailDomain: c.example"));

  absl::Status absent =
      directory_->AddDomains("mx9.org-b.example", {"x.example"});
  EXPECT_TRUE(absl::IsNotFound(absent)) << absent;
}

TEST_F(LdapDirectoryTest, FindByCertificateAndByPublicKeyDigest) {
  Connect();
  const TestCert cert = MakeTestCert();
  const PinRecord pin = PinFor(cert);
  Publish(kServer, cert);

  absl::StatusOr<std::vector<ServerRecord>> by_cert =
      directory_->FindByDigest(&pin.cert_sha256, nullptr);
  ASSERT_TRUE(by_cert.ok()) << by_cert.status();
  ASSERT_THAT(*by_cert, SizeIs(1));
  EXPECT_EQ((*by_cert)[0].name, kServer);
  EXPECT_THAT((*by_cert)[0].domains, ElementsAre(kDomain));
  ASSERT_THAT((*by_cert)[0].pins, SizeIs(1));
  const PinRecord& found = (*by_cert)[0].pins[0];
  EXPECT_EQ(found.cert_sha256, pin.cert_sha256);
  EXPECT_EQ(found.spki_sha256, pin.spki_sha256);
  EXPECT_EQ(found.kind, PinKind::kCertificate);
  EXPECT_EQ(found.der, cert.der);
  EXPECT_EQ(found.subject, pin.subject);
  EXPECT_EQ(found.not_before, pin.not_before);
  EXPECT_EQ(found.not_after, pin.not_after);

  absl::StatusOr<std::vector<ServerRecord>> by_spki =
      directory_->FindByDigest(nullptr, &pin.spki_sha256);
  ASSERT_TRUE(by_spki.ok()) << by_spki.status();
  ASSERT_THAT(*by_spki, SizeIs(1));
  EXPECT_EQ((*by_spki)[0].pins[0].cert_sha256, pin.cert_sha256);

  // A new certificate for the same key matches by key only.
  const PinRecord renewed =
      PinFor(MakeTestCert(CertSpec{.key_pem = cert.key_pem}));
  ASSERT_EQ(renewed.spki_sha256, pin.spki_sha256);
  by_spki =
      directory_->FindByDigest(&renewed.cert_sha256, &renewed.spki_sha256);
  ASSERT_TRUE(by_spki.ok()) << by_spki.status();
  ASSERT_THAT(*by_spki, SizeIs(1));
  EXPECT_EQ((*by_spki)[0].pins[0].cert_sha256, pin.cert_sha256);

  const PinRecord other = PinFor(MakeTestCert());
  absl::StatusOr<std::vector<ServerRecord>> none =
      directory_->FindByDigest(&other.cert_sha256, &other.spki_sha256);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());
  none = directory_->FindByDigest(nullptr, nullptr);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());
}

TEST_F(LdapDirectoryTest, RolloverTwoPinsOnOneServer) {
  Connect();
  const TestCert current = MakeTestCert();
  const TestCert next = MakeTestCert();
  Publish(kServer, current);
  Publish(kServer, next);
  const PinRecord current_pin = PinFor(current);
  const PinRecord next_pin = PinFor(next);

  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer(kServer);
  ASSERT_TRUE(server.ok() && server->has_value()) << server.status();
  std::vector<Sha256Digest> expected = {current_pin.cert_sha256,
                                        next_pin.cert_sha256};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(PinDigests(**server), expected);
  for (const PinRecord& pin : (*server)->pins) EXPECT_FALSE(pin.der.empty());

  for (const PinRecord* pin : {&current_pin, &next_pin}) {
    absl::StatusOr<std::vector<ServerRecord>> found =
        directory_->FindByDigest(&pin->cert_sha256, nullptr);
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_THAT(*found, SizeIs(1));
    // Only the matching pin.
    EXPECT_THAT(PinDigests((*found)[0]), ElementsAre(pin->cert_sha256));
  }
}

TEST_F(LdapDirectoryTest, SameCertificateOnTwoServers) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish("mx1.org-b.example", cert);
  Publish("mx2.org-b.example", cert);
  const PinRecord pin = PinFor(cert);
  absl::StatusOr<std::vector<ServerRecord>> found =
      directory_->FindByDigest(&pin.cert_sha256, &pin.spki_sha256);
  ASSERT_TRUE(found.ok()) << found.status();
  std::vector<std::string> names = Names(*found);
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("mx1.org-b.example", "mx2.org-b.example"));
  for (const ServerRecord& server : *found) {
    EXPECT_THAT(PinDigests(server), ElementsAre(pin.cert_sha256));
  }
}

TEST_F(LdapDirectoryTest, AddPinErrors) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  absl::Status duplicate = directory_->AddPin(kServer, PinFor(cert));
  EXPECT_TRUE(absl::IsAlreadyExists(duplicate)) << duplicate;

  absl::Status absent = directory_->AddPin("mx9.org-b.example", PinFor(cert));
  EXPECT_TRUE(absl::IsNotFound(absent)) << absent;
  EXPECT_THAT(absent.message(), HasSubstr("mx9.org-b.example"));

  // Digests that do not belong to the DER are never written.
  PinRecord mismatched = PinFor(MakeTestCert());
  mismatched.der = MakeTestCert().der;
  absl::Status bad = directory_->AddPin(kServer, mismatched);
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  mismatched.der = "not a certificate";
  EXPECT_TRUE(absl::IsInvalidArgument(directory_->AddPin(kServer, mismatched)));
  EXPECT_THAT(PinDigests(**directory_->GetServer(kServer)),
              ElementsAre(PinFor(cert).cert_sha256));
}

TEST_F(LdapDirectoryTest, UpdatePinKindAndWindow) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  PinRecord pin = PinFor(cert);
  EXPECT_EQ((*directory_->GetServer(kServer))->pins[0].window, PinWindow{});
  pin.kind = PinKind::kPublicKey;
  pin.window = {.not_before = absl::FromUnixSeconds(1800000000),
                .not_after = absl::FromUnixSeconds(1800000000) +
                             absl::Hours(1) + absl::Milliseconds(500)};
  ASSERT_TRUE(directory_->UpdatePin(kServer, pin).ok());
  const PinRecord stored = (*directory_->GetServer(kServer))->pins[0];
  EXPECT_EQ(stored.kind, PinKind::kPublicKey);
  EXPECT_EQ(stored.window, pin.window);
  EXPECT_EQ(
      (*directory_->FindByDigest(nullptr, &pin.spki_sha256))[0].pins[0].window,
      pin.window);
  EXPECT_THAT(
      Search(ServersDn(), "(objectClass=dtrustPinnedCertificate)",
             {"dtrustPinKind", "dtrustPinNotBefore", "dtrustPinNotAfter"}),
      AllOf(HasSubstr("dtrustPinKind: public-key"),
            HasSubstr("dtrustPinNotBefore: 20270115080000Z"),
            HasSubstr("dtrustPinNotAfter: 20270115090000.5Z")));
  // The window attributes are ordered: a filter can find lapsing pins.
  EXPECT_THAT(
      Search(ServersDn(), "(dtrustPinNotAfter<=20270116000000Z)", {"1.1"}),
      HasSubstr(pin.cert_sha256.ToHex()));

  // Unset bounds are removed.
  pin.kind = PinKind::kCertificate;
  pin.window.not_before.reset();
  ASSERT_TRUE(directory_->UpdatePin(kServer, pin).ok());
  EXPECT_EQ((*directory_->GetServer(kServer))->pins[0].window, pin.window);
  pin.window = {};
  ASSERT_TRUE(directory_->UpdatePin(kServer, pin).ok());
  EXPECT_EQ((*directory_->GetServer(kServer))->pins[0].window, PinWindow{});
  EXPECT_THAT(Search(ServersDn(), "(objectClass=dtrustPinnedCertificate)"),
              AllOf(Not(HasSubstr("dtrustPinNotBefore")),
                    Not(HasSubstr("dtrustPinNotAfter"))));

  PinRecord other = PinFor(MakeTestCert());
  absl::Status absent = directory_->UpdatePin(kServer, other);
  EXPECT_TRUE(absl::IsNotFound(absent)) << absent;
}

TEST_F(LdapDirectoryTest, AddPinStoresTheWindow) {
  Connect();
  ASSERT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
  PinRecord pin = PinFor(MakeTestCert());
  pin.window.not_after = absl::FromUnixSeconds(1800000000);
  ASSERT_TRUE(directory_->AddPin(kServer, pin).ok());
  EXPECT_EQ((*directory_->ListServers({}))[0].pins[0].window, pin.window);
}

// Windows written by other tools, in other GeneralizedTime forms, are read;
// slapd refuses values that are not GeneralizedTime at all (such a value,
// were it stored, makes dtrust skip the pin: see ldap_helpers_test).
TEST_F(LdapDirectoryTest, WindowsWrittenByOtherToolsAreRead) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  const PinRecord pin = PinFor(cert);
  auto modify = [&](const std::string& attribute, const std::string& value) {
    return slapd_->LdapModify(absl::StrCat(
        "dn: dtrustCertSha256=", pin.cert_sha256.ToHex(), ",cn=", kServer, ",",
        ServersDn(), "\nchangetype: modify\nreplace: ", attribute, "\n",
        attribute, ": ", value, "\n"));
  };
  ASSERT_TRUE(modify("dtrustPinNotAfter", "2027011509+0100").ok());
  EXPECT_EQ((*directory_->GetServer(kServer))->pins[0].window.not_after,
            absl::FromUnixSeconds(1800000000));
  for (const char* bad : {"2027-01-15", "tomorrow", "20271315080000Z"}) {
    EXPECT_FALSE(modify("dtrustPinNotBefore", bad).ok()) << bad;
  }
  EXPECT_THAT((*directory_->GetServer(kServer))->pins, SizeIs(1));
}

TEST_F(LdapDirectoryTest, RemovePinAndServer) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  const PinRecord pin = PinFor(cert);

  absl::Status busy = directory_->RemoveServer(kServer);
  EXPECT_TRUE(absl::IsFailedPrecondition(busy)) << busy;
  ASSERT_TRUE(directory_->RemovePin(kServer, pin.cert_sha256).ok());
  absl::Status again = directory_->RemovePin(kServer, pin.cert_sha256);
  EXPECT_TRUE(absl::IsNotFound(again)) << again;
  EXPECT_THAT(*directory_->FindByDigest(&pin.cert_sha256, nullptr), IsEmpty());

  ASSERT_TRUE(directory_->RemoveServer(kServer).ok());
  EXPECT_FALSE(directory_->GetServer(kServer)->has_value());
  absl::Status gone = directory_->RemoveServer(kServer);
  EXPECT_TRUE(absl::IsNotFound(gone)) << gone;
}

TEST_F(LdapDirectoryTest, ListServersSortedAndFiltered) {
  Connect();
  const TestCert a = MakeTestCert();
  const TestCert b = MakeTestCert();
  const TestCert c = MakeTestCert();
  ASSERT_TRUE(
      directory_->CreateServer("mx2.org-b.example", {"org-b.example"}).ok());
  ASSERT_TRUE(
      directory_->CreateServer("mx1.org-b.example", {"org-b.example"}).ok());
  ASSERT_TRUE(
      directory_->CreateServer("mx.org-c.example", {"org-c.example"}).ok());
  ASSERT_TRUE(directory_->AddPin("mx2.org-b.example", PinFor(a)).ok());
  ASSERT_TRUE(directory_->AddPin("mx2.org-b.example", PinFor(b)).ok());
  ASSERT_TRUE(directory_->AddPin("mx.org-c.example", PinFor(c)).ok());

  absl::StatusOr<std::vector<ServerRecord>> all = directory_->ListServers({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Names(*all), ElementsAre("mx.org-c.example", "mx1.org-b.example",
                                       "mx2.org-b.example"));
  EXPECT_THAT(PinDigests((*all)[0]), ElementsAre(PinFor(c).cert_sha256));
  EXPECT_THAT((*all)[1].pins, IsEmpty());
  std::vector<Sha256Digest> expected = {PinFor(a).cert_sha256,
                                        PinFor(b).cert_sha256};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(PinDigests((*all)[2]), expected);
  for (const PinRecord& pin : (*all)[2].pins) EXPECT_FALSE(pin.der.empty());

  absl::StatusOr<std::vector<ServerRecord>> by_domain =
      directory_->ListServers({.domain = "org-b.example"});
  ASSERT_TRUE(by_domain.ok()) << by_domain.status();
  EXPECT_THAT(Names(*by_domain),
              ElementsAre("mx1.org-b.example", "mx2.org-b.example"));
  EXPECT_EQ(PinDigests((*by_domain)[1]), expected);

  absl::StatusOr<std::vector<ServerRecord>> by_server =
      directory_->ListServers({.server = "mx2.org-b.example"});
  ASSERT_TRUE(by_server.ok()) << by_server.status();
  EXPECT_THAT(Names(*by_server), ElementsAre("mx2.org-b.example"));
  EXPECT_EQ(PinDigests((*by_server)[0]), expected);

  EXPECT_THAT(*directory_->ListServers(
                  {.server = "mx2.org-b.example", .domain = "org-c.example"}),
              IsEmpty());
  EXPECT_THAT(*directory_->ListServers({.domain = "org-z.example"}), IsEmpty());
  EXPECT_THAT(*directory_->ListServers({.server = "mx9.org-b.example"}),
              IsEmpty());
}

TEST_F(LdapDirectoryTest, LdapSearchShowsCertificateAndDigests) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  const PinRecord pin = PinFor(cert);
  const std::string ldif =
      Search(ServersDn(),
             absl::StrCat("(dtrustSpkiSha256=", pin.spki_sha256.ToHex(), ")"),
             {"userCertificate;binary", "dtrustCertSha256", "dtrustSpkiSha256",
              "dtrustPinKind"});
  EXPECT_THAT(ldif, HasSubstr(absl::StrCat(
                        "dn: dtrustCertSha256=", pin.cert_sha256.ToHex(),
                        ",cn=", kServer, ",", ServersDn())));
  EXPECT_THAT(ldif, HasSubstr(absl::StrCat("dtrustCertSha256: ",
                                           pin.cert_sha256.ToHex())));
  EXPECT_THAT(ldif, HasSubstr(absl::StrCat("dtrustSpkiSha256: ",
                                           pin.spki_sha256.ToHex())));
  EXPECT_THAT(ldif, HasSubstr("dtrustPinKind: certificate"));
  bool found_der = false;
  for (absl::string_view line : absl::StrSplit(ldif, '\n')) {
    if (absl::ConsumePrefix(&line, "userCertificate;binary:: ")) {
      std::string der;
      ASSERT_TRUE(absl::Base64Unescape(line, &der));
      EXPECT_EQ(der, cert.der);
      found_der = true;
    }
  }
  EXPECT_TRUE(found_der) << ldif;
}

// An entry whose digest attributes name one certificate while it stores
// another: what someone with write access might plant to get a certificate
// of theirs trusted under another's digest, or a corrupted entry.
TEST_F(LdapDirectoryTest, TamperedPinEntriesAreSkipped) {
  Connect();
  const TestCert genuine = MakeTestCert();
  Publish(kServer, genuine);
  const TestCert claimed = MakeTestCert();
  const TestCert stored = MakeTestCert();
  const PinRecord claimed_pin = PinFor(claimed);
  ASSERT_TRUE(
      slapd_
          ->LdapModify(absl::StrCat(
              "dn: dtrustCertSha256=", claimed_pin.cert_sha256.ToHex(),
              ",cn=", kServer, ",", ServersDn(),
              "\nobjectClass: dtrustPinnedCertificate\ndtrustCertSha256: ",
              claimed_pin.cert_sha256.ToHex(),
              "\ndtrustSpkiSha256: ", claimed_pin.spki_sha256.ToHex(),
              "\ndtrustPinKind: certificate\nuserCertificate;binary:: ",
              absl::Base64Escape(stored.der), "\n"))
          .ok());
  // And the genuine entry's key digest altered afterwards.
  const PinRecord genuine_pin = PinFor(genuine);
  const PinRecord unrelated = PinFor(MakeTestCert());
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat(
                      "dn: dtrustCertSha256=", genuine_pin.cert_sha256.ToHex(),
                      ",cn=", kServer, ",", ServersDn(),
                      "\nchangetype: modify\nreplace: dtrustSpkiSha256\n"
                      "dtrustSpkiSha256: ",
                      unrelated.spki_sha256.ToHex(), "\n"))
                  .ok());

  for (const PinRecord* pin : {&claimed_pin, &genuine_pin, &unrelated}) {
    absl::StatusOr<std::vector<ServerRecord>> found =
        directory_->FindByDigest(&pin->cert_sha256, &pin->spki_sha256);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_THAT(*found, IsEmpty());
  }
  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer(kServer);
  ASSERT_TRUE(server.ok() && server->has_value()) << server.status();
  EXPECT_THAT((*server)->pins, IsEmpty());
  EXPECT_THAT((*directory_->ListServers({}))[0].pins, IsEmpty());
  // Both entries are really there.
  EXPECT_THAT(Search(ServersDn(), "(objectClass=dtrustPinnedCertificate)",
                     {"dtrustCertSha256"}),
              HasSubstr(claimed_pin.cert_sha256.ToHex()));

  // A pin kind dtrust does not know is not trusted either.
  const TestCert other = MakeTestCert();
  const PinRecord other_pin = PinFor(other);
  Publish("mx2.org-b.example", other);
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat(
                      "dn: dtrustCertSha256=", other_pin.cert_sha256.ToHex(),
                      ",cn=mx2.org-b.example,", ServersDn(),
                      "\nchangetype: modify\nreplace: dtrustPinKind\n"
                      "dtrustPinKind: anything\n"))
                  .ok());
  EXPECT_THAT(*directory_->FindByDigest(&other_pin.cert_sha256, nullptr),
              IsEmpty());

  // Repairing the genuine entry makes it count again.
  ASSERT_TRUE(slapd_
                  ->LdapModify(absl::StrCat(
                      "dn: dtrustCertSha256=", genuine_pin.cert_sha256.ToHex(),
                      ",cn=", kServer, ",", ServersDn(),
                      "\nchangetype: modify\nreplace: dtrustSpkiSha256\n"
                      "dtrustSpkiSha256: ",
                      genuine_pin.spki_sha256.ToHex(), "\n"))
                  .ok());
  EXPECT_THAT(*directory_->FindByDigest(nullptr, &genuine_pin.spki_sha256),
              SizeIs(1));
}

// Server entries other tools wrote (ldapadd), each with a pin: found by the
// name the CLI uses and listed under it; two entries whose names normalize
// alike are one server with the domains and pins of both.
TEST_F(LdapDirectoryTest, ForeignServerSpellingsAreFoundAndMerged) {
  Connect();
  const TestCert first = MakeTestCert();
  const TestCert second = MakeTestCert();
  const auto add = [this](const std::string& name, const std::string& domain,
                          const TestCert& cert) {
    const PinRecord pin = PinFor(cert);
    const std::string server_dn = absl::StrCat("cn=", name, ",", ServersDn());
    ASSERT_TRUE(
        slapd_
            ->LdapModify(absl::StrCat(
                "dn: ", server_dn, "\nobjectClass: dtrustTransportServer\ncn: ",
                name, "\ndtrustMailDomain: ", domain,
                "\n\ndn: dtrustCertSha256=", pin.cert_sha256.ToHex(), ",",
                server_dn,
                "\nobjectClass: dtrustPinnedCertificate\ndtrustCertSha256: ",
                pin.cert_sha256.ToHex(),
                "\ndtrustSpkiSha256: ", pin.spki_sha256.ToHex(),
                "\ndtrustPinKind: certificate\nuserCertificate;binary:: ",
                absl::Base64Escape(cert.der), "\n"))
            .ok());
  };
  add("MX.Org-C.Example.", "ORG-C.example.", first);
  add("mx.org-c.example", "org-d.example", second);

  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer("mx.org-c.example");
  ASSERT_TRUE(server.ok() && server->has_value()) << server.status();
  EXPECT_EQ((*server)->name, "mx.org-c.example");
  EXPECT_THAT((*server)->domains,
              ElementsAre("org-c.example", "org-d.example"));
  EXPECT_THAT((*server)->pins, SizeIs(2));
  EXPECT_TRUE((*directory_->GetServer("MX.org-c.example.")).has_value());

  absl::StatusOr<std::vector<ServerRecord>> all = directory_->ListServers({});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_THAT(Names(*all), ElementsAre("mx.org-c.example"));
  EXPECT_THAT((*all)[0].pins, SizeIs(2));
  EXPECT_THAT(Names(*directory_->ListServers({.domain = "org-c.example"})),
              ElementsAre("mx.org-c.example"));
  const PinRecord pin = PinFor(first);
  EXPECT_THAT(Names(*directory_->FindByDigest(&pin.cert_sha256, nullptr)),
              ElementsAre("mx.org-c.example"));
}

// Names are validated by the callers, but the adapter must not rely on it:
// LDAP metacharacters are stored literally, never interpreted. Read back,
// such entries name no DNS name, so no query can match them: they are
// skipped (as entries other tools write with such names are).
TEST_F(LdapDirectoryTest, SpecialCharactersAreEscaped) {
  Connect();
  const std::string name = "a,b=c+d\"e\\f*(g)";
  const std::string domain = "x)(objectClass=*";
  const std::string odd = "#lead; <trail> ";
  ASSERT_TRUE(directory_->CreateServer(name, {domain, "*"}).ok());
  ASSERT_TRUE(directory_->CreateServer(odd, {"ou=servers"}).ok());
  ASSERT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
  const TestCert cert = MakeTestCert();
  ASSERT_TRUE(directory_->AddPin(name, PinFor(cert)).ok());

  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer(name);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_FALSE(server->has_value());
  EXPECT_FALSE(directory_->GetServer(odd)->has_value());

  // Filter values are literal: "*" is not a wildcard, ")(" closes nothing.
  EXPECT_THAT(*directory_->ListServers({.domain = "*"}), IsEmpty());
  EXPECT_THAT(*directory_->ListServers({.domain = domain}), IsEmpty());
  EXPECT_THAT(*directory_->ListServers({.domain = "*)(cn=*"}), IsEmpty());
  EXPECT_THAT(Names(*directory_->ListServers({.domain = kDomain})),
              ElementsAre(kServer));
  EXPECT_THAT(Names(*directory_->ListServers({})), ElementsAre(kServer));
  const PinRecord pin = PinFor(cert);
  absl::StatusOr<std::vector<ServerRecord>> found =
      directory_->FindByDigest(&pin.cert_sha256, nullptr);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, IsEmpty());

  // Exactly three server entries, one level below ou=servers.
  const std::string ldif =
      Search(ServersDn(), "(objectClass=dtrustTransportServer)", {"cn"});
  std::vector<std::string> dns;
  for (absl::string_view line : absl::StrSplit(ldif, '\n')) {
    if (absl::StartsWith(line, "dn")) dns.emplace_back(line);
  }
  EXPECT_THAT(dns, SizeIs(3)) << ldif;
  EXPECT_THAT(ldif, HasSubstr(R"(cn=a\2Cb\3Dc\2Bd\22e\5Cf*(g),ou=servers)"));

  EXPECT_TRUE(directory_->RemovePin(name, pin.cert_sha256).ok());
  EXPECT_TRUE(directory_->RemoveServer(name).ok());
  EXPECT_TRUE(directory_->RemoveServer(odd).ok());
  EXPECT_THAT(
      Search(ServersDn(), "(objectClass=dtrustTransportServer)", {"cn"}),
      Not(HasSubstr("(g)")));

  // A NUL byte is either stored literally or refused; never truncated.
  const std::string with_nul("nul\0byte", 8);
  absl::Status created = directory_->CreateServer(with_nul, {});
  if (created.ok()) {
    EXPECT_TRUE(directory_->RemoveServer(with_nul).ok());
  }
  EXPECT_FALSE(directory_->GetServer("nul")->has_value());
  EXPECT_TRUE(absl::IsInvalidArgument(directory_->CreateServer("", {})));
}

// Every method, with slapd stopped: Unavailable, quickly. Then the same
// LdapDirectory recovers once slapd is back.
TEST_F(LdapDirectoryTest, StoppedDirectoryIsUnavailableThenRecovers) {
  LdapOptions options = Options();
  options.timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<LdapDirectory>> connected =
      LdapDirectory::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  LdapDirectory& directory = **connected;
  const TestCert cert = MakeTestCert();
  const PinRecord pin = PinFor(cert);
  ASSERT_TRUE(directory.CreateServer(kServer, {kDomain}).ok());
  ASSERT_TRUE(directory.AddPin(kServer, pin).ok());
  const DomainPolicy policy = {.domain = kDomain,
                               .send = SecureMode::kEnforce,
                               .receive = SecureMode::kEnforce};
  ASSERT_TRUE(directory.PutDomainPolicy(policy).ok());

  const std::vector<std::pair<std::string, std::function<absl::Status()>>>
      calls = {
          {"FindByDigest",
           [&] {
             return directory.FindByDigest(&pin.cert_sha256, nullptr).status();
           }},
          {"GetServer", [&] { return directory.GetServer(kServer).status(); }},
          {"ListServers", [&] { return directory.ListServers({}).status(); }},
          {"CreateServer",
           [&] { return directory.CreateServer("mx2.org-b.example", {}); }},
          {"AddDomains",
           [&] { return directory.AddDomains(kServer, {"new.example"}); }},
          {"AddPin",
           [&] { return directory.AddPin(kServer, PinFor(MakeTestCert())); }},
          {"UpdatePin", [&] { return directory.UpdatePin(kServer, pin); }},
          {"RemovePin",
           [&] { return directory.RemovePin(kServer, pin.cert_sha256); }},
          {"RemoveServer", [&] { return directory.RemoveServer(kServer); }},
          {"ListDomainPolicies",
           [&] { return directory.ListDomainPolicies().status(); }},
          {"GetDomainPolicy",
           [&] { return directory.GetDomainPolicy(kDomain).status(); }},
          {"PutDomainPolicy",
           [&] {
             return directory.PutDomainPolicy({.domain = kDomain,
                                               .send = SecureMode::kTesting,
                                               .receive = SecureMode::kOff});
           }},
          {"RemoveDomainPolicy",
           [&] { return directory.RemoveDomainPolicy(kDomain); }},
      };

  ASSERT_TRUE(slapd_->Stop().ok());
  for (const auto& [name, call] : calls) {
    const absl::Time start = absl::Now();
    const absl::Status status = call();
    EXPECT_TRUE(absl::IsUnavailable(status)) << name << ": " << status;
    EXPECT_LT(absl::Now() - start, 2 * options.timeout) << name;
  }

  ASSERT_TRUE(slapd_->Restart().ok());
  absl::StatusOr<std::vector<ServerRecord>> found =
      directory.FindByDigest(&pin.cert_sha256, nullptr);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(Names(*found), ElementsAre(kServer));
  EXPECT_TRUE(directory.CreateServer("mx2.org-b.example", {}).ok());
  absl::StatusOr<std::optional<DomainPolicy>> read =
      directory.GetDomainPolicy(kDomain);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->send, SecureMode::kEnforce);
  EXPECT_TRUE(directory.RemoveDomainPolicy(kDomain).ok());
}

// A hung server (connections are accepted, nothing answers) must not hang
// callers either.
TEST_F(LdapDirectoryTest, HungDirectoryTimesOut) {
  LdapOptions options = Options();
  options.timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<LdapDirectory>> connected =
      LdapDirectory::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  LdapDirectory& directory = **connected;
  ASSERT_TRUE(directory.CreateServer(kServer, {kDomain}).ok());

  ASSERT_TRUE(slapd_->Pause().ok());
  for (int i = 0; i < 2; ++i) {  // A pooled, then a fresh connection.
    const absl::Time start = absl::Now();
    absl::StatusOr<std::optional<ServerRecord>> server =
        directory.GetServer(kServer);
    EXPECT_TRUE(absl::IsUnavailable(server.status())) << server.status();
    EXPECT_LT(absl::Now() - start, 2 * options.timeout);
    const absl::Time write_start = absl::Now();
    absl::Status write = directory.AddDomains(kServer, {"new.example"});
    EXPECT_TRUE(absl::IsUnavailable(write)) << write;
    EXPECT_LT(absl::Now() - write_start, 2 * options.timeout);
  }
  ASSERT_TRUE(slapd_->Resume().ok());
  absl::StatusOr<std::optional<ServerRecord>> server =
      directory.GetServer(kServer);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(server->has_value());
}

// Pooled connections a restarted server has closed: reads retry once on a
// fresh connection and succeed; writes are not retried blindly.
TEST_F(LdapDirectoryTest, RestartBetweenCalls) {
  Connect();
  ASSERT_TRUE(directory_->CreateServer(kServer, {kDomain}).ok());
  ASSERT_TRUE(slapd_->Stop().ok());
  ASSERT_TRUE(slapd_->Restart().ok());
  absl::StatusOr<std::optional<ServerRecord>> server =
      directory_->GetServer(kServer);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(server->has_value());

  ASSERT_TRUE(slapd_->Stop().ok());
  ASSERT_TRUE(slapd_->Restart().ok());
  absl::Status write = directory_->AddDomains(kServer, {"new.example"});
  EXPECT_TRUE(absl::IsUnavailable(write)) << write;
  EXPECT_TRUE(directory_->AddDomains(kServer, {"new.example"}).ok());
}

TEST_F(LdapDirectoryTest, ConcurrentCallers) {
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  const PinRecord pin = PinFor(cert);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        absl::StatusOr<std::vector<ServerRecord>> found =
            directory_->FindByDigest(&pin.cert_sha256, nullptr);
        if (!found.ok() || found->size() != 1) ++failures;
        if (!directory_
                 ->AddDomains(kServer, {absl::StrCat("d", t % 3, ".example")})
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT((*directory_->GetServer(kServer))->domains,
              ElementsAre("d0.example", "d1.example", "d2.example", kDomain));
}

// slapd run from cn=config built with deploy/ldap/dtrust.ldif: every
// definition there, the Domain Security ones included, loads and works.
TEST_F(LdapDirectoryTest, CnConfigMode) {
  StartSlapd(
      {.mode = SlapdFixture::ConfigMode::kCnConfig, .suffix = "o=dtrust"});
  Connect();
  const TestCert cert = MakeTestCert();
  Publish(kServer, cert);
  const PinRecord pin = PinFor(cert);
  absl::StatusOr<std::vector<ServerRecord>> found =
      directory_->FindByDigest(nullptr, &pin.spki_sha256);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(Names(*found), ElementsAre(kServer));
  EXPECT_THAT(
      Search("ou=servers,o=dtrust", "(objectClass=dtrustPinnedCertificate)",
             {"userCertificate;binary"}),
      HasSubstr("userCertificate;binary:: "));

  ASSERT_TRUE(directory_
                  ->PutDomainPolicy({.domain = kDomain,
                                     .send = SecureMode::kEnforce,
                                     .receive = SecureMode::kTesting})
                  .ok());
  absl::StatusOr<std::vector<DomainPolicy>> policies =
      directory_->ListDomainPolicies();
  ASSERT_TRUE(policies.ok()) << policies.status();
  ASSERT_THAT(*policies, SizeIs(1));
  EXPECT_EQ((*policies)[0].domain, kDomain);
  EXPECT_EQ((*policies)[0].send, SecureMode::kEnforce);
  EXPECT_EQ((*policies)[0].receive, SecureMode::kTesting);
  EXPECT_THAT(Search("ou=domains,o=dtrust", "(objectClass=dtrustSecureDomain)",
                     {"dtrustSendSecurity", "dtrustReceiveSecurity"}),
              AllOf(HasSubstr("dtrustSendSecurity: enforce"),
                    HasSubstr("dtrustReceiveSecurity: testing")));
}

}  // namespace
}  // namespace dtrust
