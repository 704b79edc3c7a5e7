// The BER values of LDAP Content Synchronization (RFC 4533) that a consumer
// sends and receives: the Sync Request control, the Sync State and Sync Done
// controls and the Sync Info intermediate message. Pure functions over
// bytes, so they are tested without a server.
#ifndef DTRUST_SERVER_LDAP_SYNC_PROTOCOL_H_
#define DTRUST_SERVER_LDAP_SYNC_PROTOCOL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/mirror/entry_uuid.h"

namespace dtrust {

// The value of a Sync Request control for refreshAndPersist, resuming from
// `cookie` when given.
absl::StatusOr<std::string> EncodeSyncRequest(
    const std::optional<std::string>& cookie);

// Sync State control (on every entry the search returns).
struct SyncStateControl {
  enum class State { kPresent = 0, kAdd = 1, kModify = 2, kDelete = 3 };
  State state = State::kPresent;
  EntryUuid uuid{};
  std::optional<std::string> cookie{};
};
absl::StatusOr<SyncStateControl> DecodeSyncState(absl::string_view value);

// Sync Info message (intermediate response).
struct SyncInfo {
  enum class Kind {
    kNewCookie,       // Just a cookie.
    kRefreshDelete,   // End of a delete phase.
    kRefreshPresent,  // End of a present phase.
    kIdSet,           // `uuids` are present, or deleted (refresh_deletes).
  };
  Kind kind = Kind::kNewCookie;
  std::optional<std::string> cookie{};
  bool refresh_done = true;      // kRefreshDelete, kRefreshPresent.
  bool refresh_deletes = false;  // kIdSet.
  std::vector<EntryUuid> uuids{};
};
absl::StatusOr<SyncInfo> DecodeSyncInfo(absl::string_view value);

// Sync Done control (on the final result of a refresh).
struct SyncDone {
  std::optional<std::string> cookie{};
  bool refresh_deletes = false;
};
absl::StatusOr<SyncDone> DecodeSyncDone(absl::string_view value);

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_SYNC_PROTOCOL_H_
