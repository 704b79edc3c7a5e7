// Where the in-process copy (watch_verifier.h) gets its events: dtrustd's
// Watch stream behind an interface, with a gRPC implementation here and a
// fake in the unit tests.
#ifndef DTRUST_CLIENT_LIB_WATCH_SOURCE_H_
#define DTRUST_CLIENT_LIB_WATCH_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/channel_security.h"
#include "dtrust/v1/dtrust.pb.h"

namespace dtrust::lib {

// One open Watch stream. Next is called by one thread; Cancel by any.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The next event, waiting at most `timeout`. Any error ends the stream:
  // DeadlineExceeded when nothing came in time, Unavailable (or dtrustd's
  // code) when the stream broke or dtrustd ended it, Cancelled after Cancel.
  virtual absl::StatusOr<v1::WatchEvent> Next(absl::Duration timeout) = 0;
  // Makes a waiting or later Next return Cancelled soon. Thread-safe.
  virtual void Cancel() = 0;
};

// Opens Watch streams. Thread-compatible (the copy's one thread uses it).
class WatchSource {
 public:
  virtual ~WatchSource() = default;
  // Starts a Watch with `request` (resume position or 0/0). Errors (e.g.
  // no channel) are Unavailable; a stream that cannot connect fails in its
  // first Next instead.
  virtual absl::StatusOr<std::unique_ptr<WatchStream>> Open(
      const v1::WatchRequest& request) = 0;
};

// Watch over gRPC at `endpoint` ("HOST:PORT" or "unix:PATH") with
// `security`, as the CLI connects.
std::unique_ptr<WatchSource> NewGrpcWatchSource(
    std::string endpoint, const cli::ChannelSecurity& security);

}  // namespace dtrust::lib

#endif  // DTRUST_CLIENT_LIB_WATCH_SOURCE_H_
