// Directory entry ids as the mirror's EntryUuid.
#ifndef DTRUST_SERVER_LDAP_ENTRY_ID_H_
#define DTRUST_SERVER_LDAP_ENTRY_ID_H_

#include "absl/strings/string_view.h"
#include "server/mirror/entry_uuid.h"

namespace dtrust {

// The EntryUuid for a value of an entry's id attribute (DirectoryMapping::
// id_attribute): 16 raw bytes as they are (Active Directory's objectGUID);
// a text UUID - 32 hex digits, any case, with or without dashes anywhere
// between them - parsed (entryUUID "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
// 389-DS's nsUniqueId "66446001-1dd211b2-800000a0-5ebdd54d"); anything else,
// or a value that would be all zero (the mirror's "unknown"), the first 16
// bytes of its SHA-256. Deterministic, so an entry keeps its uuid across
// polls. Thread-safe.
EntryUuid EntryIdToUuid(absl::string_view value);

// The uuid of one of several index entries made from directory entry
// `parent` (a foreign mapping makes a server and its pins from one entry),
// told apart by `key`: the first 16 bytes of SHA-256(parent, key).
EntryUuid ChildUuid(const EntryUuid& parent, absl::string_view key);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_ENTRY_ID_H_
