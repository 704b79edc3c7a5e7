#include "server/core/certificate.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/base/openssl_types.h"
#include "server/base/status_macros.h"

namespace dtrust {
namespace {

constexpr absl::string_view kPemBegin = "-----BEGIN ";
constexpr absl::string_view kPemCertificateLabel = "CERTIFICATE";

absl::StatusOr<absl::Time> ToTime(const ASN1_TIME* time,
                                  absl::string_view field,
                                  absl::string_view source) {
  struct tm tm = {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": certificate has an unreadable ", field));
  }
  return absl::FromTimeT(timegm(&tm));
}

std::string Rfc2253(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return "";
  }
  return std::string(BioContents(bio.get()));
}

absl::Status CheckSize(absl::string_view data, absl::string_view source) {
  if (data.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": is empty"));
  }
  if (data.size() > kMaxCertificateBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", data.size(),
                     " bytes is larger than the 64 KiB a certificate may be"));
  }
  return absl::OkStatus();
}

}  // namespace

// One BER element: its header at `start`, its contents.
struct Element {
  const unsigned char* start = nullptr;
  const unsigned char* contents = nullptr;
  long length = 0;
  int tag = 0;
  int tag_class = 0;
  const unsigned char* end() const { return contents + length; }
};

// Reads the element at `*next` (before `end`) and moves `*next` past its
// header; false if there is none or it is not a definite-length element
// that fits.
bool ReadElement(const unsigned char** next, const unsigned char* end,
                 Element* element) {
  if (*next >= end) return false;
  element->start = *next;
  const int flags = ASN1_get_object(next, &element->length, &element->tag,
                                    &element->tag_class, end - *next);
  // 0x80: error; 0x21: constructed with indefinite length.
  if ((flags & 0x80) != 0 || flags == 0x21) return false;
  element->contents = *next;
  return element->length >= 0 && element->length <= end - *next;
}

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der,
                                                 absl::string_view source) {
  DTRUST_RETURN_IF_ERROR(CheckSize(der, source));
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* next = begin;
  X509Ptr x509(d2i_X509(nullptr, &next, static_cast<long>(der.size())));
  if (!x509) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not a DER or PEM X.509 certificate (", OpenSslError(), ")"));
  }
  const size_t used = static_cast<size_t>(next - begin);
  if (used != der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", der.size() - used,
                     " trailing bytes after the DER certificate (", used,
                     " bytes); give exactly one certificate"));
  }
  unsigned char* spki = nullptr;
  const int spki_size =
      i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x509.get()), &spki);
  if (spki_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": certificate has no usable public key (",
                     OpenSslError(), ")"));
  }
  OpenSslBytes spki_owner(spki);
  DTRUST_ASSIGN_OR_RETURN(
      absl::Time not_before,
      ToTime(X509_get0_notBefore(x509.get()), "notBefore", source));
  DTRUST_ASSIGN_OR_RETURN(
      absl::Time not_after,
      ToTime(X509_get0_notAfter(x509.get()), "notAfter", source));
  return Certificate(
      std::string(der), Sha256Digest::Of(der),
      Sha256Digest::Of(absl::string_view(reinterpret_cast<const char*>(spki),
                                         static_cast<size_t>(spki_size))),
      not_before, not_after, Rfc2253(X509_get_subject_name(x509.get())));
}

