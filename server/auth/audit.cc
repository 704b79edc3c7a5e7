#include "server/auth/audit.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/base/json_writer.h"
#include "server/base/time_format.h"
#include "server/core/log.h"

namespace dtrust {

std::string AuditText(absl::string_view text, size_t max_length) {
  std::string escaped = absl::CHexEscape(text);
  if (escaped.size() > max_length) {
    escaped.resize(max_length);
    escaped += "...";
  }
  return escaped;
}

std::string AuditJson(const AuditRecord& record) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Field("time", FormatRfc3339(record.time));
  json.Field("actor", record.actor);
  json.Field("from", record.from);
  json.Field("action", record.action);
  json.StringArray("servers", record.servers);
  json.StringArray("domains", record.domains);
  json.Field("detail", record.detail);
  json.Field("outcome", record.outcome);
  json.EndObject();
  return out;
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
