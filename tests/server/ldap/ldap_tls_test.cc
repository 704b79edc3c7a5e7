// TLS to an external directory (--ldap-ca, --ldap-starttls): LdapConnection
// and the real dtrustd against a real slapd serving ldaps:// and StartTLS
// with a certificate from a private CA made by openssl.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ldap/ldap_connection.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/slapd_fixture.h"
#include "tests/testing/test_tls.h"

namespace dtrust {
namespace {

using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::Eventually;
using ::dtrust::testing::IssueTestServerCert;
using ::dtrust::testing::MakeTestCa;
using ::dtrust::testing::SlapdFixture;
using ::dtrust::testing::TlsFiles;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kLocalNames[] = "DNS:localhost,IP:127.0.0.1";

class LdapTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/dtrust-ldap-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    absl::StatusOr<TlsFiles> ca = MakeTestCa(dir_, "dtrust-test-ca");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = *ca;
    absl::StatusOr<TlsFiles> other_ca = MakeTestCa(dir_, "another-ca");
    ASSERT_TRUE(other_ca.ok()) << other_ca.status();
    other_ca_ = *other_ca;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A slapd with `options` and TLS, its certificate issued by ca_ for
  // `names`.
  std::unique_ptr<SlapdFixture> StartTlsSlapd(
      const std::string& names = kLocalNames,
      SlapdFixture::Options options = {}) {
    absl::StatusOr<TlsFiles> server =
        IssueTestServerCert(dir_, "slapd", ca_, names);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    options.tls = *server;
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
        SlapdFixture::Start(options);
    EXPECT_TRUE(slapd.ok()) << slapd.status();
    return slapd.ok() ? *std::move(slapd) : nullptr;
  }

  static LdapOptions Options(const SlapdFixture& slapd, const std::string& uri,
                             const std::string& ca_file, bool start_tls) {
    LdapOptions options;
    options.uris = {uri};
    options.base_dn = slapd.suffix();
    options.bind_dn = slapd.bind_dn();
    options.bind_password = slapd.bind_password();
    options.tls_ca_file = ca_file;
    options.start_tls = start_tls;
    options.timeout = absl::Seconds(5);
    return options;
  }

  // How a connection made with `options` runs once it read the suffix
  // entry: "TLS" or "plain"; else its error, e.g. "UNAVAILABLE: ...".
  static std::string HowConnected(const LdapOptions& options) {
    absl::StatusOr<std::unique_ptr<LdapConnection>> connection =
        LdapConnection::Open(options);
    if (!connection.ok()) return connection.status().ToString();
    const absl::Status read = (*connection)
                                  ->Search(options.base_dn, LdapScope::kBase,
                                           "(objectClass=*)", {"1.1"})
                                  .status();
    if (!read.ok()) return read.ToString();
    return (*connection)->tls() ? "TLS" : "plain";
  }

  std::string dir_;
  TlsFiles ca_;
  TlsFiles other_ca_;
};

TEST_F(LdapTlsTest, LdapsAndStartTlsWithTheCaAreVerifiedTls) {
  for (SlapdFixture::ConfigMode mode : {SlapdFixture::ConfigMode::kSlapdConf,
                                        SlapdFixture::ConfigMode::kCnConfig}) {
    SCOPED_TRACE(mode == SlapdFixture::ConfigMode::kSlapdConf ? "slapd.conf"
                                                              : "cn=config");
    std::unique_ptr<SlapdFixture> slapd =
        StartTlsSlapd(kLocalNames, {.mode = mode});
    ASSERT_NE(slapd, nullptr);
    EXPECT_EQ(HowConnected(Options(*slapd, slapd->ldaps_uri(), ca_.cert_file,
                                   /*start_tls=*/false)),
              "TLS");
    EXPECT_EQ(HowConnected(Options(*slapd, slapd->uri(), ca_.cert_file,
                                   /*start_tls=*/true)),
              "TLS");
    // The same URI without StartTLS is plain: tls() tells them apart.
    EXPECT_EQ(HowConnected(Options(*slapd, slapd->uri(), "",
                                   /*start_tls=*/false)),
              "plain");
  }
}

// The server is the same one that accepts plain ldap://: a failure here is
// TLS refusing, not a server that is down, and no plain connection is made.
TEST_F(LdapTlsTest, AnotherCaFailsNamingTlsAndNeverFallsBackToPlain) {
  std::unique_ptr<SlapdFixture> slapd = StartTlsSlapd();
  ASSERT_NE(slapd, nullptr);
  const std::string ldaps = HowConnected(
      Options(*slapd, slapd->ldaps_uri(), other_ca_.cert_file, false));
  EXPECT_THAT(ldaps, StartsWith("UNAVAILABLE: "));
  EXPECT_THAT(ldaps, HasSubstr("the TLS handshake failed: the server's "
                               "certificate must chain to a CA certificate "
                               "in " +
                               other_ca_.cert_file + " and name 127.0.0.1"));
  const std::string start_tls =
      HowConnected(Options(*slapd, slapd->uri(), other_ca_.cert_file, true));
  EXPECT_THAT(start_tls, StartsWith("UNAVAILABLE: "));
  EXPECT_THAT(start_tls, HasSubstr("StartTLS with " + slapd->uri() +
                                   " failed (no plain connection is made)"));
  EXPECT_THAT(start_tls, HasSubstr("the TLS handshake failed"));
}

TEST_F(LdapTlsTest, TheServerMustBeNamedInItsCertificate) {
  std::unique_ptr<SlapdFixture> slapd = StartTlsSlapd("DNS:ldap.example.org");
  ASSERT_NE(slapd, nullptr);
  EXPECT_THAT(
      HowConnected(Options(*slapd, slapd->ldaps_uri(), ca_.cert_file, false)),
      StartsWith("UNAVAILABLE: "));
  EXPECT_THAT(HowConnected(Options(*slapd, slapd->uri(), ca_.cert_file, true)),
              StartsWith("UNAVAILABLE: "));
}

// Without --ldap-ca the system store decides (the private CA is not in it),
// and neither ldap.conf nor LDAPTLS_* can turn verification off.
TEST_F(LdapTlsTest, WithoutACaFileTheSystemStoreStillVerifies) {
  // Read by libldap when it first initializes in this process.
  setenv("LDAPTLS_REQCERT", "never", 1);
  std::unique_ptr<SlapdFixture> slapd = StartTlsSlapd();
  ASSERT_NE(slapd, nullptr);
  EXPECT_THAT(HowConnected(Options(*slapd, slapd->ldaps_uri(), "", false)),
              StartsWith("UNAVAILABLE: "));
  EXPECT_THAT(HowConnected(Options(*slapd, slapd->uri(), "", true)),
              StartsWith("UNAVAILABLE: "));
  unsetenv("LDAPTLS_REQCERT");
}

TEST_F(LdapTlsTest, StartTlsToAServerWithoutTlsFails) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  const std::string start_tls =
      HowConnected(Options(**slapd, (*slapd)->uri(), ca_.cert_file, true));
  EXPECT_THAT(start_tls, StartsWith("UNAVAILABLE: "));
  EXPECT_THAT(start_tls,
              HasSubstr("StartTLS with " + (*slapd)->uri() + " failed"));
}

