#include "client/cert_builder.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/key_files.h"
#include "server/base/status_macros.h"
#include "server/core/dns_name.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kWildcard = "*.";
constexpr size_t kSerialBytes = 16;

absl::Status OpenSslFailure(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", OpenSslError()));
}

// The subjectAltName extension for `dns_names` (not empty).
absl::StatusOr<X509ExtensionPtr> SubjectAltName(
    const std::vector<std::string>& dns_names) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return OpenSslFailure("GENERAL_NAMES_new");
  for (const std::string& dns_name : dns_names) {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (value == nullptr ||
        ASN1_STRING_set(value, dns_name.data(),
                        static_cast<int>(dns_name.size())) != 1) {
      ASN1_IA5STRING_free(value);
      return OpenSslFailure("dNSName");
    }
    GENERAL_NAME* name = GENERAL_NAME_new();
    if (name == nullptr) {
      ASN1_IA5STRING_free(value);
      return OpenSslFailure("GENERAL_NAME_new");
    }
    GENERAL_NAME_set0_value(name, GEN_DNS, value);
    if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
      GENERAL_NAME_free(name);
      return OpenSslFailure("subjectAltName");
    }
  }
  X509ExtensionPtr extension(
      X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
  if (!extension) return OpenSslFailure("subjectAltName");
  return extension;
}

// Adds the extension `nid` = `value` (OpenSSL's config syntax) to `cert`.
absl::Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509ExtensionPtr extension(
      X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    return OpenSslFailure(absl::StrCat("extension ", value));
  }
  return absl::OkStatus();
}

// A random positive serial number of kSerialBytes bytes.
absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslFailure("RAND");
  bytes[0] = (bytes[0] & 0x3F) | 0x40;  // Positive, and all 16 bytes used.
  BignumPtr number(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!number || BN_to_ASN1_INTEGER(number.get(),
                                    X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslFailure("serial number");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseSanDnsNames(
    const std::vector<std::string>& names) {
  std::vector<std::string> result;
  for (absl::string_view name : names) {
    const bool wildcard = absl::ConsumePrefix(&name, kWildcard);
    DTRUST_ASSIGN_OR_RETURN(std::string normalized,
                            NormalizeDnsName(name, "--dns-name"));
    if (wildcard) normalized = absl::StrCat(kWildcard, normalized);
    if (std::find(result.begin(), result.end(), normalized) == result.end()) {
      result.push_back(std::move(normalized));
    }
  }
  return result;
}

absl::StatusOr<std::string> MakeCertificateRequest(
    const CertificateContent& content) {
  X509ReqPtr request(X509_REQ_new());
  if (!request) return OpenSslFailure("X509_REQ_new");
  DTRUST_ASSIGN_OR_RETURN(X509NamePtr name, content.subject.ToX509Name());
  if (X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(request.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), content.key) != 1) {
    return OpenSslFailure("request");
  }
  if (!content.dns_names.empty()) {
    DTRUST_ASSIGN_OR_RETURN(X509ExtensionPtr san,
                            SubjectAltName(content.dns_names));
    STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
    const bool added = extensions != nullptr &&
                       sk_X509_EXTENSION_push(extensions, san.get()) != 0 &&
                       X509_REQ_add_extensions(request.get(), extensions) == 1;
    sk_X509_EXTENSION_free(extensions);  // `san` still owns the extension.
    if (!added) return OpenSslFailure("extension request");
  }
  if (X509_REQ_sign(request.get(), content.key, SigningDigest(content.key)) <=
      0) {
    return OpenSslFailure("signing the request");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), request.get()) != 1) {
    return OpenSslFailure("PEM");
  }
  return std::string(BioContents(bio.get()));
}

absl::StatusOr<std::string> MakeSelfSignedCertificate(
    const CertificateContent& content, absl::Time not_before,
    absl::Time not_after) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslFailure("X509_new");
  DTRUST_ASSIGN_OR_RETURN(X509NamePtr name, content.subject.ToX509Name());
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      X509_set_pubkey(cert.get(), content.key) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                    absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) ==
          nullptr) {
    return OpenSslFailure("certificate");
  }
  DTRUST_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  DTRUST_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  DTRUST_RETURN_IF_ERROR(AddExtension(
      cert.get(), NID_key_usage,
      IsRsaKey(content.key) ? "critical,digitalSignature,keyEncipherment"
                            : "critical,digitalSignature"));
  DTRUST_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  DTRUST_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  if (!content.dns_names.empty()) {
    DTRUST_ASSIGN_OR_RETURN(X509ExtensionPtr san,
                            SubjectAltName(content.dns_names));
    if (X509_add_ext(cert.get(), san.get(), -1) != 1) {
      return OpenSslFailure("subjectAltName");
    }
  }
  if (X509_sign(cert.get(), content.key, SigningDigest(content.key)) <= 0) {
    return OpenSslFailure("signing the certificate");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
    return OpenSslFailure("PEM");
  }
  return std::string(BioContents(bio.get()));
}

}  // namespace dtrust::cli
