// Publishing a certificate through dtrustd: shared by `dtrust publish` and
// `dtrust import --enable smtp`, so both send the same request and print the
// same output.
#ifndef DTRUST_CLIENT_PUBLISH_H_
#define DTRUST_CLIENT_PUBLISH_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/command.h"
#include "dtrust/v1/dtrust.pb.h"

namespace dtrust::cli {

// The options saying where and how to publish: --server FQDN, --domain
// MAIL-DOMAIN (repeatable), --pin cert|key, --not-before TIME and
// --not-after TIME (the pin window; RFC 3339, e.g. 2026-12-01T00:00:00Z, or
// a date 2026-12-01 meaning 00:00 UTC), described for `dtrust publish` or,
// `for_import`, for `dtrust import --enable smtp`.
std::vector<OptionSpec> PublishTargetOptions(bool for_import);

// A request from those options in `args` (certificate_der still unset),
// validated locally (whether the window fits the certificate is dtrustd's
// to say). Usage errors point to `dtrust help COMMAND`; `what`
// names the step for a missing --server ("publish needs --server FQDN").
absl::StatusOr<v1::PublishRequest> MakePublishRequest(const ParsedArgs& args,
                                                      absl::string_view command,
                                                      absl::string_view what);

// Sends `request` to dtrustd and appends the answer to invocation.out as
// text (naming the certificate `label`, e.g. its file) or, with --json, as
// one JSON document. Returns kOk; errors are dtrustd's.
absl::StatusOr<ExitCode> PublishAndReport(const Invocation& invocation,
                                          const v1::PublishRequest& request,
                                          absl::string_view label);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_PUBLISH_H_
