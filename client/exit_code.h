// The dtrust CLI's exit codes (documented in `dtrust help` and the README).
#ifndef DTRUST_CLIENT_EXIT_CODE_H_
#define DTRUST_CLIENT_EXIT_CODE_H_

#include "absl/status/status.h"

namespace dtrust::cli {

enum class ExitCode : int {
  kOk = 0,           // Success; for verify: TRUSTED.
  kNotTrusted = 1,   // verify: another verdict; expiring: pins lapse soon.
  kBadInput = 2,     // Usage error or input rejected; nothing was changed.
  kUnavailable = 3,  // dtrustd or the directory is unavailable, or failed.
  kNotAllowed = 4,   // dtrustd refused: no identity, or not allowed.
};

// The exit code for a failed command: kBadInput for InvalidArgument,
// NotFound, AlreadyExists and FailedPrecondition (local or from dtrustd),
// kNotAllowed for PermissionDenied and Unauthenticated, kUnavailable for
// everything else. `status` must not be OK.
ExitCode ExitCodeForError(const absl::Status& status);

}  // namespace dtrust::cli

#endif  // DTRUST_CLIENT_EXIT_CODE_H_
