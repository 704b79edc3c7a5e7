// The direct-trust decision logic: publish, unpublish, list and verify,
// independent of any transport (gRPC, Postfix protocols, OpenSSL callback)
// and of the directory implementation.
#ifndef DTRUST_SERVER_CORE_TRUST_SERVICE_H_
#define DTRUST_SERVER_CORE_TRUST_SERVICE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/certificate.h"
#include "server/core/clock.h"
#include "server/core/digest.h"
#include "server/core/directory.h"
#include "server/core/domain_security.h"
#include "server/core/possession.h"

namespace dtrust {

struct PublishRequest {
  std::string server{};                // Validated and normalized here.
  std::vector<std::string> domains{};  // Required when the server is new.
  std::string certificate_der{};       // Exactly one DER certificate.
  PinKind kind = PinKind::kCertificate;
  // The pin's window: each bound given must lie within the certificate's
  // validity, and the window must not be empty (not_before < not_after,
  // counting an unset bound as the certificate's own), else InvalidArgument.
  // Republishing sets the window to this one; unset bounds remove a
  // previous window's.
  PinWindow window{};
  // Proof of possession (both or neither): a challenge from
  // PublishChallenge() for this server and certificate, used once, and the
  // signature of PossessionMessage() over it and this whole request
  // (server, domains, kind, window, certificate) with the certificate's
  // private key. With a valid proof the pin is kPossessionProven; an
  // invalid or replayed one is InvalidArgument and nothing is written.
  // Without one the pin is kAsserted by `publisher`: republishing a proven
  // pin without proof either changes nothing (same kind and window:
  // kAlreadyPublished, the proof and its publisher stay) or makes it an
  // asserted pin of the new publisher (kPinUpdated).
  std::string challenge{};
  std::string possession_signature{};
  // Who publishes (dtrustd: the caller's identity), recorded on the pin.
  std::string publisher{};
};

struct PublishResult {
  enum class Outcome {
    kPublished,
    // Same kind and window, no new proof: nothing changed.
    kAlreadyPublished,
    // Was published with another kind and/or window, or without the proof
    // this request brought.
    kPinUpdated,
  };
  Outcome outcome = Outcome::kPublished;
  ServerRecord server;                // After the call.
  PinRecord pin;                      // As stored.
  std::optional<PinRecord> previous;  // kPinUpdated: the pin before.
  std::vector<std::string> domains_added;
};

struct UnpublishRequest {
  std::string server{};           // Empty: every server it is published for.
  std::string certificate_der{};  // Either this...
  std::optional<Sha256Digest> cert_sha256{};  // ...or this.
};

struct UnpublishResult {
  Sha256Digest cert_sha256;
  std::vector<std::string> servers;          // Removed from these, sorted.
  std::vector<std::string> servers_removed;  // Entries deleted (last pin).
};

struct VerifyRequest {
  // The presented certificate, or at least one of its fingerprints.
  std::string certificate_der{};
  std::optional<Sha256Digest> cert_sha256{};
  std::optional<Sha256Digest> spki_sha256{};
  std::string expected_server{};  // Optional.
  std::string expected_domain{};  // Optional.
};

enum class Verdict {
  kTrusted,
  kNotPublished,
  kWrongServer,
  kWrongDomain,
  kExpired,
  kNotYetValid,
  kPinExpired,       // The certificate is valid, but its pin window ended.
  kPinNotYetActive,  // The certificate is valid; its pin window lies ahead.
};
// "TRUSTED", "NOT_PUBLISHED", ... as in the API and CLI output.
absl::string_view VerdictName(Verdict verdict);

struct VerifyResult {
  Verdict verdict = Verdict::kNotPublished;
  std::string reason;  // One line naming the digest and the cause.
  // Fingerprints of the certificate in question: those presented; the
  // spki_sha256 is completed from the published certificate when the
  // presented sha256 names it exactly.
  std::optional<Sha256Digest> cert_sha256;
  std::optional<Sha256Digest> spki_sha256;
  // The matching server (empty for kNotPublished).
  std::string server;
  std::vector<std::string> domains;
  std::optional<PinKind> pin_kind;
  // Validity of the certificate in question, when known.
  std::optional<absl::Time> not_before;
  std::optional<absl::Time> not_after;
  // The matching pin's window (unset for kNotPublished or without one).
  PinWindow pin_window;
  // The matching pin's provenance and publisher (unset / empty for
  // kNotPublished).
  std::optional<PinProvenance> provenance;
  std::string publisher;
};

// A change to a domain's Domain Security policy: each direction given is set
// to that mode (kOff takes the domain off that list); the others stay.
struct DomainPolicyChange {
  std::string domain{};
  std::optional<SecureMode> send{};
  std::optional<SecureMode> receive{};
};

struct TrustServiceOptions {
  // Keys the challenges' HMAC; empty: a random secret (see
  // PossessionChallenges).
  std::string possession_secret{};
  // Mail domains (normalized, see dns_name.h) whose servers may only be
  // published with proof of possession: the organization's own. Covers a
  // server named in or below such a domain, and a server that serves (after
  // the publish) a mail domain equal to or below one.
  std::vector<std::string> require_proof_for{};
};

// Thread-safe if the Directory is. Does not own `directory` or `clock`,
// which must outlive it.
//
// Errors: InvalidArgument for bad input or an invalid proof of possession
// (nothing is written); FailedPrecondition for a publish that needs proof of
// possession and has none; NotFound from Unpublish when the certificate is
// not published; the Directory's Unavailable passes through unchanged. A
// verdict is never an error.
class TrustService {
 public:
  TrustService(Directory* directory, const Clock* clock,
               TrustServiceOptions options = {})
      : directory_(directory),
        clock_(clock),
        challenges_(clock, std::move(options.possession_secret)),
        require_proof_for_(std::move(options.require_proof_for)) {}

