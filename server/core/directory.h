// The directory as the trust core sees it: servers, their mail domains and
// their pinned certificates. Implemented over LDAP (server/ldap) and, in
// tests, in memory. The core never sees LDAP itself.
#ifndef DTRUST_SERVER_CORE_DIRECTORY_H_
#define DTRUST_SERVER_CORE_DIRECTORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/digest.h"
#include "server/core/domain_security.h"

namespace dtrust {

// What a pin trusts.
enum class PinKind {
  kCertificate,  // Exactly this certificate (SHA-256 of its DER).
  kPublicKey,    // Any certificate with this key (SHA-256 of its SPKI).
};

// Stable lower-case names used in the directory and in JSON output:
// "certificate", "public-key".
absl::string_view PinKindName(PinKind kind);
std::optional<PinKind> PinKindFromName(absl::string_view name);

// How a pin came to be: whether its publisher proved it holds the
// certificate's private key (server/core/possession.h).
// Ordered: kPossessionProven > kAsserted.
enum class PinProvenance {
  kAsserted,          // On the publisher's word, e.g. a partner's certificate.
  kPossessionProven,  // The publisher signed a challenge with the key.
};

// Stable names used in the directory and in JSON output: "asserted",
// "possession-proven".
absl::string_view PinProvenanceName(PinProvenance provenance);
std::optional<PinProvenance> PinProvenanceFromName(absl::string_view name);

// When a pin trusts, if narrower than the certificate's validity (rollover:
// the current certificate's pin ends, the next one's begins). Both bounds
// are inclusive, like a certificate's notBefore/notAfter; an unset bound
// does not limit. TrustService only stores windows within the certificate's
// validity with not_before < not_after.
struct PinWindow {
  std::optional<absl::Time> not_before{};
  std::optional<absl::Time> not_after{};

  bool operator==(const PinWindow&) const = default;
  // Whether `time` is within the window.
  bool Contains(absl::Time time) const {
    return (!not_before || *not_before <= time) &&
           (!not_after || time <= *not_after);
  }
};

// One published certificate of a server.
struct PinRecord {
  Sha256Digest cert_sha256;  // Of the published certificate's DER.
  Sha256Digest spki_sha256;  // Of its SubjectPublicKeyInfo.
  PinKind kind = PinKind::kCertificate;
  absl::Time not_before;  // The published certificate's validity.
  absl::Time not_after;
  std::string subject;  // RFC 2253, display only.
  // The certificate itself. Always set when writing (AddPin) and when
  // listing; readers that only match digests may leave it empty.
  std::string der;
  // The pin's own window; for a key pin it applies to every certificate
  // matched by the key.
  PinWindow window{};
  PinProvenance provenance = PinProvenance::kAsserted;
  // Who last published or changed the pin (dtrustd records the gRPC peer);
  // empty if unknown (pins published before dtrust recorded it).
  std::string publisher{};
};

// A transport server entry.
struct ServerRecord {
  std::string name;                  // Normalized FQDN.
  std::vector<std::string> domains;  // Normalized, sorted, unique.
  std::vector<PinRecord> pins;       // Sorted by cert_sha256.
};

// Narrows ListServers; empty fields match everything.
struct ServerFilter {
  std::string server{};  // Exact normalized server name.
  std::string domain{};  // Exact normalized mail domain.
};

// Storage of servers, pins and the Domain Security lists. Names passed in are
// already normalized by the caller (see dns_name.h); implementations must still
// not trust them for injection safety.
//
// Error contract, for every method: Unavailable when the directory cannot be
// reached or refused to serve (retryable; never reported as "absent");
// NotFound / AlreadyExists only where stated; anything else is Internal or
// PermissionDenied with the directory's own diagnostic.
//
// Implementations must be thread-safe.
class Directory {
 public:
  virtual ~Directory() = default;

  // Every server having a pin whose cert_sha256 equals `cert_sha256` or whose
  // spki_sha256 equals `spki_sha256` (a null pointer matches nothing), each
  // with its domains and only those matching pins. Pins may omit `der`.
  // Order unspecified.
  virtual absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256, const Sha256Digest* spki_sha256) = 0;

