#include "server/postfix/socketmap_protocol.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace dtrust {
namespace {

// Digits of kMaxNetstringBytes: longer lengths are refused unread.
constexpr size_t kMaxLengthDigits = 6;
// Reasons are for humans reading Postfix's log; keep them short.
constexpr size_t kMaxReasonBytes = 1000;

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("bad netstring: ", what));
}

std::string Reply(absl::string_view status, absl::string_view reason) {
  return absl::StrCat(status, " ", reason.substr(0, kMaxReasonBytes));
}

}  // namespace

absl::Status NetstringReader::Consume(absl::string_view data,
                                      std::vector<std::string>* payloads) {
  while (!data.empty()) {
    switch (state_) {
      case State::kLength: {
        const char c = data.front();
        data.remove_prefix(1);
        if (c == ':') {
          if (digits_ == 0) return Malformed("empty length");
          if (length_ > kMaxNetstringBytes) {
            return Malformed(absl::StrCat("length ", length_, " exceeds ",
                                          kMaxNetstringBytes));
          }
          state_ = State::kData;
          data_.clear();
          data_.reserve(length_);
          break;
        }
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
          return Malformed(absl::StrCat("'", absl::CHexEscape({&c, 1}),
                                        "' where a length digit or ':' "
                                        "belongs"));
        }
        if (digits_ == 1 && length_ == 0) {
          return Malformed("length with a leading zero");
        }
        if (++digits_ > kMaxLengthDigits) {
          return Malformed(absl::StrCat("length exceeds ", kMaxNetstringBytes));
        }
        length_ = length_ * 10 + static_cast<size_t>(c - '0');
        break;
      }
      case State::kData: {
        const size_t take = std::min(data.size(), length_ - data_.size());
        data_.append(data.data(), take);
        data.remove_prefix(take);
        if (data_.size() == length_) state_ = State::kComma;
        break;
      }
      case State::kComma:
        if (data.front() != ',') {
          return Malformed(
              absl::StrCat("no ',' after ", length_, " bytes of data"));
        }
        data.remove_prefix(1);
        payloads->push_back(std::move(data_));
        data_.clear();
        state_ = State::kLength;
        length_ = 0;
        digits_ = 0;
        break;
    }
  }
  return absl::OkStatus();
}

std::string FormatNetstring(absl::string_view data) {
  return absl::StrCat(data.size(), ":", data, ",");
}

absl::StatusOr<SocketmapRequest> ParseSocketmapRequest(absl::string_view data) {
  const size_t space = data.find(' ');
  if (space == absl::string_view::npos || space == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socketmap request \"", absl::CHexEscape(data.substr(0, 64)),
        "\" is not \"NAME KEY\""));
  }
  return SocketmapRequest{std::string(data.substr(0, space)),
                          std::string(data.substr(space + 1))};
}

absl::StatusOr<std::string> FormatSocketmapAnswer(
    const TlsPolicyAnswer& answer) {
  switch (answer.kind) {
    case TlsPolicyAnswer::Kind::kFound: {
      std::string reply = absl::StrCat("OK ", answer.policy);
      if (reply.size() > kMaxNetstringBytes) {
        return absl::ResourceExhaustedError(
            absl::StrCat("the policy is ", reply.size(),
                         " bytes, over the socketmap "
                         "limit of ",
                         kMaxNetstringBytes));
      }
      return reply;
    }
    case TlsPolicyAnswer::Kind::kNotFound:
      return "NOTFOUND ";
    case TlsPolicyAnswer::Kind::kTempFail:
      return SocketmapTemp(answer.reason);
  }
  return SocketmapTemp("dtrust: unknown answer");
}

std::string SocketmapTemp(absl::string_view reason) {
  return Reply("TEMP", reason);
}

std::string SocketmapPerm(absl::string_view reason) {
  return Reply("PERM", reason);
}

}  // namespace dtrust
