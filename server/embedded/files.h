// Small file helpers for the embedded directory's data dir.
#ifndef DTRUST_SERVER_EMBEDDED_FILES_H_
#define DTRUST_SERVER_EMBEDDED_FILES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dtrust {

// Owns a file descriptor; closes it on destruction. Not thread-safe.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_;
};

// Replaces `path` with `content` (mode `mode`) so that readers see either the
// old or the new file, never a partial one, even across a crash.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view content, mode_t mode);

// The whole file; NotFound if it does not exist. Meant for small files.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

// The last `max_lines` lines of the file (at most its last 4 KiB), or "" if
// it cannot be read.
std::string TailOfFile(const std::string& path, int max_lines);

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_FILES_H_
