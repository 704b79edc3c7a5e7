// Compact building blocks of the mirror's tables (mirror_tables.h):
//
// SlotIndex: an open-addressing hash multiset of 28-bit values (slot numbers
// or references) whose keys live elsewhere, in the slots the values number.
// Each value takes 4 bytes of table (a 4-bit hash tag and the value), the
// table is kept between 65% and 85% full, so an entry costs about 5.3 bytes:
// absl's Swiss tables cost 5 bytes a slot at 44-87% load. Linear probing;
// deletion shifts entries back (no tombstones). Equal keys may repeat (a
// certificate pinned for several servers): lookups visit every candidate.
//
// SlotArray: slots in fixed chunks of 1024, so growing never copies (nor
// doubles) the whole array.
//
// Both are thread-compatible.
#ifndef DTRUST_SERVER_MIRROR_SLOT_INDEX_H_
#define DTRUST_SERVER_MIRROR_SLOT_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

namespace dtrust {

// `HashOf` is a callable `uint64_t(uint32_t value) const` giving the hash of
// the key of the slot `value` names; it must give the same hash for a value
// from Insert() until Erase() (the caller changes a slot's key only while its
// value is out of the index).
template <typename HashOf>
class SlotIndex {
 public:
  static constexpr int kValueBits = 28;
  // Values are 0 .. kMaxValue.
  static constexpr uint32_t kMaxValue = (1u << kValueBits) - 2;

  explicit SlotIndex(HashOf hash_of) : hash_of_(std::move(hash_of)) {}

  size_t size() const { return size_; }
  uint64_t bytes() const { return table_.capacity() * sizeof(uint32_t); }

  // Adds `value` (at most kMaxValue; aborts beyond, as the tables cannot
  // number more slots).
  void Insert(uint32_t value) {
    if (value > kMaxValue) std::abort();
    if ((size_ + 1) * 20 > table_.size() * 17) {  // Above 85 % full.
      Rehash(std::max<size_t>(16, table_.size() * 13 / 10));
    }
    Place(hash_of_(value), value);
    ++size_;
  }

  // Removes one occurrence of `value`; false if absent.
  bool Erase(uint32_t value) {
    if (table_.empty()) return false;
    const uint64_t hash = hash_of_(value);
    const uint32_t entry = Entry(hash, value);
    size_t i = Home(hash);
    while (table_[i] != entry) {
      if (table_[i] == kEmpty) return false;
      i = Next(i);
    }
    // Shift back every later entry of the run that may move closer to home.
    for (size_t j = Next(i); table_[j] != kEmpty; j = Next(j)) {
      const size_t home = Home(hash_of_(table_[j] & kValueMask));
      const bool stays = i <= j ? (i < home && home <= j)   // No wrap.
                                : (i < home || home <= j);  // Wrapped.
      if (stays) continue;
      table_[i] = table_[j];
      i = j;
    }
    table_[i] = kEmpty;
    --size_;
    if (table_.size() > 64 && size_ * 5 < table_.size()) {  // Below 20 %.
      Rehash(size_ * 2);
    }
    return true;
  }

  // Calls `visit(value)` for every value whose key may have `hash` (the tag
  // matches); the caller compares the keys. `visit` returns false to stop.
  template <typename Visit>
  void ForEach(uint64_t hash, Visit&& visit) const {
    if (table_.empty()) return;
    const uint32_t tag = Tag(hash);
    for (size_t i = Home(hash); table_[i] != kEmpty; i = Next(i)) {
      if ((table_[i] >> kValueBits) == tag &&
          !visit(static_cast<uint32_t>(table_[i] & kValueMask))) {
        return;
      }
    }
  }

  // The first value whose key may have `hash` for which `matches(value)`
  // (the caller compares the keys); kNotFound if none.
  static constexpr uint32_t kNotFound = UINT32_MAX;
  template <typename Matches>
  uint32_t Find(uint64_t hash, Matches&& matches) const {
    uint32_t found = kNotFound;
    ForEach(hash, [&](uint32_t value) {
      if (!matches(value)) return true;
      found = value;
      return false;
    });
    return found;
  }

  // Calls `visit(value)` for every value, in no particular order.
  template <typename Visit>
  void ForAll(Visit&& visit) const {
    for (uint32_t entry : table_) {
      if (entry != kEmpty) visit(static_cast<uint32_t>(entry & kValueMask));
    }
  }

 private:
  static constexpr uint32_t kValueMask = (1u << kValueBits) - 1;
  static constexpr uint32_t kEmpty = UINT32_MAX;  // Tag 15, kMaxValue + 1.

  static uint32_t Tag(uint64_t hash) {
    return static_cast<uint32_t>(hash & 0xF);
  }
  static uint32_t Entry(uint64_t hash, uint32_t value) {
    return Tag(hash) << kValueBits | value;
  }
  // The high 32 bits of the hash scaled to the table (any size, not only
  // powers of two); the tag comes from the low bits.
  size_t Home(uint64_t hash) const {
    return static_cast<size_t>(((hash >> 32) * table_.size()) >> 32);
  }
  size_t Next(size_t i) const { return i + 1 == table_.size() ? 0 : i + 1; }

  void Place(uint64_t hash, uint32_t value) {
    size_t i = Home(hash);
    while (table_[i] != kEmpty) i = Next(i);
    table_[i] = Entry(hash, value);
  }

  void Rehash(size_t capacity) {
    std::vector<uint32_t> old(std::max<size_t>(capacity, 16), kEmpty);
    old.swap(table_);
    for (uint32_t entry : old) {
      if (entry == kEmpty) continue;
      const uint32_t value = entry & kValueMask;
      Place(hash_of_(value), value);
    }
  }

  HashOf hash_of_;
  std::vector<uint32_t> table_;
  size_t size_ = 0;
};

// Slots numbered from 0, stored in chunks of kChunk; references to slots stay
// valid while the array grows.
template <typename Slot>
class SlotArray {
 public:
  static constexpr uint32_t kChunk = 1024;

  uint32_t size() const { return size_; }
  uint64_t bytes() const {
    return chunks_.size() * kChunk * sizeof(Slot) +
           chunks_.capacity() * sizeof(chunks_[0]);
  }

  Slot& operator[](uint32_t i) { return chunks_[i / kChunk][i % kChunk]; }
  const Slot& operator[](uint32_t i) const {
    return chunks_[i / kChunk][i % kChunk];
  }

  // Appends a default slot and returns its number.
  uint32_t Append() {
    if (size_ % kChunk == 0) {
      chunks_.push_back(std::make_unique<Slot[]>(kChunk));
    }
    return size_++;
  }

 private:
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  uint32_t size_ = 0;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_SLOT_INDEX_H_
