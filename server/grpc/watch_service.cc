#include "server/grpc/watch_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/core/log.h"
#include "server/grpc/proto_conversion.h"
#include "server/grpc/status_conversion.h"

namespace dtrust {

namespace {

class GrpcWatchStream final : public WatchStream {
 public:
  GrpcWatchStream(grpc::ServerContext* context,
                  grpc::ServerWriter<v1::WatchEvent>* writer)
      : context_(context), writer_(writer) {}
  bool Write(const v1::WatchEvent& event) override {
    return writer_->Write(event);
  }
  bool IsCancelled() const override { return context_->IsCancelled(); }
  void TryCancel() override { context_->TryCancel(); }

 private:
  grpc::ServerContext* const context_;
  grpc::ServerWriter<v1::WatchEvent>* const writer_;
};

}  // namespace

// One stream being served.
class WatchService::Session {
 public:
  Session(WatchService* service, int id, WatchStream* stream)
      : service_(service),
        mirror_(service->mirror_),
        id_(id),
        stream_(stream),
        freshness_every_(std::max(mirror_->Status().max_staleness / 4,
                                  absl::Milliseconds(100))) {}

  absl::Status Run(const v1::WatchRequest& request);

 private:
  absl::Status Send(const v1::WatchEvent& event);
  absl::Status SendSnapshot();
  // Sends the changes after position_ until caught up (a new snapshot when
  // the log no longer covers them).
  absl::Status SendChanges();
  absl::Status SendChange(const Change& change);
  absl::Status SendFreshness();
  // Waits for a change, a freshness notification, the next freshness due,
  // Shutdown or cancel_check; false after Shutdown.
  bool Wait();

  WatchService* const service_;
  Mirror* const mirror_;
  const int id_;
  WatchStream* const stream_;
  const absl::Duration freshness_every_;
  ChangePosition position_;
  uint64_t seen_changes_ = 0;
  uint64_t seen_freshness_ = 0;
  absl::Time freshness_due_;
};

absl::Status WatchService::Session::Run(const v1::WatchRequest& request) {
  {
    absl::MutexLock lock(&service_->mu_);
    seen_changes_ = service_->change_generation_;
    seen_freshness_ = service_->freshness_generation_;
  }
  position_ = {request.resume_epoch(), request.resume_version()};
  if (!mirror_->changes().Since(position_, 0)) {
    if (absl::Status sent = SendSnapshot(); !sent.ok()) return sent;
  }
  if (absl::Status sent = SendChanges(); !sent.ok()) return sent;
  if (absl::Status sent = SendFreshness(); !sent.ok()) return sent;
  while (Wait()) {
    if (stream_->IsCancelled()) {
      return absl::CancelledError("watch: cancelled by the client");
    }
    if (absl::Status sent = SendChanges(); !sent.ok()) return sent;
    bool notified;
    {
      absl::MutexLock lock(&service_->mu_);
      notified = service_->freshness_generation_ != seen_freshness_;
      seen_freshness_ = service_->freshness_generation_;
    }
    if (notified || absl::Now() >= freshness_due_) {
      if (absl::Status sent = SendFreshness(); !sent.ok()) return sent;
    }
  }
  return absl::UnavailableError("watch: dtrustd is shutting down");
}

bool WatchService::Session::Wait() {
  absl::MutexLock lock(&service_->mu_);
  const auto woken = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(service_->mu_) {
    return service_->shutdown_ ||
           service_->change_generation_ != seen_changes_ ||
           service_->freshness_generation_ != seen_freshness_;
  };
  const absl::Duration until_fresh = freshness_due_ - absl::Now();
  service_->mu_.AwaitWithTimeout(
      absl::Condition(&woken),
      std::max(absl::ZeroDuration(),
               std::min(service_->options_.cancel_check, until_fresh)));
  // Read before the log, so that a change appended after it wakes us again.
  seen_changes_ = service_->change_generation_;
  return !service_->shutdown_;
}

absl::Status WatchService::Session::Send(const v1::WatchEvent& event) {
  service_->WriteStarts(id_);
  const bool written = stream_->Write(event);
  if (!service_->WriteEnds(id_)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "watch: the client took no message for --watch-send-deadline ",
        absl::FormatDuration(service_->options_.send_deadline),
        "; resume from the last version applied"));
  }
  if (!written) {
    absl::MutexLock lock(&service_->mu_);
    if (service_->shutdown_) {
      return absl::UnavailableError("watch: dtrustd is shutting down");
    }
    return absl::CancelledError("watch: the client is gone");
  }
  return absl::OkStatus();
}

