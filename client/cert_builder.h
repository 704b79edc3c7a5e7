// Certificate requests and self-signed certificates for a mail server.
#ifndef DTRUST_CLIENT_CERT_BUILDER_H_
#define DTRUST_CLIENT_CERT_BUILDER_H_

#include <openssl/evp.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/x509_name.h"

namespace dtrust::cli {

// The subjectAltName dNSName values for `names` (--dns-name options): each
// a DNS name as NormalizeDnsName accepts it, or "*." followed by one (a
// wildcard is a legitimate SAN for a CA to issue, though dtrust itself
// trusts certificates by digest, never by name). Lower-cased, without a
// trailing dot, duplicates dropped, order kept. InvalidArgument naming
// --dns-name and the bad name otherwise.
absl::StatusOr<std::vector<std::string>> ParseSanDnsNames(
    const std::vector<std::string>& names);

// What goes into a request or certificate. Not owned.
struct CertificateContent {
  const Subject& subject;
  const std::vector<std::string>& dns_names;  // From ParseSanDnsNames.
  EVP_PKEY* key;  // The key pair being certified; signs, too.
};

// A PKCS#10 request (PEM "CERTIFICATE REQUEST"), signed with the key (with
// SHA-256 except for Ed25519/Ed448), asking for a subjectAltName extension
// with the DNS names if there are any. Internal on OpenSSL failure.
absl::StatusOr<std::string> MakeCertificateRequest(
    const CertificateContent& content);

// A self-signed X.509 v3 certificate (PEM "CERTIFICATE"), issuer = subject,
// a random positive 16-byte serial number, valid from `not_before` to
// `not_after`, with the extensions a mail server that is both SMTP server
// and client needs: basicConstraints CA:FALSE (critical), keyUsage
// digitalSignature (+ keyEncipherment for RSA; critical), extendedKeyUsage
// serverAuth + clientAuth, subjectKeyIdentifier, and subjectAltName with
// the DNS names if there are any. Internal on OpenSSL failure.
absl::StatusOr<std::string> MakeSelfSignedCertificate(
    const CertificateContent& content, absl::Time not_before,
    absl::Time not_after);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_CERT_BUILDER_H_
