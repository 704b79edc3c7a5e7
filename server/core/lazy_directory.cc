#include "server/core/lazy_directory.h"

#include "absl/strings/str_cat.h"

namespace dtrust {

absl::StatusOr<Directory*> LazyDirectory::Get() {
  if (Directory* directory = connected_.load(std::memory_order_acquire)) {
    return directory;
  }
  {
    absl::MutexLock lock(&mutex_);
    if (directory_ != nullptr) return directory_.get();
    if (connecting_ || clock_->Now() - last_attempt_ < retry_interval_) {
      return absl::UnavailableError(absl::StrCat(
          "the directory is not connected yet: ",
          last_error_.ok() ? "connecting" : last_error_.message()));
    }
    connecting_ = true;
    last_attempt_ = clock_->Now();
  }
  absl::StatusOr<std::unique_ptr<Directory>> connected = connect_();
  absl::MutexLock lock(&mutex_);
  connecting_ = false;
  if (!connected.ok()) {
    last_error_ = connected.status();
    return absl::UnavailableError(absl::StrCat(
        "the directory is not connected yet: ", last_error_.message()));
  }
  directory_ = *std::move(connected);
  connected_.store(directory_.get(), std::memory_order_release);
  return directory_.get();
}

}  // namespace dtrust
