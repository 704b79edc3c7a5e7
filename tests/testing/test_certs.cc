#include "tests/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "server/base/openssl_types.h"

namespace dtrust::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test_certs: OpenSSL failed: %s\n", what);
    std::abort();
  }
}

EvpPkeyPtr LoadOrGenerateKey(const std::string& pem) {
  if (pem.empty()) {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    Check(key != nullptr, "EVP_EC_gen");
    return key;
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Check(key != nullptr, "PEM_read_bio_PrivateKey");
  return key;
}

void SetCommonName(X509_NAME* name, const std::string& cn) {
  Check(X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1,
        "X509_NAME_add_entry_by_txt");
}

// Removes the directories WriteTempFile made when the test binary exits.
class TempDirs {
 public:
  ~TempDirs() {
    for (const std::string& dir : dirs_) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }
  void Add(std::string dir) { dirs_.push_back(std::move(dir)); }

 private:
  std::vector<std::string> dirs_;
};

}  // namespace

TestCert MakeTestCert(const CertSpec& spec) {
  EvpPkeyPtr key = LoadOrGenerateKey(spec.key_pem);
  X509Ptr x509(X509_new());
  Check(x509 != nullptr, "X509_new");
  Check(X509_set_version(x509.get(), X509_VERSION_3) == 1, "X509_set_version");
  uint64_t serial = spec.serial;
  while (serial == 0) {
    Check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial),
                     sizeof(serial)) == 1,
          "RAND_bytes");
    serial >>= 1;  // Keep it positive as an ASN.1 INTEGER.
  }
  Check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509.get()), serial) == 1,
        "ASN1_INTEGER_set_uint64");
  Check(ASN1_TIME_set(X509_getm_notBefore(x509.get()),
                      absl::ToTimeT(spec.not_before)) != nullptr,
        "notBefore");
  Check(ASN1_TIME_set(X509_getm_notAfter(x509.get()),
                      absl::ToTimeT(spec.not_after)) != nullptr,
        "notAfter");
  SetCommonName(X509_get_subject_name(x509.get()), spec.common_name);
  SetCommonName(X509_get_issuer_name(x509.get()),
                spec.issuer_common_name.empty() ? spec.common_name
                                                : spec.issuer_common_name);
  Check(X509_set_pubkey(x509.get(), key.get()) == 1, "X509_set_pubkey");
  Check(X509_sign(x509.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

  TestCert cert;
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(x509.get(), &der);
  Check(der_size > 0, "i2d_X509");
  cert.der.assign(reinterpret_cast<char*>(der), der_size);
  OPENSSL_free(der);

  BioPtr pem(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(pem.get(), x509.get()) == 1, "PEM_write_bio_X509");
  cert.pem = std::string(BioContents(pem.get()));
  BioPtr key_pem(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0,
                                 nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  cert.key_pem = std::string(BioContents(key_pem.get()));
  return cert;
}

std::string WriteTempFile(const std::string& name,
                          const std::string& contents) {
  char dir_template[] = "/tmp/dtrust-test-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  Check(dir != nullptr, "mkdtemp");
  static TempDirs dirs;  // Destroyed, and so cleaned, at exit.
  dirs.Add(dir);
  const std::string path = std::string(dir) + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << contents;
  out.close();
  if (!out) {
    ADD_FAILURE() << "cannot write " << path;
  }
  return path;
}

}  // namespace dtrust::testing
