#include "client/credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/files.h"
#include "server/base/files.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kPemBegin = "-----BEGIN ";

constexpr absl::string_view kPrivateKeyLabels[] = {
    "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY",
    "EC PRIVATE KEY"};

absl::Status Invalid(absl::string_view source, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", message));
}

// Hands OpenSSL the password (if any) when it asks, and remembers that it
// asked.
struct PasswordRequest {
  const std::optional<std::string>* password;
  bool asked = false;
};

int PasswordCallback(char* buffer, int size, int /*rwflag*/, void* user) {
  auto* request = static_cast<PasswordRequest*>(user);
  request->asked = true;
  if (!request->password->has_value()) return -1;
  const std::string& password = **request->password;
  if (password.size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buffer, password.data(), password.size());
  return static_cast<int>(password.size());
}

// A key from the one PEM block `name`/`header`/`body`.
absl::StatusOr<EvpPkeyPtr> ParsePemKey(
    const char* name, const char* header, const unsigned char* body,
    long body_size, const std::optional<std::string>& password,
    absl::string_view source) {
  BioPtr block(BIO_new(BIO_s_mem()));
  if (!block ||
      PEM_write_bio(block.get(), name, header, body, body_size) <= 0) {
    return absl::ResourceExhaustedError("out of memory");
  }
  PasswordRequest request{.password = &password};
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(block.get(), nullptr, PasswordCallback,
                                         &request));
  if (key) return key;
  const std::string error = OpenSslError();
  if (request.asked && !password.has_value()) {
    return Invalid(source,
                   "the private key is encrypted; give its password with "
                   "--password-file");
  }
  if (request.asked) {
    return Invalid(source,
                   "cannot decrypt the private key: wrong password "
                   "(--password-file)");
  }
  return Invalid(source, absl::StrCat("unreadable private key (", error, ")"));
}

bool IsPrivateKeyLabel(absl::string_view name) {
  for (absl::string_view label : kPrivateKeyLabels) {
    if (name == label) return true;
  }
  return false;
}

// A DER certificate that is exactly `der`; null otherwise.
X509Ptr ParseDerCertificate(absl::string_view der) {
  const auto* next = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr certificate(d2i_X509(nullptr, &next, static_cast<long>(der.size())));
  ERR_clear_error();
  if (certificate &&
      next != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return nullptr;
  }
  return certificate;
}

absl::StatusOr<Credentials> ParsePem(absl::string_view data,
                                     const std::optional<std::string>& password,
                                     absl::string_view source) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return absl::ResourceExhaustedError("out of memory");
  Credentials credentials{.format = "PEM"};
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* body = nullptr;
    long body_size = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &body, &body_size) != 1) {
      const unsigned long error = ERR_peek_last_error();
      const std::string text = OpenSslError();
      if (ERR_GET_REASON(error) == PEM_R_NO_START_LINE) break;  // The end.
      return Invalid(source, absl::StrCat("malformed PEM (", text, ")"));
    }
    const OpenSslChars name_owner(name);
    const OpenSslChars header_owner(header);
    const OpenSslBytes body_owner(body);
    const absl::string_view label(name);
    if (label == "CERTIFICATE") {
      X509Ptr certificate = ParseDerCertificate(absl::string_view(
          reinterpret_cast<const char*>(body), static_cast<size_t>(body_size)));
      if (!certificate) {
        return Invalid(source, absl::StrCat("certificate ",
                                            credentials.certificates.size() + 1,
                                            " is not valid DER X.509"));
      }
      credentials.certificates.push_back(std::move(certificate));
    } else if (IsPrivateKeyLabel(label)) {
      if (credentials.key) {
        return Invalid(source, "holds more than one private key");
      }
      DTRUST_ASSIGN_OR_RETURN(
          credentials.key,
          ParsePemKey(name, header, body, body_size, password, source));
    } else if (absl::StrContains(label, "CERTIFICATE REQUEST")) {
      return Invalid(source,
                     "holds a certificate request, not a certificate: have "
                     "it issued by a CA, or make one with dtrust selfsign");
    } else if (label != "EC PARAMETERS") {
      return Invalid(source, absl::StrCat("holds a \"", label,
                                          "\" PEM block; expected "
                                          "certificates and a private key"));
    }
  }
  return credentials;
}

