// Reading small files whole; private files of this process's user, opened
// and replaced without following symbolic links.
#ifndef DTRUST_SERVER_BASE_FILES_H_
#define DTRUST_SERVER_BASE_FILES_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/base/owned_fd.h"

namespace dtrust {

// How a file is opened for reading.
enum class FileAccess {
  // open(2) as usual: symbolic links are followed; pipes and devices are read
  // too (e.g. /dev/stdin).
  kAny,
  // As OpenOwnFile: `path` itself, a regular file of the effective user.
  kOwnFileOnly,
};

// The contents of the file at `path`, which must be at most `max_bytes`
// (checked without reading more than max_bytes + 1). InvalidArgument naming
// the file if it cannot be read, is a directory or is too large; with
// kOwnFileOnly also OpenOwnFile's errors.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes,
                                          FileAccess access = FileAccess::kAny);

// The password in `path`: its first line, without the line end (the rest of
// the file is ignored; an empty first line is the empty password). Opened as
// ReadSmallFile with FileAccess::kAny does; InvalidArgument naming the file if
// it cannot be read or exceeds 4 KiB.
absl::StatusOr<std::string> ReadPasswordFile(const std::string& path);

// Opens `path` itself, never what a symbolic link there points to: open(2)
// with `flags` | O_NOFOLLOW | O_CLOEXEC (O_CREAT creates a missing file with
// `mode`, less the umask), then checks that it opened a regular file owned
// by the effective user (a FIFO is not waited for). FailedPrecondition
// naming the path if it is a symbolic link, not a regular file or another
// user's; other failures carry errno's text. Thread-safe.
absl::StatusOr<OwnedFd> OpenOwnFile(const std::string& path, int flags,
                                    mode_t mode = 0600);

// Replaces `path` with a regular file holding `content` and mode `mode` (not
// subject to the umask), so that readers see either the old or the new file,
// never a partial one, even across a crash. Never writes through a symbolic
// link: the content goes to `path`.tmp, created with O_CREAT | O_EXCL |
// O_NOFOLLOW (whatever is left at that name, a link included, is unlinked
// first), synced, and rename(2)d onto `path`, which replaces a symbolic link
// there instead of following it. The directories leading to `path` are the
// caller's to vouch for. Thread-compatible per path.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content, mode_t mode);

// The last `max_lines` lines (at most the last 4 KiB) of `path`, opened as
// OpenOwnFile does; "" if it cannot be read.
std::string TailOfFile(const std::string& path, int max_lines);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_FILES_H_
