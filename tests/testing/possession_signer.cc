#include "tests/testing/possession_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "server/base/openssl_types.h"

namespace dtrust::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "possession_signer: %s failed\n", what);
    std::abort();
  }
}

}  // namespace

std::string SignWithKey(const std::string& key_pem, absl::string_view message) {
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Check(key != nullptr, "PEM_read_bio_PrivateKey");
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  size_t size = 0;
  Check(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr,
                           key.get()) == 1,
        "EVP_DigestSignInit");
  Check(
      EVP_DigestSign(context.get(), nullptr, &size, data, message.size()) == 1,
      "EVP_DigestSign");
  std::string signature(size, '\0');
  Check(EVP_DigestSign(context.get(),
                       reinterpret_cast<unsigned char*>(signature.data()),
                       &size, data, message.size()) == 1,
        "EVP_DigestSign");
  signature.resize(size);
  return signature;
}

std::string RsaKeyPem() {
  EvpPkeyPtr key(EVP_RSA_gen(2048));
  Check(key != nullptr, "EVP_RSA_gen");
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0,
                                 nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return std::string(BioContents(bio.get()));
}

}  // namespace dtrust::testing
