#include "server/auth/audit_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "server/base/time_format.h"

namespace dtrust {
namespace {

std::string TimeText(const std::optional<absl::Time>& time) {
  return time ? FormatRfc3339(*time) : "";
}

}  // namespace

std::string PinText(const PinRecord& pin) {
  std::string text = absl::StrCat("sha256 ", pin.cert_sha256.ToColonHex(), " ",
                                  PinKindName(pin.kind), " pin, ",
                                  PinProvenanceName(pin.provenance));
  if (pin.window.not_before || pin.window.not_after) {
    absl::StrAppend(&text, ", window ", TimeText(pin.window.not_before), "..",
                    TimeText(pin.window.not_after));
  }
  return text;
}

std::string GrantText(const std::optional<Grant>& grant) {
  if (!grant) return "none";
  std::string text(RoleName(grant->role));
  if (!grant->scopes.empty()) {
    absl::StrAppend(&text, " in ", absl::StrJoin(grant->scopes, ", "));
  }
  if (!grant->label.empty()) absl::StrAppend(&text, " \"", grant->label, "\"");
  return text;
}

std::string DomainPolicyText(const DomainPolicy& policy) {
  return absl::StrCat("send ", SecureModeName(policy.send), ", receive ",
                      SecureModeName(policy.receive));
}

}  // namespace dtrust
