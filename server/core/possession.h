// Proof of possession for publishing: the publisher shows it holds the
// private key of the certificate it publishes by signing a dtrustd-issued,
// short-lived challenge bound to the server and the certificate.
//
// Stateless: a challenge carries its own nonce and expiry, authenticated by
// an HMAC-SHA256 under a secret only this PossessionChallenges knows (per
// dtrustd process, so a restart invalidates outstanding challenges).
#ifndef DTRUST_SERVER_CORE_POSSESSION_H_
#define DTRUST_SERVER_CORE_POSSESSION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/certificate.h"
#include "server/core/clock.h"
#include "server/core/digest.h"

namespace dtrust {

// How long a challenge may be answered.
inline constexpr absl::Duration kChallengeLifetime = absl::Minutes(5);

// What the key holder signs: "dtrust-possession-v1\0", the challenge, the
// normalized server name, "\0" and the 32 certificate digest bytes. Shared
// by the CLI (signing) and dtrustd (verifying), so both sign the same bytes.
std::string PossessionMessage(absl::string_view challenge,
                              absl::string_view server,
                              const Sha256Digest& cert_sha256);

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

// Issues and checks challenges. Thread-safe (immutable after construction).
// Does not own `clock`, which must outlive it.
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

  // OK if `challenge` was issued by this object for exactly this server and
  // certificate and has not expired, and `signature` signs
  // PossessionMessage(challenge, server, certificate.sha256()) under the
  // certificate's key. InvalidArgument naming the cause otherwise.
  absl::Status Verify(absl::string_view challenge, absl::string_view server,
                      const Certificate& certificate,
                      absl::string_view signature) const;

 private:
  std::string Mac(absl::string_view nonce_and_expiry, absl::string_view server,
                  const Sha256Digest& cert_sha256) const;

  const Clock* const clock_;
  const std::string secret_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_POSSESSION_H_
