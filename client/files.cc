#include "client/files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, ": ", std::strerror(errno)));
}

absl::Status WriteError(const std::string& path) {
  return absl::FailedPreconditionError(
      absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
}

// "DIR/.NAME.tmp-XXXXXX" for "DIR/NAME".
std::string TempPattern(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t name_start = slash == std::string::npos ? 0 : slash + 1;
  return absl::StrCat(path.substr(0, name_start), ".", path.substr(name_start),
                      ".tmp-XXXXXX");
}

absl::Status WriteAll(int fd, absl::string_view contents,
                      const std::string& path) {
  while (!contents.empty()) {
    const ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return WriteError(path);
    contents.remove_prefix(static_cast<size_t>(n));
  }
  if (fsync(fd) != 0) return WriteError(path);
  return absl::OkStatus();
}

}  // namespace

NewFiles::~NewFiles() {
  for (const Pending& file : files_) {
    if (!file.temp_path.empty()) unlink(file.temp_path.c_str());
  }
}

absl::Status NewFiles::Check(const std::string& path) const {
  for (const Pending& file : files_) {
    if (file.path == path) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": named for two outputs"));
    }
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  if (!overwrite_) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, ": already exists; use --force to replace it"));
  }
  return absl::OkStatus();
}

absl::Status NewFiles::Add(const std::string& path, absl::string_view contents,
                           mode_t mode) {
  DTRUST_RETURN_IF_ERROR(Check(path));
  struct stat st;
  const bool exists = lstat(path.c_str(), &st) == 0;
  std::string temp_path = TempPattern(path);
  // mkostemp creates the file with O_CREAT|O_EXCL and mode 0600.
  const int fd = mkostemp(temp_path.data(), O_CLOEXEC);
  if (fd < 0) return FileError(path, "cannot create a file there");
  absl::Cleanup close_fd = [fd] { close(fd); };
  absl::Cleanup remove_temp = [&temp_path] { unlink(temp_path.c_str()); };
  if (fchmod(fd, mode) != 0) return FileError(path, "cannot set its mode");
  DTRUST_RETURN_IF_ERROR(WriteAll(fd, contents, path));
  std::move(remove_temp).Cancel();
  files_.push_back(
      {.path = path, .temp_path = std::move(temp_path), .replaces = exists});
  return absl::OkStatus();
}

absl::Status NewFiles::Commit() {
  for (size_t i = 0; i < files_.size(); ++i) {
    Pending& file = files_[i];
    absl::Status error;
    if (overwrite_) {
      if (rename(file.temp_path.c_str(), file.path.c_str()) != 0) {
        error = FileError(file.path, "cannot replace");
      }
    } else if (link(file.temp_path.c_str(), file.path.c_str()) != 0) {
      error = errno == EEXIST
                  ? absl::AlreadyExistsError(absl::StrCat(
                        file.path,
                        ": already exists (created meanwhile); use --force to "
                        "replace it"))
                  : FileError(file.path, "cannot create");
    } else {
      unlink(file.temp_path.c_str());
    }
    if (!error.ok()) {
      for (size_t k = 0; k < i; ++k) {
        if (!files_[k].replaces) unlink(files_[k].path.c_str());
      }
      return error;
    }
    file.temp_path.clear();
  }
  return absl::OkStatus();
}

}  // namespace dtrust::cli
