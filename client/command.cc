#include "client/command.h"

#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/dns_name.h"

namespace dtrust::cli {

absl::Status UsageError(absl::string_view command, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(message, " (see 'dtrust help",
                                                 command.empty() ? "" : " ",
                                                 command, "')"));
}

absl::StatusOr<v1::ListRequest> ListRequestFromArgs(const ParsedArgs& args) {
  v1::ListRequest request;
  if (std::optional<std::string> server = args.Value("server")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_server(),
                            NormalizeDnsName(*server, "--server"));
  }
  if (std::optional<std::string> domain = args.Value("domain")) {
    DTRUST_ASSIGN_OR_RETURN(*request.mutable_domain(),
                            NormalizeDnsName(*domain, "--domain"));
  }
  return request;
}

}  // namespace dtrust::cli
