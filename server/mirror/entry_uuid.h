// The identity of a directory entry in the mirror, apart from the index, so
// that code naming entries (the LDAP sync protocol, entry ids) needs no more.
#ifndef DTRUST_SERVER_MIRROR_ENTRY_UUID_H_
#define DTRUST_SERVER_MIRROR_ENTRY_UUID_H_

#include <array>
#include <cstdint>

namespace dtrust {

// An entry's entryUUID (RFC 4530), 16 bytes. All zero: unknown.
using EntryUuid = std::array<uint8_t, 16>;

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_ENTRY_UUID_H_
