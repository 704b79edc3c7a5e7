// What libdtrust asks to decide a peer's certificate, behind an interface:
// RpcVerifier asks dtrustd's Verify RPC; an in-process copy of the pins can
// implement the same interface; unit tests give a fake.
#ifndef DTRUST_CLIENT_LIB_VERIFIER_H_
#define DTRUST_CLIENT_LIB_VERIFIER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/dtrustd_client.h"
#include "dtrust/dtrust.h"
#include "server/core/digest.h"

namespace dtrust::lib {

// A presented leaf certificate's digests and what its peer must be (at
// least one of server and domain is non-empty).
struct VerifyQuery {
  Sha256Digest sha256;       // Of the certificate's DER.
  Sha256Digest spki_sha256;  // Of its SubjectPublicKeyInfo.
  std::string expected_server;
  std::string expected_domain;
};

struct VerifyAnswer {
  dtrust_verdict verdict = DTRUST_VERDICT_NONE;  // Never NONE when returned.
  std::string reason;                            // One line.
};

// Decides certificates. Implementations are thread-safe and return within
// their own deadline; any error means "could not answer" (fail closed
// unless the application chose otherwise).
class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual absl::StatusOr<VerifyAnswer> Verify(const VerifyQuery& query) = 0;
  // Waits up to `timeout` until Verify can answer from local data, and says
  // why not; verifiers that ask dtrustd per check have nothing to wait for.
  virtual absl::Status WaitReady(absl::Duration /*timeout*/) {
    return absl::OkStatus();
  }
};

// Verifier over dtrustd's Verify RPC through `dtrustd` (owned). Every error
// (unreachable, deadline, not serving, refused, an unknown verdict) is
// Unavailable with a message naming the cause.
class RpcVerifier : public Verifier {
 public:
  explicit RpcVerifier(std::unique_ptr<cli::DtrustdClient> dtrustd)
      : dtrustd_(std::move(dtrustd)) {}

  absl::StatusOr<VerifyAnswer> Verify(const VerifyQuery& query) override;

 private:
  const std::unique_ptr<cli::DtrustdClient> dtrustd_;
};

}  // namespace dtrust::lib

#endif  // DTRUST_CLIENT_LIB_VERIFIER_H_
