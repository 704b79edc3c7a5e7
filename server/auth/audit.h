// The audit trail: every write through dtrustd, and every refused one.
#ifndef DTRUST_SERVER_AUTH_AUDIT_H_
#define DTRUST_SERVER_AUTH_AUDIT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/core/log_rate_limiter.h"

namespace dtrust {

// One audited request. Every string is printable ASCII (client text is
// escaped by the code that fills it in, see AuditText).
struct AuditRecord {
  absl::Time time = absl::InfinitePast();
  std::string actor{};   // Who: the identity and where its role comes from.
  std::string from{};    // Where from (transport peer).
  std::string action{};  // The method: "Publish", "GrantClient", ...
  std::vector<std::string> servers{};  // Transport servers it named.
  std::vector<std::string> domains{};  // Mail domains it named.
  std::string detail{};   // What it asked and changed, "before -> after".
  std::string outcome{};  // "ok: ...", "refused: ...", "failed: ...".
};

struct AuditQuery {
  std::string server{};  // Only records naming it (empty: any).
  std::string domain{};  // Only records naming it (empty: any).
  absl::Time since = absl::InfinitePast();
  size_t limit = 1000;  // At most this many, the newest.
};

// Where records are kept durably. Thread-safe; an unreachable store is
// Unavailable.
class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual absl::Status Append(const AuditRecord& record) = 0;
  // Matching records, oldest first; `*truncated` tells if older ones were
  // left out because of the limit.
  virtual absl::StatusOr<std::vector<AuditRecord>> Query(
      const AuditQuery& query, bool* truncated) = 0;
};

// `text` (client-controlled) as printable ASCII: C escapes for anything
// else, cut to `max_length` characters (then "...").
std::string AuditText(absl::string_view text, size_t max_length = 256);

// Writes each record as one structured log line ("audit: {JSON}") and
// appends it to the store; a store failure is logged, never hides the log
// line. Records of refused or failed requests, which any client can cause
// at will, are limited to kRefusalsPerSecond a second (then counted in the
// log). Thread-safe; owns neither pointer.
class Auditor {
 public:
  static constexpr int kRefusalsPerSecond = 20;

  Auditor(AuditStore* store, const Clock* clock)
      : store_(store), clock_(clock) {}

  // Sets `record.time` and records it.
  void Record(AuditRecord record);

  AuditStore* store() const { return store_; }

 private:
  AuditStore* const store_;
  const Clock* const clock_;
  LogRateLimiter refusals_{kRefusalsPerSecond, clock_};
};

// The record as one JSON object (for the log line).
std::string AuditJson(const AuditRecord& record);

}  // namespace dtrust

#endif  // DTRUST_SERVER_AUTH_AUDIT_H_
