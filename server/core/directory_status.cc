#include "server/core/directory_status.h"

namespace dtrust {

absl::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kNone:
      return "none";
    case SyncMode::kRefreshAndPersist:
      return "refresh-and-persist";
    case SyncMode::kPoll:
      return "poll";
  }
  return "none";
}

}  // namespace dtrust
