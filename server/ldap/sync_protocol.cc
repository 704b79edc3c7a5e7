#include "server/ldap/sync_protocol.h"

#include <lber.h>
#include <ldap.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/ldap/ldap_handles.h"

namespace dtrust {
namespace {

// A BER reader over `value`; null for an empty value (liblber 2.5's
// ber_init leaves an empty element without a buffer, which ber_scanf then
// reads through a null pointer: found by tests/fuzz/sync_message_fuzzer).
BerPtr Reader(absl::string_view value) {
  if (value.empty()) return nullptr;
  struct berval bv;
  bv.bv_len = value.size();
  bv.bv_val = const_cast<char*>(value.data());
  return BerPtr(ber_init(&bv));
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed RFC 4533 ", what, " from the directory"));
}

absl::StatusOr<EntryUuid> ToUuid(const struct berval& value,
                                 absl::string_view what) {
  if (value.bv_len != 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("RFC 4533 ", what, " carries a ", value.bv_len,
                     "-byte entryUUID instead of 16 bytes"));
  }
  EntryUuid uuid;
  std::memcpy(uuid.data(), value.bv_val, uuid.size());
  return uuid;
}

// Reads an optional cookie at the reader's position.
bool ReadCookie(BerElement* ber, std::optional<std::string>* cookie) {
  ber_len_t length = 0;
  if (ber_peek_tag(ber, &length) != LDAP_TAG_SYNC_COOKIE) return true;
  struct berval value {};
  if (ber_scanf(ber, "m", &value) == LBER_ERROR) return false;
  *cookie = std::string(value.bv_val, value.bv_len);
  return true;
}

// Reads an optional BOOLEAN at the reader's position into `*flag`.
bool ReadFlag(BerElement* ber, ber_tag_t tag, bool* flag) {
  ber_len_t length = 0;
  if (ber_peek_tag(ber, &length) != tag) return true;
  ber_int_t value = 0;
  if (ber_scanf(ber, "b", &value) == LBER_ERROR) return false;
  *flag = value != 0;
  return true;
}

}  // namespace

absl::StatusOr<std::string> EncodeSyncRequest(
    const std::optional<std::string>& cookie) {
  BerPtr ber(ber_alloc_t(LBER_USE_DER));
  if (ber == nullptr) return absl::ResourceExhaustedError("ber_alloc_t");
  int rc;
  if (cookie) {
    struct berval value;
    value.bv_len = cookie->size();
    value.bv_val = const_cast<char*>(cookie->data());
    rc = ber_printf(ber.get(), "{eO}", LDAP_SYNC_REFRESH_AND_PERSIST, &value);
  } else {
    rc = ber_printf(ber.get(), "{e}", LDAP_SYNC_REFRESH_AND_PERSIST);
  }
  struct berval flat {};
  if (rc == -1 || ber_flatten2(ber.get(), &flat, 0) == -1) {
    return absl::InternalError("cannot encode the RFC 4533 sync request");
  }
  return std::string(flat.bv_val, flat.bv_len);
}

absl::StatusOr<SyncStateControl> DecodeSyncState(absl::string_view value) {
  BerPtr ber = Reader(value);
  ber_int_t state = 0;
  struct berval uuid {};
  if (ber == nullptr ||
      ber_scanf(ber.get(), "{em", &state, &uuid) == LBER_ERROR) {
    return Malformed("sync state control");
  }
  SyncStateControl control;
  if (state < LDAP_SYNC_PRESENT || state > LDAP_SYNC_DELETE) {
    return absl::InvalidArgumentError(
        absl::StrCat("RFC 4533 sync state ", state, " is unknown"));
  }
  control.state = static_cast<SyncStateControl::State>(state);
  absl::StatusOr<EntryUuid> parsed = ToUuid(uuid, "sync state control");
  if (!parsed.ok()) return parsed.status();
  control.uuid = *parsed;
  if (!ReadCookie(ber.get(), &control.cookie)) {
    return Malformed("sync state cookie");
  }
  return control;
}

absl::StatusOr<SyncInfo> DecodeSyncInfo(absl::string_view value) {
  BerPtr ber = Reader(value);
  if (ber == nullptr) return Malformed("sync info message");
  SyncInfo info;
  ber_len_t length = 0;
  const ber_tag_t tag = ber_peek_tag(ber.get(), &length);
  switch (tag) {
    case LDAP_TAG_SYNC_NEW_COOKIE: {
      struct berval cookie {};
      if (ber_scanf(ber.get(), "m", &cookie) == LBER_ERROR) {
        return Malformed("sync info newcookie");
      }
      info.kind = SyncInfo::Kind::kNewCookie;
      info.cookie = std::string(cookie.bv_val, cookie.bv_len);
      return info;
    }
    case LDAP_TAG_SYNC_REFRESH_DELETE:
    case LDAP_TAG_SYNC_REFRESH_PRESENT:
      info.kind = tag == LDAP_TAG_SYNC_REFRESH_DELETE
                      ? SyncInfo::Kind::kRefreshDelete
                      : SyncInfo::Kind::kRefreshPresent;
      if (ber_scanf(ber.get(), "{") == LBER_ERROR ||
          !ReadCookie(ber.get(), &info.cookie) ||
          !ReadFlag(ber.get(), LDAP_TAG_REFRESHDONE, &info.refresh_done) ||
          ber_scanf(ber.get(), "}") == LBER_ERROR) {
        return Malformed("sync info refresh message");
      }
      return info;
    case LDAP_TAG_SYNC_ID_SET: {
      info.kind = SyncInfo::Kind::kIdSet;
      BerVarray uuids = nullptr;
      if (ber_scanf(ber.get(), "{") == LBER_ERROR ||
          !ReadCookie(ber.get(), &info.cookie) ||
          !ReadFlag(ber.get(), LDAP_TAG_REFRESHDELETES,
                    &info.refresh_deletes) ||
          ber_scanf(ber.get(), "[W]}", &uuids) == LBER_ERROR) {
        return Malformed("sync info syncIdSet");
      }
      BerVarrayPtr owned(uuids);
      for (BerVarray uuid = uuids; uuid != nullptr && uuid->bv_val != nullptr;
           ++uuid) {
        absl::StatusOr<EntryUuid> parsed = ToUuid(*uuid, "syncIdSet");
        if (!parsed.ok()) return parsed.status();
        info.uuids.push_back(*parsed);
      }
      return info;
    }
    default:
      return absl::InvalidArgumentError(absl::StrFormat(
          "RFC 4533 sync info message with unknown tag 0x%x", tag));
  }
}

absl::StatusOr<SyncDone> DecodeSyncDone(absl::string_view value) {
  BerPtr ber = Reader(value);
  SyncDone done;
  if (ber == nullptr || ber_scanf(ber.get(), "{") == LBER_ERROR ||
      !ReadCookie(ber.get(), &done.cookie) ||
      !ReadFlag(ber.get(), LDAP_TAG_REFRESHDELETES, &done.refresh_deletes) ||
      ber_scanf(ber.get(), "}") == LBER_ERROR) {
    return Malformed("sync done control");
  }
  return done;
}

}  // namespace dtrust
