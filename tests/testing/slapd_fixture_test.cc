// SlapdFixture as an RFC 4533 content sync provider, in both configuration
// modes, and deploy/ldap/syncprov.ldif applied to a cn=config slapd.
#include "tests/testing/slapd_fixture.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/run_command.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSyncprovLdif[] = DTRUST_SOURCE_DIR "/deploy/ldap/syncprov.ldif";

class SlapdFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/dtrust-fixture-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    scratch_ = dir;
  }
  void TearDown() override { std::filesystem::remove_all(scratch_); }

  CommandResult Run(const std::vector<std::string>& argv) {
    absl::StatusOr<CommandResult> result = RunCommand(scratch_, argv);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(CommandResult());
  }

  // A refreshOnly content sync search of the whole suffix as the service
  // account; the control is critical, so it fails without syncprov.
  CommandResult SyncSearch(const SlapdFixture& slapd) {
    return Run({"/usr/bin/ldapsearch", "-x", "-H", slapd.uri(), "-D",
                slapd.bind_dn(), "-y", slapd.bind_password_file(), "-b",
                slapd.suffix(), "-E", "!sync=ro", "(objectClass=*)", "1.1"});
  }

  // The entryUUID of the service account, then whether a search by it
  // finds the account (the entryUUID index must cover existing entries).
  void ExpectFoundByEntryUuid(const SlapdFixture& slapd) {
    absl::StatusOr<std::string> entry =
        slapd.LdapSearch(slapd.bind_dn(), "(objectClass=*)", {"entryUUID"});
    ASSERT_TRUE(entry.ok()) << entry.status();
    const size_t at = entry->find("entryUUID: ");
    ASSERT_NE(at, std::string::npos) << *entry;
    const std::string uuid = entry->substr(at + 11, 36);
    // back-mdb builds an index added over cn=config in the background.
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    absl::StatusOr<std::string> found;
    do {
      found = slapd.LdapSearch(slapd.suffix(),
                               absl::StrCat("(entryUUID=", uuid, ")"), {"1.1"});
      ASSERT_TRUE(found.ok()) << found.status();
      if (found->find(slapd.bind_dn()) != std::string::npos) return;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    ADD_FAILURE() << "(entryUUID=" << uuid << ") does not find "
                  << slapd.bind_dn() << ": " << *found;
  }

  std::string scratch_;
};

TEST_F(SlapdFixtureTest, IsAContentSyncProviderInBothModes) {
  for (SlapdFixture::ConfigMode mode : {SlapdFixture::ConfigMode::kSlapdConf,
                                        SlapdFixture::ConfigMode::kCnConfig}) {
    SCOPED_TRACE(mode == SlapdFixture::ConfigMode::kSlapdConf ? "slapd.conf"
                                                              : "cn=config");
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
        SlapdFixture::Start({.mode = mode, .suffix = "o=dtrust"});
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    const CommandResult sync = SyncSearch(**slapd);
    EXPECT_TRUE(sync.ok()) << sync.Describe("ldapsearch -E !sync=ro");
    EXPECT_THAT(sync.out, HasSubstr("dn: cn=dtrustd,o=dtrust\n"));
    EXPECT_THAT(sync.out, HasSubstr("# cookie: rid=000,csn="));
    ExpectFoundByEntryUuid(**slapd);
  }
}

TEST_F(SlapdFixtureTest, SyncprovLdifMakesACnConfigDirectoryAProvider) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd =
      SlapdFixture::Start({.mode = SlapdFixture::ConfigMode::kCnConfig,
                           .suffix = "dc=example,dc=org",
                           .content_sync = false});
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  const CommandResult before = SyncSearch(**slapd);
  ASSERT_TRUE(WIFEXITED(before.status)) << before.status;
  EXPECT_EQ(WEXITSTATUS(before.status), 12)  // unavailableCriticalExtension
      << before.Describe("ldapsearch -E !sync=ro");

  // As the file itself says (as root, SASL EXTERNAL over ldapi).
  const CommandResult applied =
      Run({"/usr/bin/ldapmodify", "-Q", "-Y", "EXTERNAL", "-H",
           (*slapd)->ldapi_uri(), "-f", kSyncprovLdif});
  ASSERT_TRUE(applied.ok()) << applied.Describe("ldapmodify syncprov.ldif");

  const CommandResult after = SyncSearch(**slapd);
  EXPECT_TRUE(after.ok()) << after.Describe("ldapsearch -E !sync=ro");
  EXPECT_THAT(after.out, HasSubstr("dn: dc=example,dc=org\n"));
  EXPECT_THAT(after.out, HasSubstr("# cookie: rid=000,csn="));
  ExpectFoundByEntryUuid(**slapd);
  const CommandResult config = Run(
      {"/usr/bin/ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H",
       (*slapd)->ldapi_uri(), "-b", "olcDatabase={1}mdb,cn=config",
       "(objectClass=*)", "olcDbIndex", "olcSpCheckpoint", "olcSpSessionlog"});
  EXPECT_THAT(config.out, HasSubstr("olcDbIndex: entryUUID,entryCSN eq\n"));
  EXPECT_THAT(config.out, HasSubstr("olcSpCheckpoint: 100 5\n"));
  EXPECT_THAT(config.out, HasSubstr("olcSpSessionlog: 10000\n"));
  // The overlay and the index were added to the configuration for good.
  ASSERT_TRUE((*slapd)->Stop().ok());
  ASSERT_TRUE((*slapd)->Restart().ok());
  const CommandResult restarted = SyncSearch(**slapd);
  EXPECT_TRUE(restarted.ok()) << restarted.Describe("ldapsearch -E !sync=ro");
}

}  // namespace
}  // namespace dtrust::testing
