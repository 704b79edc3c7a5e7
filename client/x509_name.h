// Certificate subject names as an admin types them (RFC 4514 strings),
// checked against the X.520 upper bounds before anything is generated.
#ifndef DTRUST_CLIENT_X509_NAME_H_
#define DTRUST_CLIENT_X509_NAME_H_

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/base/openssl_types.h"

namespace dtrust::cli {

// One attribute of a subject.
struct SubjectAttribute {
  std::string type{};   // Short name: C, ST, L, O, OU, CN or DC.
  std::string value{};  // Unescaped, valid UTF-8 (ASCII for C and DC).
};

// A validated subject distinguished name. Immutable, copyable,
// thread-compatible.
//
// The text form is RFC 4514: RDNs separated by ',', the most significant
// LAST ("CN=mx1,O=Org B,C=DE,DC=example" is the name whose root is
// DC=example). Recognised: the types C, ST, L, O, OU, CN, DC (and their long
// names, any case); the escapes \, \+ \" \\ \; \< \> \= \# and "\ " and
// \XX hex pairs (UTF-8 bytes). Unescaped spaces around ',' and '=' are
// ignored. Multi-valued RDNs (an unescaped '+') and '#'-prefixed BER values
// are refused.
//
// Bounds (X.520 upper bounds, counted in characters, not bytes):
//   C   exactly 2 ASCII letters (upper-cased), PrintableString
//   ST  1-128, L 1-128, O 1-64, OU 1-64, CN 1-64: UTF8String
//   DC  1-255 ASCII characters, IA5String
// OU and DC may repeat (several units; one DC per DNS label); C, ST, L, O
// and CN may each appear once: one name has one country, state, locality,
// organization and common name. Control characters are refused everywhere.
class Subject {
 public:
  // Parses and validates `text`. InvalidArgument prefixed with `what` (the
  // option name, e.g. "--subject") naming the attribute and what is wrong,
  // e.g. "--subject: O is 65 characters; at most 64".
  static absl::StatusOr<Subject> Parse(absl::string_view text,
                                       absl::string_view what);

  // In the order given (most significant last).
  const std::vector<SubjectAttribute>& attributes() const {
    return attributes_;
  }

  // The X.509 encoding: one single-valued RDN per attribute, most
  // significant first (the reverse of the text), with the string types
  // above. Internal on OpenSSL failure (out of memory).
  absl::StatusOr<X509NamePtr> ToX509Name() const;

 private:
  explicit Subject(std::vector<SubjectAttribute> attributes)
      : attributes_(std::move(attributes)) {}

  std::vector<SubjectAttribute> attributes_;
};

// `name` as an RFC 4514 string (most significant last), non-ASCII
// characters kept as UTF-8: what Subject::Parse accepts and what
// `openssl x509 -noout -subject -nameopt rfc2253,-esc_msb` prints (but for
// a value that is just "#", which OpenSSL leaves unescaped: here "\#").
std::string FormatRfc4514(const X509_NAME* name);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_X509_NAME_H_
