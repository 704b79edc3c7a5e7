#include "server/ldap/ldap_audit_store.h"

#include <openssl/rand.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/log.h"
#include "server/ldap/ldap_dn.h"
#include "server/ldap/ldap_records.h"

namespace dtrust {
namespace {

constexpr absl::string_view kAuditClass = "dtrustAuditRecord";
constexpr absl::string_view kId = "dtrustAuditId";
constexpr absl::string_view kTime = "dtrustAuditTime";
constexpr absl::string_view kActor = "dtrustAuditActor";
constexpr absl::string_view kFrom = "dtrustAuditFrom";
constexpr absl::string_view kAction = "dtrustAuditAction";
constexpr absl::string_view kServer = "dtrustAuditServer";
constexpr absl::string_view kDomain = "dtrustAuditDomain";
constexpr absl::string_view kDetail = "dtrustAuditDetail";
constexpr absl::string_view kOutcome = "dtrustAuditOutcome";

// "<GeneralizedTime>-<8 random hex digits>": unique, and sorts by time.
std::string RecordId(absl::Time time) {
  unsigned char random[4] = {};
  RAND_bytes(random, sizeof(random));
  return absl::StrCat(
      absl::FormatTime("%Y%m%d%H%M%E6SZ", time, absl::UTCTimeZone()), "-",
      absl::BytesToHexString(
          absl::string_view(reinterpret_cast<const char*>(random), 4)));
}

std::vector<LdapAttribute> RecordAttributes(const AuditRecord& record,
                                            const std::string& id) {
  std::vector<LdapAttribute> attributes = {
      {"objectClass", {std::string(kAuditClass)}},
      {std::string(kId), {id}},
      {std::string(kTime), {ToGeneralizedTime(record.time)}},
      {std::string(kActor), {record.actor.empty() ? "-" : record.actor}},
      {std::string(kAction), {record.action}},
      {std::string(kOutcome), {record.outcome}}};
  const auto add = [&](absl::string_view type,
                       const std::vector<std::string>& values) {
    std::vector<std::string> present;
    for (const std::string& value : values) {
      if (!value.empty()) present.push_back(value);
    }
    if (!present.empty()) {
      attributes.push_back({std::string(type), SortedUnique(present)});
    }
  };
  add(kFrom, {record.from});
  add(kServer, record.servers);
  add(kDomain, record.domains);
  add(kDetail, {record.detail});
  return attributes;
}

absl::StatusOr<AuditRecord> ParseRecord(const LdapEntry& entry) {
  AuditRecord record;
  std::optional<absl::Time> time = ParseGeneralizedTime(entry.First(kTime));
  if (!time) return absl::InvalidArgumentError("no valid dtrustAuditTime");
  record.time = *time;
  record.actor = entry.First(kActor);
  record.from = entry.First(kFrom);
  record.action = entry.First(kAction);
  record.servers = entry.Values(kServer);
  record.domains = entry.Values(kDomain);
  record.detail = entry.First(kDetail);
  record.outcome = entry.First(kOutcome);
  return record;
}

absl::StatusOr<std::string> QueryFilter(const AuditQuery& query) {
  std::string filter = absl::StrCat("(&", ClassFilter(kAuditClass));
  if (query.since != absl::InfinitePast()) {
    absl::StrAppend(&filter, "(", kTime, ">=", ToGeneralizedTime(query.since),
                    ")");
  }
  for (const auto& [type, value] :
       {std::pair(kServer, &query.server), std::pair(kDomain, &query.domain)}) {
    if (value->empty()) continue;
    DTRUST_ASSIGN_OR_RETURN(std::string escaped, EscapeFilterValue(*value));
    absl::StrAppend(&filter, "(", type, "=", escaped, ")");
  }
  return filter + ")";
}

}  // namespace

LdapAuditStore::LdapAuditStore(LdapOptions options)
    : audit_dn_(absl::StrCat("ou=audit,", options.base_dn)), pool_([&options] {
        options.connections = 1;
        return std::move(options);
      }()) {}

absl::Status LdapAuditStore::Append(const AuditRecord& record) {
  const std::string id = RecordId(record.time);
  DTRUST_ASSIGN_OR_RETURN(std::string rdn, MakeRdn(kId, id));
  const std::string dn = absl::StrCat(rdn, ",", audit_dn_);
  const std::vector<LdapAttribute> attributes = RecordAttributes(record, id);
  return pool_.Run(LdapPool::Retry::kNever, [&](LdapConnection& connection) {
    return connection.Add(dn, attributes);
  });
}

absl::StatusOr<std::vector<AuditRecord>> LdapAuditStore::Query(
    const AuditQuery& query, bool* truncated) {
  DTRUST_ASSIGN_OR_RETURN(std::string filter, QueryFilter(query));
  std::vector<AuditRecord> records;
  DTRUST_RETURN_IF_ERROR(
      pool_.Run(LdapPool::Retry::kOnceIfStale, [&](LdapConnection& connection) {
        records.clear();
        absl::StatusOr<std::vector<LdapEntry>> entries =
            connection.Search(audit_dn_, LdapScope::kOneLevel, filter, {});
        if (absl::IsNotFound(entries.status())) return absl::OkStatus();
        if (!entries.ok()) return entries.status();
        for (const LdapEntry& entry : *entries) {
          absl::StatusOr<AuditRecord> record = ParseRecord(entry);
          if (!record.ok()) {
            LogWarning("ignoring audit record ", entry.dn, ": ",
                       record.status().message());
            continue;
          }
          records.push_back(*std::move(record));
        }
        return absl::OkStatus();
      }));
  std::stable_sort(records.begin(), records.end(),
                   [](const AuditRecord& a, const AuditRecord& b) {
                     return a.time < b.time;
                   });
  *truncated = records.size() > query.limit;
  if (*truncated) {
    records.erase(records.begin(), records.end() - query.limit);
  }
  return records;
}

}  // namespace dtrust
