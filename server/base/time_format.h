// Times as dtrust shows and reads them: RFC 3339 in UTC.
#ifndef DTRUST_SERVER_BASE_TIME_FORMAT_H_
#define DTRUST_SERVER_BASE_TIME_FORMAT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace dtrust {

// "2026-12-04T05:00:00Z", with a fraction only when there is one
// ("2026-12-04T05:00:00.25Z").
std::string FormatRfc3339(absl::Time time);
// "2026-12-04T05:00:00Z": whole seconds (a fraction is cut off).
std::string FormatRfc3339Seconds(absl::Time time);
// "2026-12-04T05:00:00.250Z": always three fraction digits (log lines).
std::string FormatRfc3339Millis(absl::Time time);

// The instant `text` names: an RFC 3339 time with any offset and fraction
// ("2026-12-01T00:00:00Z", "2026-12-01T01:00:00.5+01:00") or a date
// ("2026-12-01", its 00:00 UTC); nullopt if it is neither.
std::optional<absl::Time> ParseRfc3339OrDate(absl::string_view text);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_TIME_FORMAT_H_
