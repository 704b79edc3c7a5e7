// Reading bounded input files and writing output files all-or-nothing, for
// the commands that make keys, requests and certificates.
#ifndef DTRUST_CLIENT_FILES_H_
#define DTRUST_CLIENT_FILES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dtrust::cli {

// A set of new output files, put in place together by Commit().
//
// Add() writes each file in full to a temporary file in the target's
// directory, created with O_CREAT|O_EXCL and the file's final mode, so a key
// is never readable by others, not even briefly. Commit() then moves them
// into place in the order added: without `overwrite` by link(2), which
// never replaces an existing file (so a file created meanwhile is safe,
// too), with `overwrite` by rename(2). If a move fails, the files this set
// already created are removed again (files it replaced stay replaced).
// A failed Add() leaves nothing behind; whatever was not committed is
// removed by the destructor. So an error at any step leaves no partial or
// temporary file.
//
// Errors name the path: AlreadyExists if a target exists and `overwrite` is
// false, InvalidArgument if a file cannot be created there,
// FailedPrecondition if writing fails (e.g. a full disk); all exit 2, as
// nothing was written. Thread-compatible.
class NewFiles {
 public:
  explicit NewFiles(bool overwrite) : overwrite_(overwrite) {}
  NewFiles(const NewFiles&) = delete;
  NewFiles& operator=(const NewFiles&) = delete;
  ~NewFiles();

  // The checks Add() makes first, for calling before expensive work: `path`
  // is not a directory, does not exist unless overwriting, and was not
  // named by an earlier Add().
  absl::Status Check(const std::string& path) const;

  // Writes `contents` for `path` with permission bits `mode` (not subject to
  // the umask), after Check(path).
  absl::Status Add(const std::string& path, absl::string_view contents,
                   mode_t mode);

  // Moves every added file into place. Call at most once.
  absl::Status Commit();

 private:
  struct Pending {
    std::string path;
    std::string temp_path;  // Empty once moved into place.
    bool replaces = false;  // `path` existed when added.
  };

  const bool overwrite_;
  std::vector<Pending> files_;
};

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_FILES_H_
