// Listening unix stream sockets.
#ifndef DTRUST_SERVER_BASE_UNIX_SOCKET_H_
#define DTRUST_SERVER_BASE_UNIX_SOCKET_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "server/base/owned_fd.h"

namespace dtrust {

// A bound (not yet listening) unix stream socket at `path` with file mode
// `mode`, close-on-exec. A socket file left at `path` by a server that is
// gone is replaced (`*removed_stale` tells); a live one, or any other kind
// of file, is FailedPrecondition; system errors carry errno's text. `*made`
// gets the socket file's identity (to remove only our own later).
absl::StatusOr<OwnedFd> BindUnixSocket(const std::string& path, mode_t mode,
                                       struct stat* made, bool* removed_stale);

// Removes the socket file at `path` if it is still the one `made` describes.
void RemoveUnixSocket(const std::string& path, const struct stat& made);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_UNIX_SOCKET_H_
