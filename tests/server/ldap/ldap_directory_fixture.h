// The test fixture the LdapDirectory tests share: a real slapd
// (tests/testing/slapd_fixture.h) and an LdapDirectory bound to it as the
// service account.
#ifndef DTRUST_TESTS_SERVER_LDAP_LDAP_DIRECTORY_FIXTURE_H_
#define DTRUST_TESTS_SERVER_LDAP_LDAP_DIRECTORY_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/ldap/ldap_directory.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::testing {

// Starts a slapd.conf-mode slapd per test; directory_ stays null until
// Connect().
class LdapDirectoryFixture : public ::testing::Test {
 protected:
  void SetUp() override { StartSlapd(SlapdFixture::Options()); }

  // Replaces slapd_ by a new slapd started with `options`.
  void StartSlapd(const SlapdFixture::Options& options) {
    slapd_.reset();
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
        SlapdFixture::Start(options);
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
  }

  // Simple bind as the service account, 2 s timeout, 2 connections.
  LdapOptions Options() const {
    LdapOptions options;
    options.uris = {slapd_->uri()};
    options.base_dn = slapd_->suffix();
    options.bind_dn = slapd_->bind_dn();
    options.bind_password = slapd_->bind_password();
    options.timeout = absl::Seconds(2);
    options.connections = 2;
    return options;
  }

  // Connects with Options() into directory_.
  void Connect() {
    absl::StatusOr<std::unique_ptr<LdapDirectory>> directory =
        LdapDirectory::Connect(Options());
    ASSERT_TRUE(directory.ok()) << directory.status();
    directory_ = *std::move(directory);
  }

  // The real ldapsearch's LDIF; "" (and a test failure) if it fails.
  std::string Search(const std::string& base, const std::string& filter,
                     const std::vector<std::string>& attrs = {}) const {
    absl::StatusOr<std::string> ldif = slapd_->LdapSearch(base, filter, attrs);
    EXPECT_TRUE(ldif.ok()) << ldif.status();
    return ldif.value_or("");
  }

  std::string ServersDn() const {
    return absl::StrCat("ou=servers,", slapd_->suffix());
  }
  std::string DomainsDn() const {
    return absl::StrCat("ou=domains,", slapd_->suffix());
  }

  std::unique_ptr<SlapdFixture> slapd_;
  std::unique_ptr<LdapDirectory> directory_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_SERVER_LDAP_LDAP_DIRECTORY_FIXTURE_H_
