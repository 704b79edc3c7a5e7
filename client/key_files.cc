#include "client/key_files.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dtrust::cli {
namespace {

struct KeyTypeName {
  KeyType type;
  absl::string_view name;
};

constexpr KeyTypeName kKeyTypes[] = {
    {KeyType::kEcP256, "ec-p256"},
    {KeyType::kRsa2048, "rsa-2048"},
    {KeyType::kRsa3072, "rsa-3072"},
    {KeyType::kRsa4096, "rsa-4096"},
};

// OpenSSL's curve names for the NIST curves, and ours.
struct CurveName {
  absl::string_view openssl;
  absl::string_view ours;
};

constexpr CurveName kCurves[] = {
    {SN_X9_62_prime256v1, "p256"},
    {SN_secp384r1, "p384"},
    {SN_secp521r1, "p521"},
};

}  // namespace

absl::StatusOr<KeyType> ParseKeyType(absl::string_view text) {
  for (const KeyTypeName& entry : kKeyTypes) {
    if (entry.name == text) return entry.type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--key-type ", text,
                   ": must be ec-p256, rsa-2048, rsa-3072 or rsa-4096"));
}

absl::StatusOr<EvpPkeyPtr> GenerateKey(KeyType type) {
  EvpPkeyPtr key;
  switch (type) {
    case KeyType::kEcP256:
      key.reset(EVP_EC_gen(SN_X9_62_prime256v1));
      break;
    case KeyType::kRsa2048:
      key.reset(EVP_RSA_gen(2048));
      break;
    case KeyType::kRsa3072:
      key.reset(EVP_RSA_gen(3072));
      break;
    case KeyType::kRsa4096:
      key.reset(EVP_RSA_gen(4096));
      break;
  }
  if (!key) {
    return absl::InternalError(
        absl::StrCat("cannot generate a key: ", OpenSslError()));
  }
  return key;
}

std::string DescribeKey(const EVP_PKEY* key) {
  if (IsRsaKey(key)) return absl::StrCat("rsa-", EVP_PKEY_get_bits(key));
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[80] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &length) != 1) {
      return "ec";
    }
    for (const CurveName& curve : kCurves) {
      if (curve.openssl == group) return absl::StrCat("ec-", curve.ours);
    }
    return absl::StrCat("ec-", group);
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name == nullptr ? "unknown" : absl::AsciiStrToLower(name);
}

bool IsRsaKey(const EVP_PKEY* key) {
  return EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS");
}

const EVP_MD* SigningDigest(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
    return nullptr;
  }
  return EVP_sha256();
}

absl::StatusOr<std::string> PrivateKeyPem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot encode the private key: ", OpenSslError()));
  }
  return std::string(BioContents(bio.get()));
}

absl::StatusOr<Sha256Digest> PublicKeySha256(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(key, &der);
  if (size <= 0) {
    return absl::InternalError(
        absl::StrCat("cannot encode the public key: ", OpenSslError()));
  }
  const OpenSslBytes owner(der);
  return Sha256Digest::Of(absl::string_view(reinterpret_cast<char*>(der),
                                            static_cast<size_t>(size)));
}

}  // namespace dtrust::cli
