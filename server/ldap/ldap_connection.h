// One bound LDAP connection and the few synchronous operations dtrust needs.
#ifndef DTRUST_SERVER_LDAP_LDAP_CONNECTION_H_
#define DTRUST_SERVER_LDAP_LDAP_CONNECTION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/ldap/ldap_handles.h"

namespace dtrust {

// The CA certificates TLS to the directory trusts without
// LdapOptions::tls_ca_file: Debian's system store (package ca-certificates).
inline constexpr char kSystemCaFile[] = "/etc/ssl/certs/ca-certificates.crt";

struct LdapOptions {
  // Tried in order: "ldap://host:389", "ldapi://%2Fpath", "ldaps://...".
  std::vector<std::string> uris;
  std::string base_dn;
  // Simple bind when non-empty (with bind_password); exclusive with
  // sasl_external. Neither: anonymous.
  std::string bind_dn;
  std::string bind_password;
  // SASL EXTERNAL bind (ldapi:// peer credentials or a TLS client cert).
  bool sasl_external = false;
  // TLS, for ldaps:// URIs and (with start_tls) ldap:// ones: the server's
  // certificate must chain to a CA certificate in this PEM file (empty:
  // kSystemCaFile) and name the URI's host. Verification is never skipped,
  // whatever ldap.conf or LDAPTLS_* say.
  std::string tls_ca_file;
  // ldap:// URIs switch to TLS (StartTLS) before the bind; a server that
  // cannot is an error, never a plain connection. (ldaps:// is TLS from the
  // start; ldapi:// stays a local socket.)
  bool start_tls = false;
  // Network connect timeout and per-operation timeout.
  absl::Duration timeout = absl::Seconds(5);
  // Connection pool size (LdapDirectory), at least 1.
  int connections = 4;
};

// One entry of a search result.
struct LdapEntry {
  std::string dn;
  // Attribute descriptions lower-cased (e.g. "usercertificate;binary") to
  // their values, in the order the server sent them.
  std::map<std::string, std::vector<std::string>> attributes;

  // The values of `description` (any case); empty if absent.
  const std::vector<std::string>& Values(absl::string_view description) const;
  // The first value of `description`; "" if absent.
  std::string First(absl::string_view description) const;
};

// The entry in search result message `message` of `ld`: its DN and every
// attribute with its values. Internal if the message has no DN.
absl::StatusOr<LdapEntry> ReadLdapEntry(LDAP* ld, LDAPMessage* message);

// An attribute with its values; values are sent as binary (LDAP_MOD_BVALUES)
// so any bytes pass unchanged.
struct LdapAttribute {
  std::string type;
  std::vector<std::string> values;
};

struct LdapModification {
  enum class Op { kAdd, kReplace, kDelete };
  Op op = Op::kAdd;
  LdapAttribute attribute;
};

enum class LdapScope { kBase, kOneLevel, kSubtree };

// A connected, bound LDAP v3 handle with network and operation timeouts set,
// referrals off and restart-on-EINTR on; over TLS as LdapOptions asks, with
// a TLS context of its own (not libldap's global one).
//
// Thread-compatible: use from one thread at a time (LdapDirectory's pool
// guarantees this). Every failure comes back as an absl::Status made by
// LdapError (server/ldap/ldap_status.h), naming the operation, the DN and the
// URI. After a failure for which IsConnectionLost() holds the connection is
// unusable: lost() turns true and the owner must discard it.
class LdapConnection {
 public:
  // Connects and binds to the first of `options.uris` that accepts the bind.
  // Unavailable, naming each URI and why it failed (a TLS failure names
  // TLS), when none does;
  // InvalidArgument for unusable options (no URI, bind DN together with SASL
  // EXTERNAL).
  static absl::StatusOr<std::unique_ptr<LdapConnection>> Open(
      const LdapOptions& options);

  // The URI this connection is bound to.
  const std::string& uri() const { return uri_; }
  // Who it is bound as, for logs: the bind DN, "SASL EXTERNAL" or
  // "anonymous".
  const std::string& identity() const { return identity_; }
  bool lost() const { return lost_code_ != 0; }
  // Whether the connection runs over TLS (ldaps:// or StartTLS).
  bool tls() const { return ldap_tls_inplace(ld_.get()) != 0; }
  // The LDAP code that broke the connection (LDAP_SERVER_DOWN, ...); 0 while
  // usable.
  int lost_code() const { return lost_code_; }

  // The libldap handle, for asynchronous operations this class does not
  // wrap (the content synchronization in ldap_sync_source.h). Owned by this
  // object; same threading rules.
  LDAP* handle() const { return ld_.get(); }

  // Search returning entries (continuation references are ignored).
  // `attributes` empty means all user attributes.
  absl::StatusOr<std::vector<LdapEntry>> Search(
      const std::string& base, LdapScope scope, const std::string& filter,
      const std::vector<std::string>& attributes);
  // Like Search, but the server sends the entries `page_size` (at least 1)
  // at a time (RFC 2696 simple paged results; a server without paging sends
  // them all at once), and each is handed to `on_entry` as its page
  // arrives, so a large tree is never held in memory at once. Each page is
  // bounded by the timeout. An error from `on_entry` ends the search (the
  // server is told to drop it) and is returned as it is.
  absl::Status SearchPaged(
      const std::string& base, LdapScope scope, const std::string& filter,
      const std::vector<std::string>& attributes, int page_size,
      absl::FunctionRef<absl::Status(const LdapEntry&)> on_entry);
  absl::Status Add(const std::string& dn,
                   const std::vector<LdapAttribute>& attributes);
  absl::Status Modify(const std::string& dn,
                      const std::vector<LdapModification>& modifications);
  absl::Status Delete(const std::string& dn);

 private:
  LdapConnection(LdapPtr ld, std::string uri, std::string identity,
                 absl::Duration timeout)
      : ld_(std::move(ld)),
        uri_(std::move(uri)),
        identity_(std::move(identity)),
        timeout_(timeout) {}

  // The Status for result `code` of `operation` on `dn`; records a lost
  // connection.
  absl::Status Fail(int code, absl::string_view operation,
                    absl::string_view dn);

  // The fixed parameters of one paged search; see SearchPaged.
  struct PagedSearch {
    const std::string& base;
    LdapScope scope;
    const std::string& filter;
    char** attributes;  // Null-terminated; null for all user attributes.
  };
  // One page of `search`: the search with the paging control carrying
  // `cookie` ("" for the first page), `size` entries at most. The LDAP
  // result code; the result in `*result`.
  int SearchPage(const PagedSearch& search, int size, const std::string& cookie,
                 LdapMessagePtr* result);
  // The paging cookie `result` returns for the next page of `operation` on
  // `base`: empty when it was the last page, or when the server does not
  // page.
  absl::StatusOr<std::string> NextPageCookie(LDAPMessage* result,
                                             absl::string_view operation,
                                             const std::string& base);

  LdapPtr ld_;
  std::string uri_;
  std::string identity_;
  absl::Duration timeout_;
  int lost_code_ = 0;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_CONNECTION_H_
