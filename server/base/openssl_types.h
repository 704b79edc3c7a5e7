// Owning pointers for OpenSSL objects, and OpenSSL's error queue as text.
#ifndef DTRUST_SERVER_BASE_OPENSSL_TYPES_H_
#define DTRUST_SERVER_BASE_OPENSSL_TYPES_H_

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/base/deleter.h"

namespace dtrust {

// Frees memory OpenSSL allocated (OPENSSL_free is a macro, so it cannot be a
// Deleter's argument itself).
inline void FreeOpenSslMemory(void* memory) { OPENSSL_free(memory); }

// Memory OpenSSL allocated (e.g. by i2d_* or PEM_read_bio).
using OpenSslBytes = std::unique_ptr<unsigned char, Deleter<FreeOpenSslMemory>>;
using OpenSslChars = std::unique_ptr<char, Deleter<FreeOpenSslMemory>>;

using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
// BIO_free_all: a chain is freed whole; a single BIO just as by BIO_free.
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;
using X509ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;

// The oldest queued OpenSSL error as text ("unknown OpenSSL error" if the
// queue is empty); clears the queue. Thread-safe (the queue is per thread).
std::string OpenSslError();

// The contents of a memory BIO (valid until the BIO changes).
absl::string_view BioContents(BIO* bio);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_OPENSSL_TYPES_H_