absl::StatusOr<Credentials> ParsePkcs12(
    PKCS12* pkcs12, const std::optional<std::string>& password,
    absl::string_view source) {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  STACK_OF(X509)* others = nullptr;
  const char* pass =
      password.has_value() ? password->c_str() : nullptr;  // NUL-terminated.
  const int ok = PKCS12_parse(pkcs12, pass, &key, &certificate, &others);
  Credentials credentials{.format = "PKCS#12", .key = EvpPkeyPtr(key)};
  if (certificate != nullptr)
    credentials.certificates.emplace_back(certificate);
  while (others != nullptr && sk_X509_num(others) > 0) {
    credentials.certificates.emplace_back(sk_X509_shift(others));
  }
  sk_X509_free(others);
  if (ok != 1) {
    const unsigned long error = ERR_peek_last_error();
    const std::string text = OpenSslError();
    if (ERR_GET_REASON(error) != PKCS12_R_MAC_VERIFY_FAILURE) {
      return Invalid(source, absl::StrCat("unreadable PKCS#12 (", text, ")"));
    }
    if (password.has_value() && !password->empty()) {
      return Invalid(source,
                     "wrong password for the PKCS#12 file "
                     "(--password-file)");
    }
    return Invalid(source,
                   "the PKCS#12 file is password-protected; give its "
                   "password with --password-file");
  }
  return credentials;
}

absl::StatusOr<Credentials> ParseDer(absl::string_view data,
                                     const std::optional<std::string>& password,
                                     absl::string_view source) {
  if (X509Ptr certificate = ParseDerCertificate(data)) {
    Credentials credentials{.format = "DER"};
    credentials.certificates.push_back(std::move(certificate));
    return credentials;
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(data.data());
  const auto* end = begin + data.size();
  const unsigned char* next = begin;
  Pkcs12Ptr pkcs12(d2i_PKCS12(nullptr, &next, static_cast<long>(data.size())));
  ERR_clear_error();
  if (pkcs12 && next == end) return ParsePkcs12(pkcs12.get(), password, source);
  next = begin;
  EvpPkeyPtr key(
      d2i_AutoPrivateKey(nullptr, &next, static_cast<long>(data.size())));
  ERR_clear_error();
  if (key && next == end)
    return Credentials{.format = "DER", .key = std::move(key)};
  return Invalid(source,
                 "not a certificate or private key in PEM or DER, nor a "
                 "PKCS#12 file");
}

}  // namespace

absl::StatusOr<Credentials> ParseCredentials(
    absl::string_view data, const std::optional<std::string>& password,
    absl::string_view source) {
  if (data.empty()) return Invalid(source, "is empty");
  Credentials credentials;
  // PEM may have text before its first block ("Bag Attributes", comments).
  if (absl::StrContains(data, kPemBegin)) {
    DTRUST_ASSIGN_OR_RETURN(credentials, ParsePem(data, password, source));
  } else {
    DTRUST_ASSIGN_OR_RETURN(credentials, ParseDer(data, password, source));
  }
  if (credentials.certificates.empty() && !credentials.key) {
    return Invalid(source, "holds no certificate and no private key");
  }
  return credentials;
}

absl::StatusOr<Credentials> ReadCredentialsFile(
    const std::string& path, const std::optional<std::string>& password) {
  DTRUST_ASSIGN_OR_RETURN(const std::string data,
                          ReadSmallFile(path, kMaxCredentialsFileBytes));
  return ParseCredentials(data, password, path);
}

}  // namespace dtrust::cli
