// Owning pointers for the OpenSSL objects the lifecycle commands use, and
// OpenSSL's error queue as text.
#ifndef DTRUST_CLIENT_OPENSSL_TYPES_H_
#define DTRUST_CLIENT_OPENSSL_TYPES_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace dtrust::cli {

template <typename T, void (*Free)(T*)>
struct OpenSslFree {
  void operator()(T* p) const { Free(p); }
};

struct OpenSslMemFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
// Memory OpenSSL allocated (e.g. by i2d_* or PEM_read_bio).
using OpenSslBytes = std::unique_ptr<unsigned char, OpenSslMemFree>;
using OpenSslChars = std::unique_ptr<char, OpenSslMemFree>;

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree<BIGNUM, BN_free>>;
using EvpPkeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY, EVP_PKEY_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES,
                    OpenSslFree<GENERAL_NAMES, GENERAL_NAMES_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, OpenSslFree<PKCS12, PKCS12_free>>;
using X509ExtensionPtr =
    std::unique_ptr<X509_EXTENSION,
                    OpenSslFree<X509_EXTENSION, X509_EXTENSION_free>>;
using X509NamePtr =
    std::unique_ptr<X509_NAME, OpenSslFree<X509_NAME, X509_NAME_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509, X509_free>>;
using X509ReqPtr =
    std::unique_ptr<X509_REQ, OpenSslFree<X509_REQ, X509_REQ_free>>;

// The oldest queued OpenSSL error as text ("unknown OpenSSL error" if the
// queue is empty); clears the queue. Thread-safe (the queue is per thread).
std::string OpenSslError();

// The contents of a memory BIO.
absl::string_view BioContents(BIO* bio);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_OPENSSL_TYPES_H_
