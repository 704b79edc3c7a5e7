#include "server/core/possession.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "server/base/openssl_types.h"
#include "server/base/status_macros.h"
#include "server/base/time_format.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

// Challenge layout: version, nonce, expiry (Unix seconds, big-endian), MAC.
constexpr char kVersion = 1;
constexpr size_t kNonceSize = 16;
constexpr size_t kExpirySize = 8;
constexpr size_t kMacSize = 32;
constexpr size_t kChallengeSize = 1 + kNonceSize + kExpirySize + kMacSize;
constexpr size_t kSecretSize = 32;
constexpr absl::string_view kMacLabel("dtrust-challenge-v1\0", 20);
constexpr absl::string_view kMessageLabel("dtrust-possession-v2\0", 21);

std::string RandomSecret() {
  std::string secret(kSecretSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    std::fputs("dtrust: the random generator failed; cannot make a secret\n",
               stderr);
    std::abort();
  }
  return secret;
}

absl::Status BadProof(absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("proof of possession refused: ", why));
}

}  // namespace

absl::StatusOr<PossessionTerms> MakePossessionTerms(
    absl::string_view server, const std::vector<std::string>& domains,
    PinKind kind, const PinWindow& window, const Sha256Digest& cert_sha256) {
  PossessionTerms terms;
  terms.kind = kind;
  terms.window = window;
  terms.cert_sha256 = cert_sha256;
  DTRUST_ASSIGN_OR_RETURN(terms.server,
                          NormalizeDnsName(server, "server name"));
  for (const std::string& domain : domains) {
    DTRUST_ASSIGN_OR_RETURN(std::string normalized,
                            NormalizeDnsName(domain, "mail domain"));
    terms.domains.push_back(std::move(normalized));
  }
  std::sort(terms.domains.begin(), terms.domains.end());
  terms.domains.erase(std::unique(terms.domains.begin(), terms.domains.end()),
                      terms.domains.end());
  return terms;
}

std::string PossessionMessage(absl::string_view challenge,
                              const PossessionTerms& terms) {
  const absl::string_view end("\0", 1);
  const auto bound = [](const std::optional<absl::Time>& time) {
    return time ? absl::StrCat(absl::ToUnixNanos(*time)) : std::string("-");
  };
  std::string message = absl::StrCat(kMessageLabel, challenge, terms.server,
                                     end, terms.domains.size(), end);
  for (const std::string& domain : terms.domains) {
    absl::StrAppend(&message, domain, end);
  }
  absl::StrAppend(
      &message, PinKindName(terms.kind), end, bound(terms.window.not_before),
      end, bound(terms.window.not_after), end, terms.cert_sha256.bytes());
  return message;
}

