// Times as dtrust shows them: RFC 3339 in UTC.
#ifndef DTRUST_SERVER_BASE_TIME_FORMAT_H_
#define DTRUST_SERVER_BASE_TIME_FORMAT_H_

#include <string>

#include "absl/time/time.h"

namespace dtrust {

// "2026-12-04T05:00:00Z", with a fraction only when there is one
// ("2026-12-04T05:00:00.25Z").
std::string FormatRfc3339(absl::Time time);
// "2026-12-04T05:00:00Z": whole seconds (a fraction is cut off).
std::string FormatRfc3339Seconds(absl::Time time);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_TIME_FORMAT_H_
