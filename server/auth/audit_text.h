// What an audit record says about each kind of write ("before -> after").
#ifndef DTRUST_SERVER_AUTH_AUDIT_TEXT_H_
#define DTRUST_SERVER_AUTH_AUDIT_TEXT_H_

#include <optional>
#include <string>

#include "server/auth/grant.h"
#include "server/core/directory.h"
#include "server/core/domain_security.h"

namespace dtrust {

// "sha256 AB:.. certificate pin, asserted, window 2026-..Z..2027-..Z".
std::string PinText(const PinRecord& pin);
// "publisher in org-b.example \"label\"", or "none" for no grant.
std::string GrantText(const std::optional<Grant>& grant);
// "send enforce, receive off".
std::string DomainPolicyText(const DomainPolicy& policy);

}  // namespace dtrust

#endif  // DTRUST_SERVER_AUTH_AUDIT_TEXT_H_