  // The server with all its pins (with `der`), or nullopt if absent.
  virtual absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) = 0;

  // All servers matching `filter`, sorted by name, pins with `der`.
  virtual absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) = 0;

  // Like ListServers, but pins may omit `der` and `subject`: what matching
  // needs (the outbound policy). By default ListServers; a mirror answers it
  // from memory.
  virtual absl::StatusOr<std::vector<ServerRecord>> FindServers(
      const ServerFilter& filter) {
    return ListServers(filter);
  }

  // Creates a server entry without pins. AlreadyExists if present.
  virtual absl::Status CreateServer(
      absl::string_view name, const std::vector<std::string>& domains) = 0;

  // Adds the domains not yet present. NotFound if the server is absent.
  virtual absl::Status AddDomains(absl::string_view server,
                                  const std::vector<std::string>& domains) = 0;

  // Adds a pin (with `der`) to an existing server. AlreadyExists if the
  // server already has a pin with that cert_sha256; NotFound if the server
  // is absent.
  virtual absl::Status AddPin(absl::string_view server,
                              const PinRecord& pin) = 0;

  // Sets the kind, the window, the provenance and the publisher of the
  // server's existing pin with `pin.cert_sha256` to those of `pin` (an unset
  // window bound or an empty publisher is removed); the other fields are
  // ignored. NotFound if the server has no such pin.
  virtual absl::Status UpdatePin(absl::string_view server,
                                 const PinRecord& pin) = 0;

  // Removes a pin. NotFound if the server has no such pin.
  virtual absl::Status RemovePin(absl::string_view server,
                                 const Sha256Digest& cert_sha256) = 0;

  // Removes a server entry that has no pins left. NotFound if absent,
  // FailedPrecondition if it still has pins (e.g. a concurrent publish).
  virtual absl::Status RemoveServer(absl::string_view name) = 0;

  // Domain Security lists. Domains are normalized by the caller.
  // Every domain with a policy, sorted by domain.
  virtual absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() = 0;
  // The domain's policy, or nullopt if it is on no list.
  virtual absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) = 0;
  // Creates or replaces the domain's policy. A policy with both directions
  // kOff is InvalidArgument (use RemoveDomainPolicy).
  virtual absl::Status PutDomainPolicy(const DomainPolicy& policy) = 0;
  // NotFound if the domain has no policy.
  virtual absl::Status RemoveDomainPolicy(absl::string_view domain) = 0;
};

// A Directory forwarding every method to another, so that a decorator states
// only the methods it changes (as LevelDB's EnvWrapper does for Env). The
// target is Target(): by default the Directory given at construction; a
// decorator whose target comes later (LazyDirectory) overrides Target, and
// its error is then each forwarded call's answer.
//
// Thread-safe if the target is. Does not own the target.
class DirectoryWrapper : public Directory {
 public:
  // Forwards to `target`, which must outlive this object; null only for a
  // subclass that overrides Target.
  explicit DirectoryWrapper(Directory* target) : target_(target) {}

  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override;
  absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) override;
  absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) override;
  absl::StatusOr<std::vector<ServerRecord>> FindServers(
      const ServerFilter& filter) override;
  absl::Status CreateServer(absl::string_view name,
                            const std::vector<std::string>& domains) override;
  absl::Status AddDomains(absl::string_view server,
                          const std::vector<std::string>& domains) override;
  absl::Status AddPin(absl::string_view server, const PinRecord& pin) override;
  absl::Status UpdatePin(absl::string_view server,
                         const PinRecord& pin) override;
  absl::Status RemovePin(absl::string_view server,
                         const Sha256Digest& cert_sha256) override;
  absl::Status RemoveServer(absl::string_view name) override;
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override;
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override;
  absl::Status PutDomainPolicy(const DomainPolicy& policy) override;
  absl::Status RemoveDomainPolicy(absl::string_view domain) override;

 protected:
  // The Directory each call goes to.
  virtual absl::StatusOr<Directory*> Target() { return target_; }

 private:
  Directory* const target_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_DIRECTORY_H_
