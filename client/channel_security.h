// How the CLI secures its connection to dtrustd: TLS with a client
// certificate, dtrustd authenticated by a pinned digest or a CA.
#ifndef DTRUST_CLIENT_CHANNEL_SECURITY_H_
#define DTRUST_CLIENT_CHANNEL_SECURITY_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/credentials.h"
#include "server/core/digest.h"

namespace dtrust::cli {

// The endpoint used when none is given (--endpoint or DTRUST_ENDPOINT for
// the CLI, the "endpoint" option for libdtrust).
inline constexpr char kDefaultEndpoint[] = "unix:/run/dtrust/dtrustd.sock";

// File names and values as given (flags, else DTRUST_CERT, DTRUST_KEY,
// DTRUST_SERVER_SHA256; --ca has no variable). All empty: plain gRPC.
struct ChannelSecurityFlags {
  std::string cert_file;
  std::string key_file;
  std::string server_sha256;  // Hex, with or without colons.
  std::string ca_file;
};

// What a TLS handshake's server check saw, so that a refused handshake can
// be explained ("dtrustd's certificate did not match"). Thread-safe.
class ServerCheckRecord {
 public:
  void Set(std::string mismatch) {
    absl::MutexLock lock(&mu_);
    mismatch_ = std::move(mismatch);
  }
  // Empty unless a server certificate was refused.
  std::string mismatch() const {
    absl::MutexLock lock(&mu_);
    return mismatch_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string mismatch_ ABSL_GUARDED_BY(mu_);
};

struct ChannelSecurity {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::shared_ptr<ServerCheckRecord> server_check;  // Null without a pin.
};

// Plain credentials when no flag is given; otherwise TLS: --tls-cert and
// --tls-key
// together present a client certificate, and dtrustd must be authenticated
// by --server-sha256 (the SHA-256 of its certificate's DER, checked
// exactly; no CA needed) or --ca (a CA file, with host name checks).
// InvalidArgument naming the flag and file for anything unusable.
absl::StatusOr<ChannelSecurity> MakeChannelSecurity(
    const ChannelSecurityFlags& flags);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_CHANNEL_SECURITY_H_
