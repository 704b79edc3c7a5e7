#include "server/ldap/mirror_entries.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "server/core/log.h"
#include "server/ldap/ldap_records.h"

namespace dtrust {
namespace {

bool HasClass(const LdapEntry& entry, absl::string_view object_class) {
  for (const std::string& value : entry.Values("objectClass")) {
    if (absl::EqualsIgnoreCase(value, object_class)) return true;
  }
  return false;
}

}  // namespace

void ApplyDtrustEntry(const LdapEntry& entry, const EntryUuid& uuid,
                      absl::string_view servers_key,
                      absl::string_view domains_key, MirrorIndex& index) {
  if (HasClass(entry, kPinClass)) {
    const std::optional<std::string> server =
        PinServerName(entry.dn, servers_key);
    const std::optional<PinRecord> pin =
        UsablePinEntry(entry, PinDetail::kMatching);
    if (server && pin) {
      index.Write()->PutPin(uuid, *server, *pin);
      return;
    }
    if (!server) {
      LogWarning("ignoring pinned certificate entry \"", entry.dn,
                 "\": it is not below a server entry of ou=servers");
    }
  } else if (HasClass(entry, kServerClass)) {
    std::optional<ServerEntry> server = ParseServerEntry(entry, servers_key);
    if (server) {
      index.Write()->PutServer(uuid, server->record.name,
                               server->record.domains);
      return;
    }
  } else if (HasClass(entry, kDomainClass)) {
    std::optional<DomainPolicy> policy = ParseDomainEntry(entry, domains_key);
    if (policy) {
      index.Write()->PutDomainPolicy(uuid, *policy);
      return;
    }
  }
  index.Write()->Remove(uuid);
}

}  // namespace dtrust