// dtrustd --ldap-uri URI --ldap-ca / --ldap-starttls. Without a mirror
// (--directory-sync none) the directory must answer at start (exit 1
// otherwise).
class DtrustdLdapTlsTest : public LdapTlsTest {
 protected:
  static absl::StatusOr<std::unique_ptr<DtrustdProcess>> StartDtrustd(
      const SlapdFixture& slapd, const std::string& uri,
      std::vector<std::string> more_args) {
    std::vector<std::string> args = {"--ldap-uri",
                                     uri,
                                     "--base-dn",
                                     slapd.suffix(),
                                     "--bind-dn",
                                     slapd.bind_dn(),
                                     "--bind-password-file",
                                     slapd.bind_password_file()};
    args.insert(args.end(), more_args.begin(), more_args.end());
    return DtrustdProcess::Start(args);
  }
};

TEST_F(DtrustdLdapTlsTest, ServesOverLdapsAndOverStartTls) {
  std::unique_ptr<SlapdFixture> slapd = StartTlsSlapd();
  ASSERT_NE(slapd, nullptr);
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> ldaps =
      StartDtrustd(*slapd, slapd->ldaps_uri(),
                   {"--ldap-ca", ca_.cert_file, "--directory-sync", "none"});
  ASSERT_TRUE(ldaps.ok()) << ldaps.status();
  EXPECT_THAT((*ldaps)->Log(), HasSubstr("directory: " + slapd->ldaps_uri()));
  EXPECT_TRUE((*ldaps)->Stop().ok());

  absl::StatusOr<std::unique_ptr<DtrustdProcess>> start_tls =
      StartDtrustd(*slapd, slapd->uri(),
                   {"--ldap-ca", ca_.cert_file, "--ldap-starttls",
                    "--directory-sync", "none"});
  ASSERT_TRUE(start_tls.ok()) << start_tls.status();
  EXPECT_THAT((*start_tls)->Log(), HasSubstr("directory: " + slapd->uri()));
}

TEST_F(DtrustdLdapTlsTest, RefusesToStartWhenTlsFails) {
  std::unique_ptr<SlapdFixture> slapd = StartTlsSlapd();
  ASSERT_NE(slapd, nullptr);
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> wrong_ca =
      StartDtrustd(*slapd, slapd->uri(),
                   {"--ldap-ca", other_ca_.cert_file, "--ldap-starttls",
                    "--directory-sync", "none"});
  ASSERT_FALSE(wrong_ca.ok());
  EXPECT_THAT(wrong_ca.status().message(),
              HasSubstr("StartTLS with " + slapd->uri() + " failed"));

  absl::StatusOr<std::unique_ptr<SlapdFixture>> plain = SlapdFixture::Start();
  ASSERT_TRUE(plain.ok()) << plain.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> no_tls =
      StartDtrustd(**plain, (*plain)->uri(),
                   {"--ldap-starttls", "--directory-sync", "none"});
  ASSERT_FALSE(no_tls.ok());
  EXPECT_THAT(no_tls.status().message(),
              HasSubstr("StartTLS with " + (*plain)->uri() + " failed"));
}

// A directory that refuses plain ldap://: dtrustd's every connection (the
// mirror's content sync, the grant store, writes) must be TLS for it to
// serve.
TEST_F(DtrustdLdapTlsTest, ServesFromADirectoryThatRefusesPlainLdap) {
  std::unique_ptr<SlapdFixture> slapd =
      StartTlsSlapd(kLocalNames, {.tls_only = true});
  ASSERT_NE(slapd, nullptr);
  EXPECT_THAT(HowConnected(Options(*slapd, slapd->uri(), "", false)),
              HasSubstr("Confidentiality required"));
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd = StartDtrustd(
      *slapd, slapd->uri(), {"--ldap-ca", ca_.cert_file, "--ldap-starttls"});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  EXPECT_TRUE(Eventually([&] {
    return absl::StrContains((*dtrustd)->Log(), "health: SERVING");
  })) << (*dtrustd)->Log();
  EXPECT_THAT((*dtrustd)->Log(),
              HasSubstr("directory mirror follows " + slapd->uri()));
  EXPECT_TRUE((*dtrustd)->Stop().ok()) << (*dtrustd)->Log();
}

}  // namespace
}  // namespace dtrust
