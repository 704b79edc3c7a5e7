// Applying a dtrust-schema directory entry to the mirror's index: shared by
// the content sync consumer (ldap_sync_source.h) and the poller
// (entry_mapper.h).
#ifndef DTRUST_SERVER_LDAP_MIRROR_ENTRIES_H_
#define DTRUST_SERVER_LDAP_MIRROR_ENTRIES_H_

#include "absl/strings/string_view.h"
#include "server/ldap/ldap_connection.h"
#include "server/mirror/mirror_index.h"

namespace dtrust {

// Puts the server, pin or domain policy `entry` (read with the attributes
// of ldap_records.h and objectClass) holds into `index` as the entry `uuid`.
// Pins are verified as LdapDirectory verifies them (ParsePinEntry): an entry
// that does not parse, whose digests disagree with its DER, that is not
// where the layout puts it, or that is of no dtrust class is not indexed,
// and whatever `uuid` held before is removed - never kept, never trusted.
// `servers_key` and `domains_key` are the DnKeys of ou=servers and
// ou=domains.
void ApplyDtrustEntry(const LdapEntry& entry, const EntryUuid& uuid,
                      absl::string_view servers_key,
                      absl::string_view domains_key, MirrorIndex& index);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_MIRROR_ENTRIES_H_
