#include "client/possession.h"

#include "absl/strings/str_cat.h"
#include "client/credentials.h"
#include "client/format.h"
#include "client/key_files.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"
#include "server/core/possession.h"

namespace dtrust::cli {
namespace {

absl::StatusOr<std::string> Sign(const EVP_PKEY* key,
                                 absl::string_view message) {
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  // EVP_DigestSignInit takes a non-const key but does not modify it.
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, SigningDigest(key), nullptr,
                         const_cast<EVP_PKEY*>(key)) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size, data, message.size()) !=
          1) {
    return absl::InternalError(
        absl::StrCat("cannot sign the proof of possession: ", OpenSslError()));
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(context.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &size,
                     data, message.size()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot sign the proof of possession: ", OpenSslError()));
  }
  signature.resize(size);
  return signature;
}

}  // namespace

absl::StatusOr<EvpPkeyPtr> ReadKeyFor(
    const std::string& key_path, const std::optional<std::string>& password,
    const Certificate& certificate, absl::string_view certificate_path) {
  DTRUST_ASSIGN_OR_RETURN(Credentials credentials,
                          ReadCredentialsFile(key_path, password));
  if (!credentials.key) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_path, ": holds no private key (--key)"));
  }
  DTRUST_ASSIGN_OR_RETURN(const Sha256Digest key_digest,
                          PublicKeySha256(credentials.key.get()));
  if (key_digest != certificate.spki_sha256()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the private key in ", key_path, " (spki-sha256 ",
        key_digest.ToColonHex(), ") does not belong to the certificate in ",
        certificate_path, " (spki-sha256 ",
        certificate.spki_sha256().ToColonHex(), ")"));
  }
  return std::move(credentials.key);
}

absl::Status ProvePossession(DtrustdClient& dtrustd, const EVP_PKEY* key,
                             v1::PublishRequest* request) {
  const Sha256Digest cert_sha256 = Sha256Digest::Of(request->certificate_der());
  PinWindow window;
  if (request->has_pin_not_before()) {
    window.not_before = TimestampToTime(request->pin_not_before());
  }
  if (request->has_pin_not_after()) {
    window.not_after = TimestampToTime(request->pin_not_after());
  }
  DTRUST_ASSIGN_OR_RETURN(
      const PossessionTerms terms,
      MakePossessionTerms(
          request->server(),
          {request->domains().begin(), request->domains().end()},
          request->pin_kind() == v1::PIN_KIND_PUBLIC_KEY
              ? PinKind::kPublicKey
              : PinKind::kCertificate,
          window, cert_sha256));
  v1::PublishChallengeRequest challenge_request;
  challenge_request.set_server(request->server());
  challenge_request.set_sha256(std::string(cert_sha256.bytes()));
  DTRUST_ASSIGN_OR_RETURN(const v1::PublishChallenge challenge,
                          dtrustd.GetPublishChallenge(challenge_request));
  DTRUST_ASSIGN_OR_RETURN(
      *request->mutable_possession_signature(),
      Sign(key, PossessionMessage(challenge.challenge(), terms)));
  request->set_challenge(challenge.challenge());
  return absl::OkStatus();
}

}  // namespace dtrust::cli
