// Domain Security lists: partner mail domains that must use mutually
// authenticated TLS (Exchange's TLSSendDomainSecureList and
// TLSReceiveDomainSecureList), held in the directory so every MTA shares them.
#ifndef DTRUST_SERVER_CORE_DOMAIN_SECURITY_H_
#define DTRUST_SERVER_CORE_DOMAIN_SECURITY_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace dtrust {

// How strictly one direction of mail with a domain is secured.
enum class SecureMode {
  kOff,      // Not on the list: opportunistic TLS.
  kEnforce,  // Must be domain-secured; otherwise refused / deferred.
  kTesting,  // Checked and logged; mail flows either way.
};

// "off", "enforce", "testing" (directory and JSON form).
absl::string_view SecureModeName(SecureMode mode);
std::optional<SecureMode> SecureModeFromName(absl::string_view name);

// The stricter of two modes (enforce over testing over off): how entries
// for the same domain combine.
SecureMode Stricter(SecureMode a, SecureMode b);

struct DomainPolicy {
  std::string domain{};  // Normalized mail domain.
  // Mail *to* the domain must reach a server whose certificate is published
  // for it.
  SecureMode send = SecureMode::kOff;
  // Mail *from* the domain must arrive with a client certificate published
  // for one of its servers.
  SecureMode receive = SecureMode::kOff;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_CORE_DOMAIN_SECURITY_H_
