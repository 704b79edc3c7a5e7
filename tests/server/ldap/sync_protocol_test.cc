#include "server/ldap/sync_protocol.h"

#include <lber.h>
#include <ldap.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ldap/ldap_handles.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;

constexpr char kUuid1[] = "0123456789abcdef";
constexpr char kUuid2[] = "fedcba9876543210";

EntryUuid Uuid(const char* bytes) {
  EntryUuid uuid;
  std::memcpy(uuid.data(), bytes, uuid.size());
  return uuid;
}

// BER built with liblber, as the server would send it.
template <typename... Args>
std::string Ber(const char* format, Args... args) {
  BerPtr ber(ber_alloc_t(LBER_USE_DER));
  EXPECT_NE(ber_printf(ber.get(), format, args...), -1);
  struct berval flat {};
  EXPECT_NE(ber_flatten2(ber.get(), &flat, 0), -1);
  return std::string(flat.bv_val, flat.bv_len);
}

struct berval Bv(const char* text, size_t size) {
  struct berval bv;
  bv.bv_val = const_cast<char*>(text);
  bv.bv_len = size;
  return bv;
}

TEST(SyncProtocolTest, RequestCarriesModeAndCookie) {
  absl::StatusOr<std::string> fresh = EncodeSyncRequest(std::nullopt);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, Ber("{e}", LDAP_SYNC_REFRESH_AND_PERSIST));
  struct berval cookie = Bv("rid=001,csn=x", 13);
  absl::StatusOr<std::string> resumed = EncodeSyncRequest("rid=001,csn=x");
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(*resumed, Ber("{eO}", LDAP_SYNC_REFRESH_AND_PERSIST, &cookie));
}

TEST(SyncProtocolTest, StateControl) {
  struct berval uuid = Bv(kUuid1, 16);
  struct berval cookie = Bv("c1", 2);
  absl::StatusOr<SyncStateControl> state =
      DecodeSyncState(Ber("{eOO}", LDAP_SYNC_DELETE, &uuid, &cookie));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->state, SyncStateControl::State::kDelete);
  EXPECT_EQ(state->uuid, Uuid(kUuid1));
  EXPECT_EQ(state->cookie, "c1");

  state = DecodeSyncState(Ber("{eO}", LDAP_SYNC_ADD, &uuid));
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->state, SyncStateControl::State::kAdd);
  EXPECT_FALSE(state->cookie.has_value());

  struct berval short_uuid = Bv(kUuid1, 5);
  EXPECT_FALSE(DecodeSyncState(Ber("{eO}", LDAP_SYNC_ADD, &short_uuid)).ok());
  EXPECT_FALSE(DecodeSyncState(Ber("{eO}", 9, &uuid)).ok());
  EXPECT_FALSE(DecodeSyncState("garbage").ok());
}

TEST(SyncProtocolTest, InfoMessages) {
  struct berval cookie = Bv("c2", 2);
  absl::StatusOr<SyncInfo> info =
      DecodeSyncInfo(Ber("tO", LDAP_TAG_SYNC_NEW_COOKIE, &cookie));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->kind, SyncInfo::Kind::kNewCookie);
  EXPECT_EQ(info->cookie, "c2");

  // refreshPresent without refreshDone: done defaults to TRUE.
  info = DecodeSyncInfo(Ber("t{O}", LDAP_TAG_SYNC_REFRESH_PRESENT, &cookie));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->kind, SyncInfo::Kind::kRefreshPresent);
  EXPECT_TRUE(info->refresh_done);
  info = DecodeSyncInfo(
      Ber("t{tb}", LDAP_TAG_SYNC_REFRESH_DELETE, LDAP_TAG_REFRESHDONE, 0));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->kind, SyncInfo::Kind::kRefreshDelete);
  EXPECT_FALSE(info->refresh_done);
  EXPECT_FALSE(info->cookie.has_value());

  struct berval uuids[] = {Bv(kUuid1, 16), Bv(kUuid2, 16), {0, nullptr}};
  info = DecodeSyncInfo(
      Ber("t{tb[W]}", LDAP_TAG_SYNC_ID_SET, LDAP_TAG_REFRESHDELETES, 1, uuids));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->kind, SyncInfo::Kind::kIdSet);
  EXPECT_TRUE(info->refresh_deletes);
  EXPECT_THAT(info->uuids, ElementsAre(Uuid(kUuid1), Uuid(kUuid2)));

  EXPECT_FALSE(DecodeSyncInfo(Ber("tO", 0x85, &cookie)).ok());
}

TEST(SyncProtocolTest, DoneControl) {
  struct berval cookie = Bv("c3", 2);
  absl::StatusOr<SyncDone> done = DecodeSyncDone(Ber("{Ob}", &cookie, 1));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->cookie, "c3");
  EXPECT_TRUE(done->refresh_deletes);
  done = DecodeSyncDone(Ber("{}"));
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->cookie.has_value());
}

// Found by tests/fuzz/sync_message_fuzzer: an empty value crashed liblber.
TEST(SyncProtocolTest, EmptyValuesAreMalformed) {
  EXPECT_EQ(DecodeSyncState("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeSyncInfo("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeSyncDone("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeSyncState(absl::string_view()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dtrust