absl::StatusOr<CertificateFacts> Certificate::MatchingFacts(
    absl::string_view der, absl::string_view source) {
  DTRUST_RETURN_IF_ERROR(CheckSize(der, source));
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = begin + der.size();
  const auto malformed = [&source](absl::string_view where) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not a DER X.509 certificate (", where, " unreadable)"));
  };
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
  // OPTIONAL, serialNumber, signature, issuer, validity, subject,
  // subjectPublicKeyInfo, ... }, ... }
  const unsigned char* next = begin;
  Element certificate, tbs, element;
  if (!ReadElement(&next, end, &certificate) ||
      certificate.tag != V_ASN1_SEQUENCE || certificate.end() != end) {
    return malformed("Certificate");
  }
  if (!ReadElement(&next, certificate.end(), &tbs) ||
      tbs.tag != V_ASN1_SEQUENCE) {
    return malformed("tbsCertificate");
  }
  // Moves `count` elements on from `element`, leaving the last in it.
  const auto advance = [&](int count) {
    for (int i = 0; i < count; ++i) {
      next = element.end();
      if (!ReadElement(&next, tbs.end(), &element)) return false;
    }
    return true;
  };
  if (!ReadElement(&next, tbs.end(), &element)) {
    return malformed("serialNumber");
  }
  if (element.tag_class == V_ASN1_CONTEXT_SPECIFIC && element.tag == 0 &&
      !advance(1)) {  // Past the version.
    return malformed("serialNumber");
  }
  // serialNumber, signature, issuer, then validity.
  if (!advance(3) || element.tag != V_ASN1_SEQUENCE) {
    return malformed("validity");
  }
  absl::Time validity[2];
  const unsigned char* time_next = element.contents;
  for (absl::Time& bound : validity) {
    Asn1TimePtr time(
        d2i_ASN1_TIME(nullptr, &time_next, element.end() - time_next));
    if (time == nullptr) return malformed("validity");
    DTRUST_ASSIGN_OR_RETURN(bound, ToTime(time.get(), "validity", source));
  }
  // subject, then subjectPublicKeyInfo.
  if (!advance(2) || element.tag != V_ASN1_SEQUENCE) {
    return malformed("subjectPublicKeyInfo");
  }
  return CertificateFacts{
      .sha256 = Sha256Digest::Of(der),
      .spki_sha256 = Sha256Digest::Of(absl::string_view(
          reinterpret_cast<const char*>(element.start),
          static_cast<size_t>(element.end() - element.start))),
      .not_before = validity[0],
      .not_after = validity[1]};
}

namespace {

bool IsAllWhitespace(absl::string_view text) {
  return absl::StripAsciiWhitespace(text).empty();
}

absl::StatusOr<Certificate> ParsePem(absl::string_view pem,
                                     absl::string_view source) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return absl::ResourceExhaustedError("out of memory");
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* body = nullptr;
  long body_size = 0;
  const int ok = PEM_read_bio(bio.get(), &name, &header, &body, &body_size);
  OpenSslChars name_owner(name);
  OpenSslChars header_owner(header);
  OpenSslBytes body_owner(body);
  if (ok != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": malformed PEM (", OpenSslError(), ")"));
  }
  if (kPemCertificateLabel != name) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the PEM block is a \"", name, "\", not a \"CERTIFICATE\""));
  }
  const absl::string_view trailing = BioContents(bio.get());
  if (!IsAllWhitespace(trailing)) {
    if (absl::StrContains(trailing, kPemBegin)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source,
                       ": holds more than one PEM block; give exactly one "
                       "certificate (the leaf) per file"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", trailing.size(),
                     " bytes of trailing data after the PEM certificate"));
  }
  return Certificate::FromDer(
      absl::string_view(reinterpret_cast<const char*>(body),
                        static_cast<size_t>(body_size)),
      source);
}

}  // namespace

absl::StatusOr<Certificate> Certificate::FromPemOrDer(
    absl::string_view data, absl::string_view source) {
  DTRUST_RETURN_IF_ERROR(CheckSize(data, source));
  const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(data);
  if (absl::StartsWith(stripped, kPemBegin)) return ParsePem(stripped, source);
  const size_t begin = data.find(kPemBegin);
  if (begin != absl::string_view::npos &&
      absl::StrContains(data.substr(0, begin), "\n")) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": text before the \"-----BEGIN\" line; give a file with just "
        "the PEM certificate"));
  }
  return FromDer(data, source);
}

}  // namespace dtrust
