// Client grants in LDAP: one dtrustClientGrant entry per subject,
//
//   dtrustClientSubject=<key>,ou=clients,<base>   dtrustClientGrant
//     (dtrustClientSubject: "sha256:<hex>" | "user:NAME" | "group:NAME",
//      dtrustClientRole, dtrustClientScope*, dtrustGrantedBy?,
//      dtrustGrantedAt?, description?: the label)
//
// so every dtrustd sharing the directory enforces the same grants.
// LdapDirectory::Connect creates ou=clients.
#ifndef DTRUST_SERVER_LDAP_LDAP_GRANT_STORE_H_
#define DTRUST_SERVER_LDAP_LDAP_GRANT_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "server/auth/grant.h"
#include "server/ldap/lazy_ldap_pool.h"
#include "server/ldap/ldap_connection.h"

namespace dtrust {

// Thread-safe. Connects on first use (so dtrustd starts while the directory
// is down) and then runs on its own small LdapPool, which reconnects and
// fails over. A directory that cannot be reached is Unavailable; a grant
// entry that does not parse is logged (naming its DN) and gives nothing.
class LdapGrantStore final : public GrantStore {
 public:
  explicit LdapGrantStore(LdapOptions options);

  absl::StatusOr<std::vector<Grant>> ListGrants() override;
  absl::Status PutGrant(const Grant& grant) override;
  absl::Status RemoveGrant(const GrantSubject& subject) override;

 private:
  absl::StatusOr<std::string> GrantDn(const GrantSubject& subject) const;

  const std::string clients_dn_;  // "ou=clients,<base>".
  LazyLdapPool pool_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_GRANT_STORE_H_