  // A challenge for proving possession of the key of the certificate
  // `cert_sha256` when publishing it for `server` (validated here). It
  // expires after kChallengeLifetime and is void once this object is gone.
  absl::StatusOr<PossessionChallenge> PublishChallenge(
      absl::string_view server, const Sha256Digest& cert_sha256);
  absl::StatusOr<PublishResult> Publish(const PublishRequest& request);
  absl::StatusOr<UnpublishResult> Unpublish(const UnpublishRequest& request);
  // `filter` names are validated and normalized here.
  absl::StatusOr<std::vector<ServerRecord>> List(ServerFilter filter);
  absl::StatusOr<VerifyResult> Verify(const VerifyRequest& request);

  // Applies `change` and returns the domain's policy afterwards (both
  // directions kOff: it is on no list any more). InvalidArgument for a bad
  // domain or a change naming no direction; NotFound when only taking a
  // domain off lists it is not on.
  absl::StatusOr<DomainPolicy> SetDomainPolicy(
      const DomainPolicyChange& change);
  // Every listed domain, or just `domain` (validated) when not empty.
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies(
      absl::string_view domain);

 private:
  // The --require-proof-for domain that makes `server`, serving `domains`,
  // need proof of possession, with the reason; nullopt if none does.
  std::optional<std::string> ProofRequiredBecause(
      absl::string_view server, const std::vector<std::string>& domains) const;
  // FailedPrecondition if `server`, serving `domains` and those of its
  // `existing` entry, may only be published with proof of possession.
  absl::Status CheckProofNotRequired(
      absl::string_view server, const std::vector<std::string>& domains,
      const std::optional<ServerRecord>& existing) const;
  // kPossessionProven if `request` carries a valid proof of possession for
  // `terms`, kAsserted if it carries none; InvalidArgument for a partial or
  // invalid proof.
  absl::StatusOr<PinProvenance> CheckPossession(const PublishRequest& request,
                                                const PossessionTerms& terms,
                                                const Certificate& certificate);
  // The entry of `server` (`existing`, or created now if absent, which needs
  // `domains`) after adding the `domains` it does not serve yet; appends the
  // domains added to `domains_added`.
  absl::StatusOr<ServerRecord> EnsureServerServes(
      const std::string& server, const std::vector<std::string>& domains,
      std::optional<ServerRecord> existing,
      std::vector<std::string>* domains_added);
  // Adds `pin` to `existing`'s entry, or updates the pin stored there for
  // the same certificate if it differs in kind or window or has less
  // provenance; sets `result`'s outcome (and previous pin).
  absl::Status StorePin(const ServerRecord& existing, const PinRecord& pin,
                        PublishResult* result);

  Directory* const directory_;
  const Clock* const clock_;
  PossessionChallenges challenges_;
  const std::vector<std::string> require_proof_for_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_TRUST_SERVICE_H_
