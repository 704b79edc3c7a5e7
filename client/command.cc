#include "client/command.h"

#include "absl/strings/str_cat.h"

namespace dtrust::cli {

absl::Status UsageError(absl::string_view command, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(message, " (see 'dtrust help",
                                                 command.empty() ? "" : " ",
                                                 command, "')"));
}

}  // namespace dtrust::cli
