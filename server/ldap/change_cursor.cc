#include "server/ldap/change_cursor.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/ldap/ldap_records.h"

namespace dtrust {

absl::string_view ChangeCursor::RootDseAttribute() const {
  return attribute_ == ChangeAttribute::kUsnChanged ? "highestCommittedUSN"
                                                    : "";
}

absl::Status ChangeCursor::BeginPoll(
    const std::vector<std::string>& root_dse_values) {
  newest_seen_.reset();
  next_usn_.reset();
  if (attribute_ != ChangeAttribute::kUsnChanged) return absl::OkStatus();
  uint64_t usn = 0;
  if (root_dse_values.size() != 1 ||
      !absl::SimpleAtoi(root_dse_values[0], &usn)) {
    return absl::FailedPreconditionError(
        "the directory's root DSE has no highestCommittedUSN (only Active "
        "Directory has; poll other directories by modifyTimestamp)");
  }
  next_usn_ = usn + 1;
  return absl::OkStatus();
}

void ChangeCursor::See(absl::string_view value) {
  if (attribute_ != ChangeAttribute::kModifyTimestamp) return;
  const std::optional<absl::Time> time = ParseGeneralizedTime(value);
  if (time && (!newest_seen_ || *time > *newest_seen_)) newest_seen_ = time;
}

void ChangeCursor::EndPoll(absl::Duration search_duration) {
  if (attribute_ == ChangeAttribute::kUsnChanged) {
    if (next_usn_) usn_threshold_ = next_usn_;
    return;
  }
  // Nothing seen: nothing changed since the old threshold, which stays.
  if (!newest_seen_) return;
  const absl::Duration slack =
      absl::Ceil(search_duration, absl::Seconds(1)) + absl::Seconds(1);
  const absl::Time threshold =
      absl::FromUnixSeconds(absl::ToUnixSeconds(*newest_seen_)) - slack;
  if (!time_threshold_ || threshold > *time_threshold_) {
    time_threshold_ = threshold;
  }
}

std::optional<std::string> ChangeCursor::Filter() const {
  if (usn_threshold_)
    return absl::StrCat("(uSNChanged>=", *usn_threshold_, ")");
  if (time_threshold_) {
    return absl::StrCat(
        "(modifyTimestamp>=", ToGeneralizedTime(*time_threshold_), ")");
  }
  return std::nullopt;
}

}  // namespace dtrust
