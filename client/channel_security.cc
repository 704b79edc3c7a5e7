#include "client/channel_security.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/base/files.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"

namespace dtrust::cli {
namespace {

constexpr size_t kMaxPemFileBytes = 1024 * 1024;

// Accepts exactly the server certificate whose DER has the pinned SHA-256.
class PinnedServerVerifier final
    : public grpc::experimental::ExternalCertificateVerifier {
 public:
  PinnedServerVerifier(Sha256Digest pin,
                       std::shared_ptr<ServerCheckRecord> record)
      : pin_(pin), record_(std::move(record)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    const grpc::string_ref pem = request->peer_cert();
    absl::StatusOr<Certificate> certificate = Certificate::FromPemOrDer(
        absl::string_view(pem.data(), pem.size()), "dtrustd's certificate");
    if (certificate.ok() && certificate->sha256() == pin_) {
      *sync_status = grpc::Status::OK;
      return true;
    }
    const std::string mismatch = absl::StrCat(
        "dtrustd's certificate did not match --server-sha256 ",
        pin_.ToColonHex(), ": it presented ",
        certificate.ok()
            ? absl::StrCat("sha256 ", certificate->sha256().ToColonHex())
            : std::string(certificate.status().message()));
    record_->Set(mismatch);
    *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, mismatch);
    return true;
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  const Sha256Digest pin_;
  const std::shared_ptr<ServerCheckRecord> record_;
};

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag,
                                         const std::string& path) {
  absl::StatusOr<std::string> data = ReadSmallFile(path, kMaxPemFileBytes);
  if (!data.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", data.status().message()));
  }
  return data;
}

}  // namespace

absl::StatusOr<ChannelSecurity> MakeChannelSecurity(
    const ChannelSecurityFlags& flags) {
  ChannelSecurity security;
  if (flags.cert_file.empty() && flags.key_file.empty() &&
      flags.server_sha256.empty() && flags.ca_file.empty()) {
    security.credentials = grpc::InsecureChannelCredentials();
    return security;
  }
  if (flags.cert_file.empty() != flags.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (flags.server_sha256.empty() == flags.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS to dtrustd needs exactly one way to authenticate it: "
        "--server-sha256 (its certificate's digest) or --ca");
  }
  std::vector<grpc::experimental::IdentityKeyCertPair> identity;
  if (!flags.cert_file.empty()) {
    DTRUST_ASSIGN_OR_RETURN(std::string cert,
                            ReadFlagFile("--tls-cert", flags.cert_file));
    DTRUST_ASSIGN_OR_RETURN(std::string key,
                            ReadFlagFile("--tls-key", flags.key_file));
    identity.push_back({.private_key = key, .certificate_chain = cert});
  }
  std::string ca;
  if (!flags.ca_file.empty()) {
    DTRUST_ASSIGN_OR_RETURN(ca, ReadFlagFile("--ca", flags.ca_file));
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  if (!ca.empty() || !identity.empty()) {  // gRPC aborts on an empty one.
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            ca, identity));
  }
  if (!identity.empty()) options.watch_identity_key_cert_pairs();
  if (!ca.empty()) {
    options.watch_root_certs();
  } else {
    DTRUST_ASSIGN_OR_RETURN(
        Sha256Digest pin,
        Sha256Digest::FromHex(flags.server_sha256, "--server-sha256"));
    security.server_check = std::make_shared<ServerCheckRecord>();
    options.set_verify_server_certs(false);
    options.set_check_call_host(false);
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<
            PinnedServerVerifier>(pin, security.server_check));
  }
  security.credentials = grpc::experimental::TlsCredentials(options);
  if (security.credentials == nullptr) {
    return absl::InvalidArgumentError(
        "--tls-cert/--tls-key: not a usable certificate and key");
  }
  return security;
}

}  // namespace dtrust::cli