absl::Status VerifyPossessionSignature(const Certificate& certificate,
                                       absl::string_view message,
                                       absl::string_view signature) {
  const auto* der =
      reinterpret_cast<const unsigned char*>(certificate.der().data());
  X509Ptr x509(
      d2i_X509(nullptr, &der, static_cast<long>(certificate.der().size())));
  EVP_PKEY* key = x509 ? X509_get0_pubkey(x509.get()) : nullptr;
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  if (key == nullptr || !context) {
    ERR_clear_error();
    return absl::InternalError(
        "cannot read the public key of a parsed certificate");
  }
  const bool own_digest =
      EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
  const bool valid =
      EVP_DigestVerifyInit(context.get(), nullptr,
                           own_digest ? nullptr : EVP_sha256(), nullptr,
                           key) == 1 &&
      EVP_DigestVerify(context.get(),
                       reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  if (!valid) {
    return BadProof(absl::StrCat(
        "the signature does not verify under the public key of certificate "
        "sha256 ",
        certificate.sha256().ToColonHex(),
        " (signed with another key, or not over this challenge and exactly "
        "this request: server, mail domains, pin kind and window, "
        "certificate)"));
  }
  return absl::OkStatus();
}

PossessionChallenges::PossessionChallenges(const Clock* clock,
                                           std::string secret)
    : clock_(clock),
      secret_(secret.empty() ? RandomSecret() : std::move(secret)) {}

std::string PossessionChallenges::Mac(absl::string_view nonce_and_expiry,
                                      absl::string_view server,
                                      const Sha256Digest& cert_sha256) const {
  const std::string input =
      absl::StrCat(kMacLabel, nonce_and_expiry, server,
                   absl::string_view("\0", 1), cert_sha256.bytes());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

absl::StatusOr<PossessionChallenge> PossessionChallenges::Issue(
    absl::string_view server, const Sha256Digest& cert_sha256) const {
  std::string body(1 + kNonceSize + kExpirySize, '\0');
  body[0] = kVersion;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&body[1]), kNonceSize) != 1) {
    ERR_clear_error();
    return absl::InternalError("the random generator failed to make a nonce");
  }
  const absl::Time expires =
      absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now()) +
                            absl::ToInt64Seconds(kChallengeLifetime));
  uint64_t seconds = static_cast<uint64_t>(absl::ToUnixSeconds(expires));
  for (size_t i = 0; i < kExpirySize; ++i) {
    body[1 + kNonceSize + kExpirySize - 1 - i] =
        static_cast<char>(seconds & 0xff);
    seconds >>= 8;
  }
  std::string mac = Mac(absl::string_view(body).substr(1), server, cert_sha256);
  return PossessionChallenge{absl::StrCat(body, mac), expires};
}

absl::Status PossessionChallenges::UseOnce(absl::string_view nonce,
                                           absl::Time expires) {
  absl::MutexLock lock(&mu_);
  if (used_.size() >= kMaxUsed / 2) {
    const absl::Time now = clock_->Now();
    absl::erase_if(used_,
                   [now](const auto& entry) { return entry.second < now; });
  }
  if (used_.size() >= kMaxUsed) {
    return absl::UnavailableError(
        "too many proofs of possession in the last minutes; try again later");
  }
  if (!used_.emplace(std::string(nonce), expires).second) {
    return BadProof(
        "the challenge was already used for a publish; fetch a new one");
  }
  return absl::OkStatus();
}

absl::Status PossessionChallenges::Verify(absl::string_view challenge,
                                          const PossessionTerms& terms,
                                          const Certificate& certificate,
                                          absl::string_view signature) {
  const absl::string_view server = terms.server;
  if (challenge.size() != kChallengeSize || challenge[0] != kVersion) {
    return BadProof(absl::StrCat("the challenge is not one dtrustd issues (",
                                 challenge.size(), " bytes)"));
  }
  const absl::string_view nonce_and_expiry =
      challenge.substr(1, kNonceSize + kExpirySize);
  const std::string expected =
      Mac(nonce_and_expiry, server, certificate.sha256());
  if (CRYPTO_memcmp(expected.data(),
                    challenge.data() + 1 + kNonceSize + kExpirySize,
                    kMacSize) != 0) {
    return BadProof(absl::StrCat(
        "the challenge was not issued by this dtrustd for server ", server,
        " and certificate sha256 ", certificate.sha256().ToColonHex(),
        " (issued for another server or certificate, altered, or from before "
        "a restart of dtrustd: fetch a new one)"));
  }
  uint64_t seconds = 0;
  for (const char byte : nonce_and_expiry.substr(kNonceSize)) {
    seconds = (seconds << 8) | static_cast<unsigned char>(byte);
  }
  const absl::Time expires =
      absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  if (clock_->Now() > expires) {
    return BadProof(absl::StrCat("the challenge expired at ",
                                 FormatRfc3339Seconds(expires),
                                 "; fetch a new one"));
  }
  if (terms.cert_sha256 != certificate.sha256()) {
    return BadProof("the terms name another certificate");
  }
  DTRUST_RETURN_IF_ERROR(VerifyPossessionSignature(
      certificate, PossessionMessage(challenge, terms), signature));
  return UseOnce(nonce_and_expiry.substr(0, kNonceSize), expires);
}

}  // namespace dtrust
