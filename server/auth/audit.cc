#include "server/auth/audit.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/time_format.h"
#include "server/core/log.h"

namespace dtrust {
namespace {

// A JSON string of printable ASCII `text`.
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(absl::ascii_isprint(c) ? c : '?');
  }
  out.push_back('"');
  return out;
}

std::string JsonList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (const std::string& value : values) {
    if (out.size() > 1) out.push_back(',');
    out += JsonString(value);
  }
  return out + "]";
}

}  // namespace

std::string AuditText(absl::string_view text, size_t max_length) {
  std::string escaped = absl::CHexEscape(text);
  if (escaped.size() > max_length) {
    escaped.resize(max_length);
    escaped += "...";
  }
  return escaped;
}

std::string AuditJson(const AuditRecord& record) {
  return absl::StrCat("{\"time\":", JsonString(FormatRfc3339(record.time)),
                      ",\"actor\":", JsonString(record.actor),
                      ",\"from\":", JsonString(record.from),
                      ",\"action\":", JsonString(record.action),
                      ",\"servers\":", JsonList(record.servers),
                      ",\"domains\":", JsonList(record.domains),
                      ",\"detail\":", JsonString(record.detail),
                      ",\"outcome\":", JsonString(record.outcome), "}");
}

void Auditor::Record(AuditRecord record) {
  record.time = clock_->Now();
  std::string suppressed;
  if (!absl::StartsWith(record.outcome, "ok") &&
      !refusals_.Allow(&suppressed)) {
    return;  // Counted; the next refusal that passes says how many.
  }
  LogInfo("audit: ", AuditJson(record), suppressed);
  if (absl::Status stored = store_->Append(record); !stored.ok()) {
    LogError("audit: cannot store the record of ", record.action, " by ",
             record.actor, " in the directory: ", stored.message());
  }
}

}  // namespace dtrust
