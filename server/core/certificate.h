// Parsing of X.509 leaf certificates as dtrust needs them.
#ifndef DTRUST_SERVER_CORE_CERTIFICATE_H_
#define DTRUST_SERVER_CORE_CERTIFICATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/digest.h"

namespace dtrust {

// Largest certificate input accepted anywhere (file, RPC field, directory).
inline constexpr size_t kMaxCertificateBytes = 64 * 1024;

// An immutable, parsed X.509 certificate: its DER bytes and what dtrust
// derives from them. Copyable; thread-compatible.
// What matching needs of a certificate (see Certificate::MatchingFacts).
struct CertificateFacts {
  Sha256Digest sha256;       // Of the DER.
  Sha256Digest spki_sha256;  // Of the SubjectPublicKeyInfo as encoded in it.
  absl::Time not_before;
  absl::Time not_after;
};

class Certificate {
 public:
  // Exactly one DER-encoded certificate, no trailing bytes, at most
  // kMaxCertificateBytes. InvalidArgument saying what is wrong otherwise,
  // prefixed with `source`.
  static absl::StatusOr<Certificate> FromDer(
      absl::string_view der, absl::string_view source = "certificate");

  // The digests and validity of one DER certificate, read by walking its
  // ASN.1 structure as far as the SubjectPublicKeyInfo, without decoding the
  // key: about 50 times cheaper than FromDer under OpenSSL 3.0, for
  // re-checking certificates in bulk. For DER-encoded certificates the
  // result equals FromDer's; it does not check what FromDer checks beyond
  // these fields, so a caller that finds them disagreeing with what it
  // expects must decide with FromDer. InvalidArgument prefixed with
  // `source` when the structure cannot be followed.
  static absl::StatusOr<CertificateFacts> MatchingFacts(
      absl::string_view der, absl::string_view source = "certificate");

  // One certificate as PEM ("-----BEGIN CERTIFICATE-----" block with nothing
  // but whitespace around it) or DER. Several certificates, other PEM blocks
  // or trailing junk are InvalidArgument. `source` (e.g. a file name) is
  // prefixed to error messages.
  static absl::StatusOr<Certificate> FromPemOrDer(absl::string_view data,
                                                  absl::string_view source);

  const std::string& der() const { return der_; }
  const Sha256Digest& sha256() const { return sha256_; }
  // SHA-256 of the DER SubjectPublicKeyInfo (DANE "x 1 1" / Postfix
  // ccert_pubkey_fingerprint).
  const Sha256Digest& spki_sha256() const { return spki_sha256_; }
  absl::Time not_before() const { return not_before_; }
  absl::Time not_after() const { return not_after_; }
  // RFC 2253 subject, for display only: never used for matching.
  const std::string& subject() const { return subject_; }

 private:
  Certificate(std::string der, Sha256Digest sha256, Sha256Digest spki_sha256,
              absl::Time not_before, absl::Time not_after, std::string subject)
      : der_(std::move(der)),
        sha256_(sha256),
        spki_sha256_(spki_sha256),
        not_before_(not_before),
        not_after_(not_after),
        subject_(std::move(subject)) {}

  std::string der_;
  Sha256Digest sha256_;
  Sha256Digest spki_sha256_;
  absl::Time not_before_;
  absl::Time not_after_;
  std::string subject_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_CERTIFICATE_H_
