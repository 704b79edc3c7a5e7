// libdtrust's internals behind the C API: the client handle, the check of
// one certificate, and the per-thread error message.
#ifndef DTRUST_CLIENT_LIB_CLIENT_H_
#define DTRUST_CLIENT_LIB_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/channel_security.h"
#include "client/lib/verifier.h"
#include "dtrust/dtrust.h"

// The C API's opaque client. Configured by one thread; once `verifier` is
// set (dtrust_client_connect) it is immutable and shared by all threads.
struct dtrust_client {
  std::string endpoint = dtrust::cli::kDefaultEndpoint;
  absl::Duration timeout = absl::Milliseconds(2000);
  dtrust::cli::ChannelSecurityFlags security;
  // Verify from an in-process copy fed by dtrustd's Watch stream
  // (watch_verifier.h) instead of one Verify RPC per check.
  bool in_process = false;
  std::unique_ptr<dtrust::lib::Verifier> verifier;  // Null until connected.
};

namespace dtrust::lib {

// What dtrust decided about one certificate (dtrust_result's contents).
struct CheckOutcome {
  dtrust_status status = DTRUST_OK;
  dtrust_verdict verdict = DTRUST_VERDICT_NONE;  // NONE unless status is OK.
  std::string reason;
};

// Hashes `der` (one DER certificate) and asks `verifier` whether it is
// published for `expected_server` and/or `expected_domain`. Invalid
// argument for a certificate that does not parse or when both expectations
// are empty; unavailable when the verifier cannot answer. Thread-safe.
CheckOutcome CheckCertificate(Verifier& verifier, absl::string_view der,
                              absl::string_view expected_server,
                              absl::string_view expected_domain);

// A connected client deciding with `verifier` (for tests and for other
// verifiers than the RPC one). Never null; free with dtrust_client_free.
dtrust_client* NewConnectedClient(std::unique_ptr<Verifier> verifier);

// Records `message` as the calling thread's dtrust_last_error()
// and returns `code`.
dtrust_status SetLastError(dtrust_status code, absl::string_view message);

}  // namespace dtrust::lib

#endif  // DTRUST_CLIENT_LIB_CLIENT_H_
