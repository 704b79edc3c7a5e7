// The audit trail in LDAP: one dtrustAuditRecord entry per record,
//
//   dtrustAuditId=<time>-<random>,ou=audit,<base>   dtrustAuditRecord
//     (dtrustAuditTime, dtrustAuditActor, dtrustAuditFrom?,
//      dtrustAuditAction, dtrustAuditServer*, dtrustAuditDomain*,
//      dtrustAuditDetail?, dtrustAuditOutcome)
//
// replicated like every other dtrust entry. LdapDirectory::Connect creates
// ou=audit.
#ifndef DTRUST_SERVER_LDAP_LDAP_AUDIT_STORE_H_
#define DTRUST_SERVER_LDAP_LDAP_AUDIT_STORE_H_

#include <string>
#include <vector>

#include "server/auth/audit.h"
#include "server/ldap/lazy_ldap_pool.h"

namespace dtrust {

// Thread-safe; connects on first use. An entry that does not parse is
// skipped with a warning naming its DN.
class LdapAuditStore final : public AuditStore {
 public:
  explicit LdapAuditStore(LdapOptions options);

  absl::Status Append(const AuditRecord& record) override;
  absl::StatusOr<std::vector<AuditRecord>> Query(const AuditQuery& query,
                                                 bool* truncated) override;

 private:
  const std::string audit_dn_;  // "ou=audit,<base>".
  LazyLdapPool pool_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_AUDIT_STORE_H_