absl::Status WatchService::Session::SendSnapshot() {
  // The position first: every change up to it is in what is read next;
  // those after it are sent as changes (harmless if already in it).
  position_ = mirror_->changes().Current();
  const std::vector<ServerRecord> servers =
      mirror_->index().Read()->FindServers(ServerFilter{});
  const std::vector<DomainPolicy> policies =
      mirror_->index().Read()->ListDomainPolicies();
  const size_t limit = service_->options_.max_message_bytes;
  v1::WatchEvent event;
  size_t bytes = 0;
  uint32_t index = 0;
  const auto start_chunk = [&] {
    event.Clear();
    v1::WatchSnapshotChunk* chunk = event.mutable_snapshot();
    chunk->set_epoch(position_.epoch);
    chunk->set_version(position_.version);
    chunk->set_index(index++);
    bytes = event.ByteSizeLong();
  };
  // Flushes the chunk if `more` bytes would not fit in it.
  const auto make_room = [&](size_t more) -> absl::Status {
    constexpr size_t kFieldOverhead = 8;  // Tag and length of a field.
    if (bytes + more + kFieldOverhead <= limit ||
        (event.snapshot().servers().empty() &&
         event.snapshot().domain_policies().empty())) {
      bytes += more + kFieldOverhead;
      return absl::OkStatus();
    }
    if (absl::Status sent = Send(event); !sent.ok()) return sent;
    start_chunk();
    bytes += more + kFieldOverhead;
    return absl::OkStatus();
  };
  start_chunk();
  for (const ServerRecord& server : servers) {
    v1::ServerEntry entry = ToProto(server, /*include_certificates=*/false);
    if (absl::Status room = make_room(entry.ByteSizeLong()); !room.ok()) {
      return room;
    }
    *event.mutable_snapshot()->add_servers() = std::move(entry);
  }
  for (const DomainPolicy& policy : policies) {
    v1::DomainPolicy entry = ToProto(policy);
    if (absl::Status room = make_room(entry.ByteSizeLong()); !room.ok()) {
      return room;
    }
    *event.mutable_snapshot()->add_domain_policies() = std::move(entry);
  }
  event.mutable_snapshot()->set_last(true);
  return Send(event);
}

absl::Status WatchService::Session::SendChanges() {
  while (true) {
    std::optional<std::vector<Change>> changes = mirror_->changes().Since(
        position_, service_->options_.max_changes_per_pass);
    if (!changes) {  // Fell behind the log, or a new epoch.
      if (absl::Status sent = SendSnapshot(); !sent.ok()) return sent;
      continue;
    }
    if (changes->empty()) return absl::OkStatus();
    for (const Change& change : *changes) {
      if (absl::Status sent = SendChange(change); !sent.ok()) return sent;
      position_.version = change.version;
    }
  }
}

absl::Status WatchService::Session::SendChange(const Change& change) {
  v1::WatchEvent event;
  v1::WatchChange* out = event.mutable_change();
  out->set_epoch(position_.epoch);
  out->set_version(change.version);
  if (change.subject == ChangeSubject::kServer) {
    const std::vector<ServerRecord> found =
        mirror_->index().Read()->FindServers(
            ServerFilter{.server = change.name});
    if (found.empty()) {
      out->set_server_removed(change.name);
    } else {
      *out->mutable_server() =
          ToProto(found.front(), /*include_certificates=*/false);
    }
  } else {
    const std::optional<DomainPolicy> policy =
        mirror_->index().Read()->GetDomainPolicy(change.name);
    if (policy) {
      *out->mutable_domain_policy() = ToProto(*policy);
    } else {
      out->set_domain_policy_removed(change.name);
    }
  }
  return Send(event);
}

