#include "server/ldap/ldap_grant_store.h"

#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/dns_name.h"
#include "server/core/log.h"
#include "server/ldap/ldap_dn.h"
#include "server/ldap/ldap_records.h"

namespace dtrust {
namespace {

constexpr absl::string_view kGrantClass = "dtrustClientGrant";
constexpr absl::string_view kSubject = "dtrustClientSubject";
constexpr absl::string_view kRole = "dtrustClientRole";
constexpr absl::string_view kScope = "dtrustClientScope";
constexpr absl::string_view kGrantedBy = "dtrustGrantedBy";
constexpr absl::string_view kGrantedAt = "dtrustGrantedAt";
constexpr absl::string_view kLabel = "description";

absl::StatusOr<Grant> ParseGrantEntry(const LdapEntry& entry) {
  Grant grant;
  DTRUST_ASSIGN_OR_RETURN(grant.subject,
                          GrantSubject::FromKey(entry.First(kSubject)));
  DTRUST_ASSIGN_OR_RETURN(grant.role,
                          ParseRole(entry.First(kRole), std::string(kRole)));
  if (grant.role == Role::kNone) {
    return absl::InvalidArgumentError("role none grants nothing");
  }
  for (const std::string& scope : entry.Values(kScope)) {
    DTRUST_ASSIGN_OR_RETURN(std::string normalized,
                            NormalizeDnsName(scope, kScope));
    grant.scopes.push_back(std::move(normalized));
  }
  grant.scopes = SortedUnique(std::move(grant.scopes));
  grant.label = entry.First(kLabel);
  grant.granted_by = entry.First(kGrantedBy);
  if (std::optional<absl::Time> at =
          ParseGeneralizedTime(entry.First(kGrantedAt))) {
    grant.granted = *at;
  }
  return grant;
}

std::vector<LdapAttribute> GrantAttributes(const Grant& grant) {
  std::vector<LdapAttribute> attributes = {
      {"objectClass", {std::string(kGrantClass)}},
      {std::string(kSubject), {grant.subject.Key()}},
      {std::string(kRole), {std::string(RoleName(grant.role))}}};
  if (!grant.scopes.empty())
    attributes.push_back({std::string(kScope), grant.scopes});
  if (!grant.label.empty())
    attributes.push_back({std::string(kLabel), {grant.label}});
  if (!grant.granted_by.empty()) {
    attributes.push_back({std::string(kGrantedBy), {grant.granted_by}});
  }
  attributes.push_back(
      {std::string(kGrantedAt), {ToGeneralizedTime(grant.granted)}});
  return attributes;
}

}  // namespace

LdapGrantStore::LdapGrantStore(LdapOptions options)
    : clients_dn_(absl::StrCat("ou=clients,", options.base_dn)),
      pool_([&options] {
        options.connections = 1;  // Grants are read about once a second.
        return std::move(options);
      }()) {}

absl::StatusOr<std::string> LdapGrantStore::GrantDn(
    const GrantSubject& subject) const {
  DTRUST_ASSIGN_OR_RETURN(std::string rdn, MakeRdn(kSubject, subject.Key()));
  return absl::StrCat(rdn, ",", clients_dn_);
}

absl::StatusOr<std::vector<Grant>> LdapGrantStore::ListGrants() {
  std::vector<Grant> grants;
  DTRUST_RETURN_IF_ERROR(
      pool_.Run(LdapPool::Retry::kOnceIfStale, [&](LdapConnection& connection) {
        grants.clear();
        absl::StatusOr<std::vector<LdapEntry>> entries = connection.Search(
            clients_dn_, LdapScope::kOneLevel, ClassFilter(kGrantClass), {});
        if (absl::IsNotFound(entries.status())) return absl::OkStatus();
        if (!entries.ok()) return entries.status();
        for (const LdapEntry& entry : *entries) {
          absl::StatusOr<Grant> grant = ParseGrantEntry(entry);
          if (!grant.ok()) {
            LogWarning("ignoring client grant ", entry.dn, ": ",
                       grant.status().message());
            continue;
          }
          grants.push_back(*std::move(grant));
        }
        return absl::OkStatus();
      }));
  return grants;
}

absl::Status LdapGrantStore::PutGrant(const Grant& grant) {
  DTRUST_ASSIGN_OR_RETURN(std::string dn, GrantDn(grant.subject));
  const std::vector<LdapAttribute> attributes = GrantAttributes(grant);
  // Replacing an existing grant rewrites every attribute but the subject;
  // a replace without values removes the attribute.
  std::vector<LdapModification> replace;
  for (const absl::string_view type :
       {kRole, kScope, kLabel, kGrantedBy, kGrantedAt}) {
    LdapModification modification{.op = LdapModification::Op::kReplace,
                                  .attribute = {std::string(type), {}}};
    for (const LdapAttribute& attribute : attributes) {
      if (attribute.type == type) modification.attribute = attribute;
    }
    replace.push_back(std::move(modification));
  }
  return pool_.Run(LdapPool::Retry::kNever, [&](LdapConnection& connection) {
    absl::Status added = connection.Add(dn, attributes);
    if (absl::IsAlreadyExists(added)) return connection.Modify(dn, replace);
    if (absl::IsNotFound(added)) {
      return absl::FailedPreconditionError(absl::StrCat(
          clients_dn_,
          " is missing (restart dtrustd to create it): ", added.message()));
    }
    return added;
  });
}

absl::Status LdapGrantStore::RemoveGrant(const GrantSubject& subject) {
  DTRUST_ASSIGN_OR_RETURN(std::string dn, GrantDn(subject));
  return pool_.Run(LdapPool::Retry::kNever, [&](LdapConnection& connection) {
    absl::Status deleted = connection.Delete(dn);
    if (absl::IsNotFound(deleted)) {
      return absl::NotFoundError(
          absl::StrCat(subject.Describe(), " has no grant"));
    }
    return deleted;
  });
}

}  // namespace dtrust
