// A WatchSource whose streams play events a test (or benchmark) pushes, for
// WatchVerifier without dtrustd.
#ifndef DTRUST_TESTS_CLIENT_LIB_FAKE_WATCH_SOURCE_H_
#define DTRUST_TESTS_CLIENT_LIB_FAKE_WATCH_SOURCE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/lib/watch_source.h"

namespace dtrust::testing {

// What the fake's streams read: one queue of events shared by every stream
// opened (an error pushed ends the stream reading it; the next stream
// continues the queue), and the requests that opened them. Thread-safe.
class FakeWatchFeed {
 public:
  void Push(absl::StatusOr<v1::WatchEvent> event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    changed_.notify_all();
  }
  // Waits (up to 5 s) until every event pushed was consumed and the copy is
  // waiting for the next one: everything pushed has been applied.
  bool WaitIdle() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5),
                             [this] { return events_.empty() && waiting_; });
  }
  std::vector<v1::WatchRequest> opened() {
    std::lock_guard lock(mutex_);
    return opened_;
  }

  // For the fake's streams.
  void Opened(const v1::WatchRequest& request) {
    std::lock_guard lock(mutex_);
    opened_.push_back(request);
  }
  absl::StatusOr<v1::WatchEvent> Next(absl::Duration timeout,
                                      const bool* cancelled) {
    std::unique_lock lock(mutex_);
    waiting_ = true;
    changed_.notify_all();
    const bool ready =
        changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                          [&] { return !events_.empty() || *cancelled; });
    waiting_ = false;
    if (*cancelled) return absl::CancelledError("cancelled");
    if (!ready) return absl::DeadlineExceededError("no event in time");
    absl::StatusOr<v1::WatchEvent> event = std::move(events_.front());
    events_.pop_front();
    return event;
  }
  void Cancel(bool* cancelled) {
    std::lock_guard lock(mutex_);
    *cancelled = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<absl::StatusOr<v1::WatchEvent>> events_;
  std::vector<v1::WatchRequest> opened_;
  bool waiting_ = false;
};

class FakeWatchSource : public lib::WatchSource {
 public:
  // Does not own `feed`, which must outlive it.
  explicit FakeWatchSource(FakeWatchFeed* feed) : feed_(feed) {}

  absl::StatusOr<std::unique_ptr<lib::WatchStream>> Open(
      const v1::WatchRequest& request) override {
    feed_->Opened(request);
    return std::make_unique<Stream>(feed_);
  }

 private:
  class Stream : public lib::WatchStream {
   public:
    explicit Stream(FakeWatchFeed* feed) : feed_(feed) {}
    absl::StatusOr<v1::WatchEvent> Next(absl::Duration timeout) override {
      return feed_->Next(timeout, &cancelled_);
    }
    void Cancel() override { feed_->Cancel(&cancelled_); }

   private:
    FakeWatchFeed* const feed_;
    bool cancelled_ = false;  // Guarded by the feed's mutex.
  };

  FakeWatchFeed* const feed_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_CLIENT_LIB_FAKE_WATCH_SOURCE_H_