absl::Status WatchService::Session::SendFreshness() {
  const DirectoryStatus status = mirror_->Status();
  v1::WatchEvent event;
  v1::WatchFreshness* freshness = event.mutable_freshness();
  freshness->set_serving(status.serving);
  if (status.snapshot_age) {
    *freshness->mutable_snapshot_age() = ToProto(*status.snapshot_age);
  }
  *freshness->mutable_max_staleness() = ToProto(status.max_staleness);
  if (!status.serving) {
    freshness->set_reason(std::string(mirror_->CheckServing().message()));
  }
  freshness_due_ = absl::Now() + freshness_every_;
  return Send(event);
}

WatchService::WatchService(Mirror* mirror, const WatchOptions& options)
    : mirror_(mirror), options_(options) {
  // Both listeners run under locks of the mirror: they only signal.
  change_subscription_ = mirror_->changes().Subscribe([this] {
    absl::MutexLock lock(&mu_);
    ++change_generation_;
  });
  monitor_subscription_ = mirror_->Subscribe([this] {
    absl::MutexLock lock(&mu_);
    ++freshness_generation_;
  });
  absl::MutexLock lock(&join_mu_);
  watchdog_ = std::thread([this] { RunWatchdog(); });
}

WatchService::~WatchService() { Shutdown(); }

void WatchService::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      shutdown_ = true;
      // A write blocked on a client that does not read returns now.
      for (auto& [id, watcher] : watchers_) watcher.stream->TryCancel();
    }
  }
  absl::MutexLock lock(&join_mu_);
  if (!watchdog_.joinable()) return;
  watchdog_.join();
  mirror_->changes().Unsubscribe(change_subscription_);
  mirror_->Unsubscribe(monitor_subscription_);
}

absl::Status WatchService::Serve(const v1::WatchRequest& request,
                                 WatchStream* stream) {
  int id;
  if (absl::Status admitted = Admit(stream, &id); !admitted.ok()) {
    return admitted;
  }
  Session session(this, id, stream);
  absl::Status done = session.Run(request);
  Leave(id);
  return done;
}

grpc::Status WatchService::Watch(grpc::ServerContext* context,
                                 const v1::WatchRequest* request,
                                 grpc::ServerWriter<v1::WatchEvent>* writer) {
  GrpcWatchStream stream(context, writer);
  return ToGrpcStatus(Serve(*request, &stream));
}

absl::Status WatchService::Admit(WatchStream* stream, int* id) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) {
    return absl::UnavailableError("watch: dtrustd is shutting down");
  }
  if (watchers_.size() >= static_cast<size_t>(options_.max_watchers)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("watch: ", options_.max_watchers,
                     " streams already, the limit (--watch-max-watchers)"));
  }
  *id = next_id_++;
  watchers_[*id].stream = stream;
  return absl::OkStatus();
}

void WatchService::Leave(int id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(id);
}

void WatchService::WriteStarts(int id) {
  absl::MutexLock lock(&mu_);
  watchers_.at(id).writing_since = absl::Now();
}

bool WatchService::WriteEnds(int id) {
  absl::MutexLock lock(&mu_);
  Watcher& watcher = watchers_.at(id);
  watcher.writing_since.reset();
  return !watcher.timed_out;
}

void WatchService::RunWatchdog() {
  const absl::Duration period =
      std::max(options_.send_deadline / 10, absl::Milliseconds(10));
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&shutdown_), period)) {
    const absl::Time now = absl::Now();
    for (auto& [id, watcher] : watchers_) {
      if (watcher.timed_out || !watcher.writing_since ||
          now - *watcher.writing_since <= options_.send_deadline) {
        continue;
      }
      watcher.timed_out = true;
      watcher.stream->TryCancel();
      LogInfo("watch: a stream took no message for ",
              absl::FormatDuration(options_.send_deadline),
              " (--watch-send-deadline); dropped");
    }
  }
}

}  // namespace dtrust
