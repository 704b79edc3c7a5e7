// LdapAuditStore against a real slapd.
#include "server/ldap/ldap_audit_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/ldap/ldap_directory_fixture.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;

AuditRecord Record(int64_t seconds, std::string action,
                   std::vector<std::string> servers,
                   std::vector<std::string> domains) {
  return AuditRecord{.time = absl::FromUnixSeconds(seconds),
                     .actor = "unix user root (uid 0)",
                     .from = "unix:pid 1",
                     .action = std::move(action),
                     .servers = std::move(servers),
                     .domains = std::move(domains),
                     .detail = "before -> after",
                     .outcome = "ok: done"};
}

std::vector<std::string> Actions(const std::vector<AuditRecord>& records) {
  std::vector<std::string> actions;
  for (const AuditRecord& record : records) actions.push_back(record.action);
  return actions;
}

class LdapAuditStoreTest : public LdapDirectoryFixture {};

TEST_F(LdapAuditStoreTest, AppendsAndQueriesByServerDomainTimeAndLimit) {
  Connect();  // Creates ou=audit.
  LdapAuditStore store(Options());
  ASSERT_TRUE(store.Append(Record(1800000300, "C", {}, {"a.example"})).ok());
  ASSERT_TRUE(
      store.Append(Record(1800000100, "A", {"mx1.a.example"}, {"a.example"}))
          .ok());
  ASSERT_TRUE(
      store.Append(Record(1800000200, "B", {"mx2.b.example"}, {})).ok());
  bool truncated = true;
  absl::StatusOr<std::vector<AuditRecord>> all = store.Query({}, &truncated);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Actions(*all), ElementsAre("A", "B", "C"));  // Oldest first.
  EXPECT_FALSE(truncated);
  EXPECT_EQ((*all)[0].detail, "before -> after");
  EXPECT_EQ((*all)[0].from, "unix:pid 1");
  EXPECT_EQ((*all)[0].time, absl::FromUnixSeconds(1800000100));

  EXPECT_THAT(Actions(*store.Query({.server = "mx2.b.example"}, &truncated)),
              ElementsAre("B"));
  EXPECT_THAT(Actions(*store.Query({.domain = "a.example"}, &truncated)),
              ElementsAre("A", "C"));
  EXPECT_THAT(Actions(*store.Query({.since = absl::FromUnixSeconds(1800000200)},
                                   &truncated)),
              ElementsAre("B", "C"));
  EXPECT_THAT(Actions(*store.Query({.limit = 2}, &truncated)),
              ElementsAre("B", "C"));
  EXPECT_TRUE(truncated);
  // A filter value with LDAP special characters matches nothing, safely.
  EXPECT_TRUE(store.Query({.server = "*)(x=*"}, &truncated)->empty());
}

TEST_F(LdapAuditStoreTest, ADownDirectoryIsUnavailable) {
  LdapOptions options = Options();
  options.uris = {"ldap://127.0.0.1:1"};
  LdapAuditStore store(options);
  EXPECT_TRUE(absl::IsUnavailable(store.Append(Record(1, "A", {}, {}))));
}

}  // namespace
}  // namespace dtrust::testing
