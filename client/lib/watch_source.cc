#include "client/lib/watch_source.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "dtrust/v1/dtrust.grpc.pb.h"

namespace dtrust::lib {
namespace {

// A Watch call on its own completion queue, so that each step waits with
// its own deadline: the async API, as the sync one has only a deadline for
// the whole call.
class GrpcWatchStream : public WatchStream {
 public:
  GrpcWatchStream(v1::DirectTrust::Stub* stub, const v1::WatchRequest& request,
                  const std::string* endpoint)
      : endpoint_(endpoint),
        reader_(stub->PrepareAsyncWatch(&context_, request, &queue_)) {
    reader_->StartCall(Tag());
    ++outstanding_;
    awaiting_start_ = true;
  }

  ~GrpcWatchStream() override {
    context_.TryCancel();
    // Written when the Finish below completes, in the loop after it.
    grpc::Status ignored;
    if (!finished_) {
      reader_->Finish(&ignored, Tag());
      ++outstanding_;
    }
    void* tag = nullptr;
    bool ok = false;
    while (outstanding_ > 0 && queue_.Next(&tag, &ok)) --outstanding_;
    queue_.Shutdown();
    while (queue_.Next(&tag, &ok)) {
    }
  }

  absl::StatusOr<v1::WatchEvent> Next(absl::Duration timeout) override {
    if (!ended_.ok()) return ended_;
    const gpr_timespec deadline = gpr_time_add(
        gpr_now(GPR_CLOCK_MONOTONIC),
        gpr_time_from_millis(absl::ToInt64Milliseconds(timeout), GPR_TIMESPAN));
    if (awaiting_start_) {
      awaiting_start_ = false;
      if (absl::Status started = Await(deadline, "connecting"); !started.ok()) {
        return started;
      }
    }
    reader_->Read(&event_, Tag());
    ++outstanding_;
    if (absl::Status read = Await(deadline, "waiting for an event");
        !read.ok()) {
      return read;
    }
    return std::move(event_);
  }

  void Cancel() override { context_.TryCancel(); }

 private:
  void* Tag() { return this; }

  // Waits for the one outstanding operation until `deadline`; on timeout
  // cancels the call. A failed operation ends the stream with the call's
  // status. Returns (and keeps in ended_) the error, if any.
  absl::Status Await(gpr_timespec deadline, absl::string_view doing) {
    void* tag = nullptr;
    bool ok = false;
    if (queue_.AsyncNext(&tag, &ok, deadline) ==
        grpc::CompletionQueue::TIMEOUT) {
      context_.TryCancel();
      queue_.Next(&tag, &ok);
      --outstanding_;
      ended_ = absl::DeadlineExceededError(
          absl::StrCat(*endpoint_, ": Watch: nothing from dtrustd while ",
                       doing, " within the deadline"));
      return ended_;
    }
    --outstanding_;
    if (ok) return absl::OkStatus();
    grpc::Status status;
    reader_->Finish(&status, Tag());
    ++outstanding_;
    queue_.Next(&tag, &ok);
    --outstanding_;
    finished_ = true;
    ended_ = absl::Status(
        status.ok() ? absl::StatusCode::kUnavailable
                    : static_cast<absl::StatusCode>(status.error_code()),
        absl::StrCat(*endpoint_, ": Watch ended: ",
                     status.ok() ? "dtrustd closed the stream"
                                 : status.error_message()));
    return ended_;
  }

  const std::string* const endpoint_;
  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  const std::unique_ptr<grpc::ClientAsyncReader<v1::WatchEvent>> reader_;
  v1::WatchEvent event_;
  int outstanding_ = 0;
  bool awaiting_start_ = false;
  bool finished_ = false;
  absl::Status ended_;
};

class GrpcWatchSource : public WatchSource {
 public:
  GrpcWatchSource(std::string endpoint, const cli::ChannelSecurity& security)
      : endpoint_(std::move(endpoint)),
        stub_(v1::DirectTrust::NewStub(
            grpc::CreateChannel(endpoint_, security.credentials))) {}

  absl::StatusOr<std::unique_ptr<WatchStream>> Open(
      const v1::WatchRequest& request) override {
    return std::make_unique<GrpcWatchStream>(stub_.get(), request, &endpoint_);
  }

 private:
  const std::string endpoint_;
  const std::unique_ptr<v1::DirectTrust::Stub> stub_;
};

}  // namespace

std::unique_ptr<WatchSource> NewGrpcWatchSource(
    std::string endpoint, const cli::ChannelSecurity& security) {
  return std::make_unique<GrpcWatchSource>(std::move(endpoint), security);
}

}  // namespace dtrust::lib
