#include "server/mirror/slot_index.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/mirror/name_arena.h"

namespace dtrust {
namespace {

using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

// Keys of slots, as the tables keep them; few distinct hashes so that runs,
// wrap-around and tag collisions are frequent.
struct Keys {
  std::vector<uint64_t> key_of_slot;
  uint64_t operator()(uint32_t slot) const { return key_of_slot.at(slot); }
};

struct HashOfSlot {
  const Keys* keys;
  uint64_t operator()(uint32_t slot) const { return (*keys)(slot); }
};

std::vector<uint32_t> Lookup(const SlotIndex<HashOfSlot>& index,
                             const Keys& keys, uint64_t key) {
  std::vector<uint32_t> found;
  index.ForEach(key, [&](uint32_t slot) {
    if (keys(slot) == key) found.push_back(slot);
    return true;
  });
  return found;
}

TEST(SlotIndexTest, FindsEverySlotWithTheKeyIncludingRepeats) {
  Keys keys{{7, 7, 9, 7}};
  SlotIndex<HashOfSlot> index(HashOfSlot{&keys});
  for (uint32_t slot = 0; slot < 4; ++slot) index.Insert(slot);
  EXPECT_THAT(Lookup(index, keys, 7), UnorderedElementsAre(0, 1, 3));
  EXPECT_THAT(Lookup(index, keys, 9), UnorderedElementsAre(2));
  EXPECT_TRUE(Lookup(index, keys, 8).empty());
  EXPECT_TRUE(index.Erase(1));
  EXPECT_FALSE(index.Erase(1));
  EXPECT_THAT(Lookup(index, keys, 7), UnorderedElementsAre(0, 3));
  EXPECT_EQ(index.size(), 3u);
}

TEST(SlotIndexTest, FindsTheFirstMatch) {
  Keys keys{{5, 5, 6}};
  SlotIndex<HashOfSlot> index(HashOfSlot{&keys});
  for (uint32_t slot = 0; slot < 3; ++slot) index.Insert(slot);
  EXPECT_EQ(index.Find(5, [](uint32_t slot) { return slot == 1; }), 1u);
  EXPECT_EQ(index.Find(6, [&](uint32_t slot) { return keys(slot) == 6; }), 2u);
  EXPECT_EQ(index.Find(5, [](uint32_t slot) { return slot == 2; }),
            SlotIndex<HashOfSlot>::kNotFound);
}

TEST(SlotIndexTest, StopsWhenTheVisitorSaysSo) {
  Keys keys{{5, 5, 5}};
  SlotIndex<HashOfSlot> index(HashOfSlot{&keys});
  for (uint32_t slot = 0; slot < 3; ++slot) index.Insert(slot);
  int visits = 0;
  index.ForEach(5, [&](uint32_t) {
    ++visits;
    return false;
  });
  EXPECT_EQ(visits, 1);
}

// Random inserts and erases against a model, through growth, shrinking and
// the backward shifts of deletion; hashes crowd into few home positions.
TEST(SlotIndexTest, AgreesWithAModelUnderRandomChanges) {
  std::mt19937_64 random(42);
  constexpr uint32_t kSlots = 5000;
  Keys keys;
  for (uint32_t slot = 0; slot < kSlots; ++slot) {
    // 300 distinct keys; the high half decides the home, the low the tag.
    const uint64_t key = random() % 300;
    keys.key_of_slot.push_back(key * 0x9E3779B97F4A7C15ull);
  }
  SlotIndex<HashOfSlot> index(HashOfSlot{&keys});
  std::set<uint32_t> model;
  for (int step = 0; step < 60000; ++step) {
    const uint32_t slot = random() % kSlots;
    // Grow for the first half, then mostly shrink.
    const bool insert = step < 30000 ? random() % 3 != 0 : random() % 4 == 0;
    if (insert && !model.contains(slot)) {
      index.Insert(slot);
      model.insert(slot);
    } else if (!insert) {
      EXPECT_EQ(index.Erase(slot), model.erase(slot) == 1) << "step " << step;
    }
    if (step % 2999 == 0 || step == 59999) {
      ASSERT_EQ(index.size(), model.size());
      std::vector<uint32_t> all;
      index.ForAll([&](uint32_t s) { all.push_back(s); });
      ASSERT_THAT(all, UnorderedElementsAreArray(model.begin(), model.end()));
      std::map<uint64_t, std::vector<uint32_t>> by_key;
      for (uint32_t s : model) by_key[keys(s)].push_back(s);
      for (const auto& [key, slots] : by_key) {
        ASSERT_THAT(Lookup(index, keys, key), UnorderedElementsAreArray(slots))
            << "step " << step;
      }
    }
  }
  // Most entries are gone: the table shrank with them.
  EXPECT_LT(index.bytes(),
            4 * sizeof(uint32_t) * std::max<size_t>(index.size(), 64));
}

TEST(SlotArrayTest, KeepsSlotsInPlaceAsItGrows) {
  SlotArray<uint64_t> slots;
  EXPECT_EQ(slots.Append(), 0u);
  slots[0] = 42;
  const uint64_t* first = &slots[0];
  for (uint32_t i = 1; i < 5000; ++i) {
    ASSERT_EQ(slots.Append(), i);
    slots[i] = i;
  }
  EXPECT_EQ(&slots[0], first);
  EXPECT_EQ(slots[0], 42u);
  EXPECT_EQ(slots[4999], 4999u);
  EXPECT_EQ(slots.size(), 5000u);
}

TEST(NameArenaTest, KeepsNamesAndCompactsReleasedOnes) {
  NameArena arena;
  std::vector<uint32_t> offsets;
  std::vector<std::string> names;
  for (int i = 0; i < 20000; ++i) {
    names.push_back("mx" + std::to_string(i) + ".example.org");
    offsets.push_back(arena.Add(names.back()));
  }
  EXPECT_EQ(arena.Get(offsets[123]), "mx123.example.org");
  EXPECT_FALSE(arena.WantsCompaction());
  for (int i = 0; i < 20000; ++i) {
    if (i % 10 != 0) arena.Release(offsets[i]);
  }
  ASSERT_TRUE(arena.WantsCompaction());
  const uint64_t before = arena.bytes();
  arena.Compact([&](auto relocate) {
    for (int i = 0; i < 20000; i += 10) relocate(offsets[i]);
  });
  EXPECT_LT(arena.bytes(), before / 4);
  for (int i = 0; i < 20000; i += 10) {
    ASSERT_EQ(arena.Get(offsets[i]), names[i]);
  }
  EXPECT_FALSE(arena.WantsCompaction());
  const std::string long_name(300, 'a');
  EXPECT_EQ(arena.Get(arena.Add(long_name)), long_name);
}

}  // namespace
}  // namespace dtrust
