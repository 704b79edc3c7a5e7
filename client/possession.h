// Proof of possession when publishing: the CLI shows dtrustd that it holds
// the certificate's private key by signing a dtrustd-issued challenge
// (server/core/possession.h has the message and the scheme).
#ifndef DTRUST_CLIENT_POSSESSION_H_
#define DTRUST_CLIENT_POSSESSION_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "client/dtrustd_client.h"
#include "dtrust/v1/dtrust.pb.h"
#include "server/base/openssl_types.h"
#include "server/core/certificate.h"

namespace dtrust::cli {

// The private key in `key_path` (PEM, DER or PKCS#12, see
// ReadCredentialsFile; `password` decrypts it), which must belong to
// `certificate` (read from `certificate_path`, named in errors).
// InvalidArgument naming both files and the key's spki-sha256 if it does
// not, or if the file holds no key.
absl::StatusOr<EvpPkeyPtr> ReadKeyFor(
    const std::string& key_path, const std::optional<std::string>& password,
    const Certificate& certificate, absl::string_view certificate_path);

// Fetches a challenge from dtrustd for request->server() and the
// certificate in request->certificate_der() (both set), signs it with
// `key` (the certificate's) and sets request->challenge() and
// request->possession_signature(). Errors are dtrustd's, or Internal if
// OpenSSL cannot sign.
absl::Status ProvePossession(DtrustdClient& dtrustd, const EVP_PKEY* key,
                             v1::PublishRequest* request);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_POSSESSION_H_
