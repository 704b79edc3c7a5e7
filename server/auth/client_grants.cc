#include "server/auth/client_grants.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

absl::Status CheckGrant(Grant& grant) {
  if (grant.role == Role::kNone) {
    return absl::InvalidArgumentError(
        "role: a grant needs reader, publisher or admin (revoke to take one "
        "away)");
  }
  if (!grant.scopes.empty() && grant.role != Role::kPublisher) {
    return absl::InvalidArgumentError(
        absl::StrCat("scope: only publisher grants have scopes, not ",
                     RoleName(grant.role)));
  }
  for (std::string& scope : grant.scopes) {
    DTRUST_ASSIGN_OR_RETURN(scope, NormalizeDnsName(scope, "scope"));
  }
  std::sort(grant.scopes.begin(), grant.scopes.end());
  grant.scopes.erase(std::unique(grant.scopes.begin(), grant.scopes.end()),
                     grant.scopes.end());
  if (grant.label.size() > ClientGrants::kMaxLabelLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label: longer than ", ClientGrants::kMaxLabelLength, " characters"));
  }
  if (std::any_of(grant.label.begin(), grant.label.end(),
                  [](char c) { return absl::ascii_iscntrl(c); })) {
    return absl::InvalidArgumentError("label: contains a control character");
  }
  if (grant.subject.kind != GrantSubject::Kind::kCertificate) {
    DTRUST_RETURN_IF_ERROR(CheckUnixName(grant.subject.name, "unix name"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Grant> ClientGrants::Put(Grant grant,
                                        absl::string_view granted_by) {
  DTRUST_RETURN_IF_ERROR(CheckGrant(grant));
  grant.granted_by = std::string(granted_by);
  grant.granted = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now()));
  DTRUST_RETURN_IF_ERROR(store_->PutGrant(grant));
  cache_->Invalidate();
  return grant;
}

absl::StatusOr<Grant> ClientGrants::Revoke(const GrantSubject& subject) {
  DTRUST_ASSIGN_OR_RETURN(std::vector<Grant> grants, store_->ListGrants());
  const auto found = std::find_if(
      grants.begin(), grants.end(),
      [&](const Grant& grant) { return grant.subject == subject; });
  if (found == grants.end()) {
    return absl::NotFoundError(
        absl::StrCat(subject.Describe(), " has no grant"));
  }
  DTRUST_RETURN_IF_ERROR(store_->RemoveGrant(subject));
  cache_->Invalidate();
  return *found;
}

absl::StatusOr<std::vector<Grant>> ClientGrants::List() {
  DTRUST_ASSIGN_OR_RETURN(std::vector<Grant> grants, store_->ListGrants());
  std::sort(grants.begin(), grants.end(), [](const Grant& a, const Grant& b) {
    return a.subject.Key() < b.subject.Key();
  });
  return grants;
}

}  // namespace dtrust
