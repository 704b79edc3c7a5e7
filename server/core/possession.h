// Proof of possession for publishing: the publisher shows it holds the
// private key of the certificate it publishes by signing a dtrustd-issued,
// short-lived, single-use challenge together with everything the publish
// asks for (server, mail domains, pin kind and window, certificate).
//
// A challenge carries its own nonce and expiry, authenticated by an
// HMAC-SHA256 under a secret only this PossessionChallenges knows (per
// dtrustd process, so a restart invalidates outstanding challenges); the
// nonces of answered challenges are remembered until they expire, so each
// proves one publish.
#ifndef DTRUST_SERVER_CORE_POSSESSION_H_
#define DTRUST_SERVER_CORE_POSSESSION_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/certificate.h"
#include "server/core/clock.h"
#include "server/core/digest.h"
#include "server/core/directory.h"

namespace dtrust {

// How long a challenge may be answered.
inline constexpr absl::Duration kChallengeLifetime = absl::Minutes(5);

// What a proof vouches for: the whole publish request.
struct PossessionTerms {
  std::string server;                // Normalized.
  std::vector<std::string> domains;  // Normalized, sorted, unique.
  PinKind kind = PinKind::kCertificate;
  PinWindow window;
  Sha256Digest cert_sha256;
};

// The terms of a publish request: `server` and `domains` normalized (the
// domains sorted, duplicates removed); InvalidArgument for invalid names.
absl::StatusOr<PossessionTerms> MakePossessionTerms(
    absl::string_view server, const std::vector<std::string>& domains,
    PinKind kind, const PinWindow& window, const Sha256Digest& cert_sha256);

// What the key holder signs: "dtrust-possession-v2\0", the challenge, then
// "\0"-terminated: the server, the number of domains and each domain, the
// pin kind's name, the window's bounds as Unix nanoseconds ("-" when
// unset), and last the 32 certificate digest bytes. Shared by the CLI (signing)
// and dtrustd (verifying), so both sign the same bytes.
std::string PossessionMessage(absl::string_view challenge,
                              const PossessionTerms& terms);

// The signature scheme, for both sides: EVP_DigestSign/Verify with SHA-256
// (ECDSA for EC keys, PKCS#1 v1.5 for RSA keys, RSA-PSS for RSA-PSS keys),
// or the algorithm's own digest for Ed25519/Ed448 keys.
// VerifyPossessionSignature: OK if `signature` over `message` is valid
// under the certificate's public key, else InvalidArgument saying so.
absl::Status VerifyPossessionSignature(const Certificate& certificate,
                                       absl::string_view message,
                                       absl::string_view signature);

struct PossessionChallenge {
  std::string bytes;  // Opaque to the client.
  absl::Time expires;
};

// Issues and checks challenges. Thread-safe. Does not own `clock`, which
// must outlive it.
class PossessionChallenges {
 public:
  // `secret` keys the HMAC (at least 32 bytes are sensible); empty draws 32
  // random bytes. Aborts the process if the system's random generator fails,
  // as no secret could be trusted then.
  explicit PossessionChallenges(const Clock* clock, std::string secret = "");

  // A fresh challenge for publishing the certificate `cert_sha256` for
  // `server` (normalized by the caller). Internal if no nonce can be drawn.
  absl::StatusOr<PossessionChallenge> Issue(
      absl::string_view server, const Sha256Digest& cert_sha256) const;

  // OK if `challenge` was issued by this object for exactly
  // `terms.server` and `certificate`, has not expired and has not proven a
  // publish before, and `signature` signs PossessionMessage(challenge,
  // terms) under the certificate's key; the challenge is then used up.
  // InvalidArgument naming the cause otherwise (a replay: "already used").
  absl::Status Verify(absl::string_view challenge, const PossessionTerms& terms,
                      const Certificate& certificate,
                      absl::string_view signature);

  // Used challenges remembered at most (until they expire); beyond it
  // proofs are refused (Unavailable) until some expire.
  static constexpr size_t kMaxUsed = 100000;

 private:
  std::string Mac(absl::string_view nonce_and_expiry, absl::string_view server,
                  const Sha256Digest& cert_sha256) const;

  // Marks the challenge's nonce used; false if it already was.
  absl::Status UseOnce(absl::string_view nonce, absl::Time expires);

  const Clock* const clock_;
  const std::string secret_;
  absl::Mutex mu_;
  // Nonces of answered challenges, to when they expire.
  absl::flat_hash_map<std::string, absl::Time> used_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_POSSESSION_H_
