// Server names packed into one buffer, each behind a 2-byte length: a name
// of 20 characters costs 22 bytes and a 4-byte offset, where a std::string
// costs 32 bytes plus a heap block for anything over 15 characters.
// Released names leave garbage, reclaimed by Compact() once it outweighs
// the names in use. Thread-compatible.
#ifndef DTRUST_SERVER_MIRROR_NAME_ARENA_H_
#define DTRUST_SERVER_MIRROR_NAME_ARENA_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace dtrust {

class NameArena {
 public:
  static constexpr size_t kMaxLength = UINT16_MAX;

  // Stores `name` (at most kMaxLength bytes; longer aborts: callers store
  // normalized DNS names, at most 253) and returns its offset.
  uint32_t Add(absl::string_view name) {
    if (name.size() > kMaxLength ||
        buffer_.size() + name.size() + 2 > static_cast<size_t>(UINT32_MAX)) {
      std::abort();
    }
    const uint32_t offset = static_cast<uint32_t>(buffer_.size());
    buffer_.push_back(static_cast<char>(name.size() & 0xFF));
    buffer_.push_back(static_cast<char>(name.size() >> 8));
    buffer_.append(name.data(), name.size());
    return offset;
  }

  absl::string_view Get(uint32_t offset) const {
    const size_t length =
        static_cast<uint8_t>(buffer_[offset]) |
        static_cast<size_t>(static_cast<uint8_t>(buffer_[offset + 1])) << 8;
    return absl::string_view(buffer_.data() + offset + 2, length);
  }

  // The name at `offset` is no longer used.
  void Release(uint32_t offset) { garbage_ += Get(offset).size() + 2; }

  // Whether Compact() would be worth it: over 64 KiB of garbage and more
  // garbage than names.
  bool WantsCompaction() const {
    return garbage_ > 65536 && garbage_ * 2 > buffer_.size();
  }

  // Moves the names in use together. `for_each_offset(relocate)` must call
  // `relocate(uint32_t& offset)` once for every offset in use, which it
  // updates to the name's new place.
  template <typename ForEachOffset>
  void Compact(ForEachOffset&& for_each_offset) {
    std::string compacted;
    compacted.reserve(buffer_.size() - garbage_);
    for_each_offset([&](uint32_t& offset) {
      const absl::string_view name = Get(offset);
      offset = static_cast<uint32_t>(compacted.size());
      compacted.append(buffer_.data() + (name.data() - buffer_.data()) - 2,
                       name.size() + 2);
    });
    buffer_ = std::move(compacted);
    garbage_ = 0;
  }

  uint64_t bytes() const { return buffer_.capacity(); }

 private:
  std::string buffer_;
  size_t garbage_ = 0;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_NAME_ARENA_H_
