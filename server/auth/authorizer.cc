#include "server/auth/authorizer.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/status_macros.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

class SystemAccounts final : public UnixAccounts {
 public:
  std::string UserName(uid_t uid) const override {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
      return "";
    }
    return entry.pw_name;
  }

  bool InGroup(uid_t uid, gid_t gid, absl::string_view group) const override {
    std::vector<char> buffer(16384);
    ::group entry{};
    ::group* found = nullptr;
    const std::string name(group);
    if (getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(),
                   &found) != 0 ||
        found == nullptr) {
      return false;
    }
    const gid_t wanted = found->gr_gid;
    if (wanted == gid) return true;
    const std::string user = UserName(uid);
    if (user.empty()) return false;
    int count = 64;
    std::vector<gid_t> groups(count);
    while (getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
      groups.resize(count);
    }
    groups.resize(count);
    return std::find(groups.begin(), groups.end(), wanted) != groups.end();
  }
};

}  // namespace

const UnixAccounts* UnixAccounts::System() {
  static const SystemAccounts* const accounts = new SystemAccounts();
  return accounts;
}

absl::StatusOr<std::shared_ptr<const std::vector<Grant>>> GrantCache::Get() {
  {
    absl::MutexLock lock(&mu_);
    if (grants_ != nullptr && clock_->Now() - read_at_ < refresh_) {
      return grants_;
    }
  }
  absl::MutexLock refreshing(&refresh_mu_);
  {
    absl::MutexLock lock(&mu_);  // Another caller may have just refreshed.
    if (grants_ != nullptr && clock_->Now() - read_at_ < refresh_) {
      return grants_;
    }
  }
  absl::StatusOr<std::vector<Grant>> read = store_->ListGrants();
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (read.ok()) {
    grants_ = std::make_shared<const std::vector<Grant>>(*std::move(read));
    read_at_ = good_at_ = now;
    return grants_;
  }
  if (grants_ != nullptr && now - good_at_ <= max_stale_) {
    read_at_ = now;  // Retry after `refresh_`, not on every call.
    return grants_;
  }
  return absl::UnavailableError(
      absl::StrCat("cannot read the client grants: ", read.status().message()));
}

void GrantCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  read_at_ = absl::InfinitePast();
}

std::string Authorizer::Describe(const Identity& identity) const {
  return identity.Describe(identity.kind == Identity::Kind::kUnixUser
                               ? accounts_->UserName(identity.uid)
                               : "");
}

bool Authorizer::Matches(const Identity& identity,
                         const GrantSubject& subject) const {
  switch (subject.kind) {
    case GrantSubject::Kind::kCertificate:
      return identity.kind == Identity::Kind::kCertificate &&
             identity.cert_sha256 == subject.cert_sha256;
    case GrantSubject::Kind::kUnixUser:
      return identity.kind == Identity::Kind::kUnixUser &&
             accounts_->UserName(identity.uid) == subject.name;
    case GrantSubject::Kind::kUnixGroup:
      return identity.kind == Identity::Kind::kUnixUser &&
             accounts_->InGroup(identity.uid, identity.gid, subject.name);
  }
  return false;
}

absl::StatusOr<Authority> Authorizer::Resolve(const Identity& identity,
                                              Role needed) const {
  Authority authority;
  const std::string who = Describe(identity);
  const bool bootstrap_admin =
      (identity.kind == Identity::Kind::kUnixUser &&
       std::count(options_.admin_uids.begin(), options_.admin_uids.end(),
                  identity.uid) > 0) ||
      (identity.kind == Identity::Kind::kCertificate &&
       std::count(options_.admin_certificates.begin(),
                  options_.admin_certificates.end(), identity.cert_sha256) > 0);
  if (bootstrap_admin) {
    return Authority{.role = Role::kAdmin, .who = who};
  }
  authority.role = options_.anonymous_role;
  authority.who = absl::StrCat(
      who, identity.kind == Identity::Kind::kAnonymous ? "" : " (no grant)");
  if (identity.kind == Identity::Kind::kAnonymous || grants_ == nullptr ||
      needed <= options_.anonymous_role) {
    return authority;
  }
  DTRUST_ASSIGN_OR_RETURN(std::shared_ptr<const std::vector<Grant>> grants,
                          grants_->Get());
  const Grant* best = nullptr;
  for (const Grant& grant : *grants) {
    if (!Matches(identity, grant.subject)) continue;
    if (best == nullptr || grant.role > best->role ||
        (grant.role == best->role && grant.scopes.empty())) {
      best = &grant;
    }
  }
  if (best == nullptr || best->role <= authority.role) return authority;
  authority.role = best->role;
  authority.scopes = best->scopes;
  authority.who = absl::StrCat(
      who, ", granted ", RoleName(best->role),
      best->label.empty() ? "" : absl::StrCat(" \"", best->label, "\""),
      best->subject.kind == GrantSubject::Kind::kUnixGroup
          ? absl::StrCat(" through group ", best->subject.name)
          : "");
  return authority;
}

absl::StatusOr<Authority> Authorizer::Require(const Identity& identity,
                                              Role needed,
                                              absl::string_view action) const {
  DTRUST_ASSIGN_OR_RETURN(Authority authority, Resolve(identity, needed));
  authority.from = identity.peer;
  if (authority.role >= needed) return authority;
  const std::string refusal =
      absl::StrCat(authority.who, " has role ", RoleName(authority.role), ": ",
                   action, " needs the ", RoleName(needed), " role");
  if (identity.kind == Identity::Kind::kAnonymous) {
    return absl::UnauthenticatedError(absl::StrCat(
        refusal,
        "; connect over dtrustd's unix socket or with a TLS client "
        "certificate that has a grant"));
  }
  return absl::PermissionDeniedError(refusal);
}

absl::Status Authorizer::CheckScopes(const Authority& authority,
                                     absl::string_view server,
                                     const std::vector<std::string>& domains) {
  if (authority.role == Role::kAdmin || authority.scopes.empty()) {
    return absl::OkStatus();
  }
  const auto in_scope = [&](absl::string_view name) {
    return std::any_of(
        authority.scopes.begin(), authority.scopes.end(),
        [&](const std::string& scope) { return IsInDomain(name, scope); });
  };
  const std::string scopes = absl::StrJoin(authority.scopes, ", ");
  DTRUST_ASSIGN_OR_RETURN(std::string normalized,
                          NormalizeDnsName(server, "server name"));
  if (!in_scope(normalized)) {
    return absl::PermissionDeniedError(
        absl::StrCat(authority.who, " may only publish for servers in ", scopes,
                     ": server ", normalized, " is outside"));
  }
  for (const std::string& domain : domains) {
    DTRUST_ASSIGN_OR_RETURN(std::string name,
                            NormalizeDnsName(domain, "mail domain"));
    if (!in_scope(name)) {
      return absl::PermissionDeniedError(
          absl::StrCat(authority.who, " may only give servers mail domains in ",
                       scopes, ": mail domain ", name, " is outside"));
    }
  }
  return absl::OkStatus();
}

}  // namespace dtrust
