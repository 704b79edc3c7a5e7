#include "client/lib/watch_verifier.h"

#include <algorithm>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"

namespace dtrust::lib {
namespace {

absl::Time TimeOf(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

absl::Duration DurationOf(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) +
         absl::Nanoseconds(duration.nanos());
}

absl::StatusOr<PinRecord> PinOf(const v1::Pin& pin) {
  PinRecord record;
  DTRUST_ASSIGN_OR_RETURN(record.cert_sha256,
                          Sha256Digest::FromBytes(pin.sha256(), "pin sha256"));
  DTRUST_ASSIGN_OR_RETURN(
      record.spki_sha256,
      Sha256Digest::FromBytes(pin.spki_sha256(), "pin spki_sha256"));
  record.kind = pin.kind() == v1::PIN_KIND_PUBLIC_KEY ? PinKind::kPublicKey
                                                      : PinKind::kCertificate;
  record.not_before = TimeOf(pin.not_before());
  record.not_after = TimeOf(pin.not_after());
  if (pin.has_pin_not_before()) {
    record.window.not_before = TimeOf(pin.pin_not_before());
  }
  if (pin.has_pin_not_after()) {
    record.window.not_after = TimeOf(pin.pin_not_after());
  }
  record.provenance = pin.provenance() == v1::PIN_PROVENANCE_POSSESSION_PROVEN
                          ? PinProvenance::kPossessionProven
                          : PinProvenance::kAsserted;
  record.publisher = pin.publisher();
  return record;
}

// A server entry as the tables take it: name, domains and pins.
struct ServerContent {
  std::string name{};
  std::vector<std::string> domains{};
  std::vector<PinRecord> pins{};
};

// dtrustd sends DNS names (at most 253 bytes): a longer name is a protocol
// error, never stored (the index's names have a bounded length).
absl::Status CheckNameLength(absl::string_view name, absl::string_view what) {
  constexpr size_t kMaxDnsName = 253;
  if (name.size() <= kMaxDnsName) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "a ", what, " of ", name.size(), " bytes, longer than any DNS name"));
}

absl::StatusOr<ServerContent> ContentOf(const v1::ServerEntry& entry) {
  if (entry.name().empty()) {
    return absl::InvalidArgumentError("a server entry without a name");
  }
  DTRUST_RETURN_IF_ERROR(CheckNameLength(entry.name(), "server name"));
  for (const std::string& domain : entry.domains()) {
    DTRUST_RETURN_IF_ERROR(CheckNameLength(domain, "mail domain"));
  }
  ServerContent content{
      .name = entry.name(),
      .domains = {entry.domains().begin(), entry.domains().end()}};
  for (const v1::Pin& pin : entry.pins()) {
    DTRUST_ASSIGN_OR_RETURN(content.pins.emplace_back(), PinOf(pin));
  }
  return content;
}

void PutServer(const ServerContent& content, MirrorTables& tables) {
  tables.AddServerDomains(content.name, content.domains);
  for (const PinRecord& pin : content.pins) {
    tables.PutPinByName(content.name, pin);
  }
}

SecureMode ModeOf(v1::SecureMode mode) {
  switch (mode) {
    case v1::SECURE_MODE_ENFORCE:
      return SecureMode::kEnforce;
    case v1::SECURE_MODE_TESTING:
      return SecureMode::kTesting;
    default:
      return SecureMode::kOff;
  }
}

DomainPolicy PolicyOf(const v1::DomainPolicy& policy) {
  return {.domain = policy.domain(),
          .send = ModeOf(policy.send()),
          .receive = ModeOf(policy.receive())};
}

void PutPolicy(const DomainPolicy& policy, MirrorTables& tables) {
  if (policy.send == SecureMode::kOff && policy.receive == SecureMode::kOff) {
    tables.RemoveDomainPolicyByName(policy.domain);
  } else {
    tables.PutDomainPolicyByName(policy);
  }
}

dtrust_verdict ToVerdict(Verdict verdict) {
  switch (verdict) {
    case Verdict::kTrusted:
      return DTRUST_VERDICT_TRUSTED;
    case Verdict::kNotPublished:
      return DTRUST_VERDICT_NOT_PUBLISHED;
    case Verdict::kWrongServer:
      return DTRUST_VERDICT_WRONG_SERVER;
    case Verdict::kWrongDomain:
      return DTRUST_VERDICT_WRONG_DOMAIN;
    case Verdict::kExpired:
      return DTRUST_VERDICT_EXPIRED;
    case Verdict::kNotYetValid:
      return DTRUST_VERDICT_NOT_YET_VALID;
    case Verdict::kPinExpired:
      return DTRUST_VERDICT_PIN_EXPIRED;
    case Verdict::kPinNotYetActive:
      return DTRUST_VERDICT_PIN_NOT_YET_ACTIVE;
  }
  return DTRUST_VERDICT_NONE;
}

}  // namespace

// The Directory TrustService reads: lookups in the copy under the shared
// lock; the copy is dtrustd's, so every write is refused.
class WatchVerifier::CopyDirectory : public Directory {
 public:
  explicit CopyDirectory(const WatchVerifier* copy) : copy_(copy) {}

  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override {
    std::shared_lock lock(copy_->mutex_);
    if (copy_->tables_ == nullptr) return NoCopy();
    return copy_->tables_->FindByDigest(cert_sha256, spki_sha256);
  }
  absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) override {
    DTRUST_ASSIGN_OR_RETURN(std::vector<ServerRecord> servers,
                            FindServers({.server = std::string(name)}));
    if (servers.empty()) return std::nullopt;
    return std::move(servers.front());
  }
  absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) override {
    return FindServers(filter);
  }
  absl::StatusOr<std::vector<ServerRecord>> FindServers(
      const ServerFilter& filter) override {
    std::shared_lock lock(copy_->mutex_);
    if (copy_->tables_ == nullptr) return NoCopy();
    return copy_->tables_->FindServers(filter);
  }
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override {
    std::shared_lock lock(copy_->mutex_);
    if (copy_->tables_ == nullptr) return NoCopy();
    return copy_->tables_->ListDomainPolicies();
  }
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override {
    std::shared_lock lock(copy_->mutex_);
    if (copy_->tables_ == nullptr) return NoCopy();
    return copy_->tables_->GetDomainPolicy(domain);
  }

  absl::Status CreateServer(absl::string_view,
                            const std::vector<std::string>&) override {
    return Refuse();
  }
  absl::Status AddDomains(absl::string_view,
                          const std::vector<std::string>&) override {
    return Refuse();
  }
  absl::Status AddPin(absl::string_view, const PinRecord&) override {
    return Refuse();
  }
  absl::Status UpdatePin(absl::string_view, const PinRecord&) override {
    return Refuse();
  }
  absl::Status RemovePin(absl::string_view, const Sha256Digest&) override {
    return Refuse();
  }
  absl::Status RemoveServer(absl::string_view) override { return Refuse(); }
  absl::Status PutDomainPolicy(const DomainPolicy&) override {
    return Refuse();
  }
  absl::Status RemoveDomainPolicy(absl::string_view) override {
    return Refuse();
  }

 private:
  static absl::Status NoCopy() {
    return absl::UnavailableError("no complete snapshot from dtrustd yet");
  }
  static absl::Status Refuse() {
    return absl::FailedPreconditionError(
        "the in-process copy is read-only; publish through dtrustd");
  }

  const WatchVerifier* const copy_;
};

// A snapshot being received: its chunks so far, in tables built aside.
struct WatchVerifier::PendingSnapshot {
  std::unique_ptr<MirrorTables> tables;  // Null: none in progress.
  Position position;
  uint32_t next_index = 0;
  uint64_t entries = 0;  // Servers, pins and policies so far.
};

WatchVerifier::WatchVerifier(std::unique_ptr<WatchSource> source,
                             const Clock* clock, WatchVerifierOptions options)
    : source_(std::move(source)),
      clock_(clock),
      options_(options),
      directory_(std::make_unique<CopyDirectory>(this)),
      trust_service_(directory_.get(), clock),
      thread_([this] { Run(); }) {}

WatchVerifier::~WatchVerifier() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
    if (stream_ != nullptr) stream_->Cancel();
  }
  stop_signal_.notify_all();
  ready_signal_.notify_all();
  thread_.join();
}

absl::StatusOr<VerifyAnswer> WatchVerifier::Verify(const VerifyQuery& query) {
  if (!had_snapshot_.load(std::memory_order_acquire) &&
      options_.first_snapshot_wait > absl::ZeroDuration()) {
    WaitReady(options_.first_snapshot_wait).IgnoreError();
  }
  {
    std::shared_lock lock(mutex_);
    DTRUST_RETURN_IF_ERROR(CheckAnswerable());
  }
  absl::StatusOr<VerifyResult> result =
      trust_service_.Verify({.cert_sha256 = query.sha256,
                             .spki_sha256 = query.spki_sha256,
                             .expected_server = query.expected_server,
                             .expected_domain = query.expected_domain});
  if (!result.ok()) {
    return absl::UnavailableError(std::string(result.status().message()));
  }
  return VerifyAnswer{.verdict = ToVerdict(result->verdict),
                      .reason = std::move(result->reason)};
}

absl::Status WatchVerifier::CheckAnswerable() const {
  // Built only for an error: a check that answers allocates nothing here.
  const auto unavailable = [this](auto... parts) {
    return absl::UnavailableError(absl::StrCat(
        parts..., last_error_.empty() ? "" : " (the stream: ", last_error_,
        last_error_.empty() ? "" : ")"));
  };
  if (tables_ == nullptr || !have_freshness_) {
    return unavailable(
        "the in-process copy has no complete snapshot from dtrustd yet");
  }
  if (!serving_) {
    return absl::UnavailableError(absl::StrCat(
        "dtrustd is not serving: ", absl::CHexEscape(not_serving_reason_)));
  }
  const absl::Duration age = snapshot_age_ + (clock_->Now() - freshness_at_);
  if (age > max_staleness_) {
    return unavailable("the in-process copy is ", absl::FormatDuration(age),
                       " old, over dtrustd's bound of ",
                       absl::FormatDuration(max_staleness_));
  }
  return absl::OkStatus();
}

absl::Status WatchVerifier::WaitReady(absl::Duration timeout) {
  const auto until =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(timeout);
  std::unique_lock stop_lock(stop_mutex_);
  while (true) {
    {
      std::shared_lock lock(mutex_);
      absl::Status answerable = CheckAnswerable();
      if (answerable.ok() || stopping_) return answerable;
      if (std::chrono::steady_clock::now() >= until) {
        return absl::DeadlineExceededError(
            absl::StrCat("not ready within ", absl::FormatDuration(timeout),
                         ": ", answerable.message()));
      }
    }
    ready_signal_.wait_until(stop_lock, until);
  }
}

WatchVerifier::Position WatchVerifier::position() const {
  std::shared_lock lock(mutex_);
  return position_;
}

void WatchVerifier::Run() {
  std::mt19937_64 random{std::random_device{}()};
  absl::Duration backoff = options_.min_backoff;
  while (true) {
    v1::WatchRequest request;
    request.set_resume_epoch(position_.epoch);  // Only this thread writes it.
    request.set_resume_version(position_.version);
    absl::StatusOr<std::unique_ptr<WatchStream>> stream =
        source_->Open(request);
    absl::Status ended = stream.status();
    if (stream.ok()) {
      {
        std::lock_guard lock(stop_mutex_);
        if (stopping_) return;
        stream_ = stream->get();
      }
      bool progressed = false;
      ended = Follow(**stream, &progressed);
      if (progressed) backoff = options_.min_backoff;
      std::lock_guard lock(stop_mutex_);
      stream_ = nullptr;
    }
    SetDisconnected(ended);
    std::uniform_int_distribution<int64_t> jitter(
        absl::ToInt64Microseconds(backoff) / 2,
        absl::ToInt64Microseconds(backoff));
    if (!Backoff(absl::Microseconds(jitter(random)))) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::Status WatchVerifier::Follow(WatchStream& stream, bool* progressed) {
  PendingSnapshot pending;
  absl::Duration timeout = options_.connect_timeout;
  while (true) {
    {
      std::lock_guard lock(stop_mutex_);
      if (stopping_) return absl::CancelledError("stopping");
    }
    absl::StatusOr<v1::WatchEvent> event = stream.Next(timeout);
    if (!event.ok()) return event.status();
    timeout = options_.read_timeout;
    DTRUST_RETURN_IF_ERROR(Apply(*event, pending));
    *progressed = true;
    NotifyChanged();
  }
}

absl::Status WatchVerifier::Apply(const v1::WatchEvent& event,
                                  PendingSnapshot& pending) {
  switch (event.event_case()) {
    case v1::WatchEvent::kSnapshot:
      return ApplyChunk(event.snapshot(), pending);
    case v1::WatchEvent::kChange:
      return ApplyChange(event.change());
    case v1::WatchEvent::kFreshness:
      ApplyFreshness(event.freshness());
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("dtrustd sent an empty Watch event");
  }
}

absl::Status WatchVerifier::ApplyChunk(const v1::WatchSnapshotChunk& chunk,
                                       PendingSnapshot& pending) {
  if (chunk.index() == 0) {
    pending = {.tables = std::make_unique<MirrorTables>(),
               .position = {chunk.epoch(), chunk.version()}};
  } else if (pending.tables == nullptr || chunk.index() != pending.next_index ||
             chunk.epoch() != pending.position.epoch ||
             chunk.version() != pending.position.version) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot chunk ", chunk.index(), " of epoch ", chunk.epoch(),
        " version ", chunk.version(), " does not continue the snapshot"));
  }
  ++pending.next_index;
  for (const v1::ServerEntry& entry : chunk.servers()) {
    pending.entries += 1 + entry.pins_size();
  }
  pending.entries += chunk.domain_policies_size();
  if (pending.entries > options_.max_entries) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the snapshot holds more than ", options_.max_entries, " entries"));
  }
  for (const v1::ServerEntry& entry : chunk.servers()) {
    DTRUST_ASSIGN_OR_RETURN(const ServerContent content, ContentOf(entry));
    PutServer(content, *pending.tables);
  }
  for (const v1::DomainPolicy& policy : chunk.domain_policies()) {
    DTRUST_RETURN_IF_ERROR(CheckNameLength(policy.domain(), "policy domain"));
    PutPolicy(PolicyOf(policy), *pending.tables);
  }
  if (!chunk.last()) return absl::OkStatus();
  {
    std::unique_lock lock(mutex_);
    tables_.swap(pending.tables);
    position_ = pending.position;
  }
  had_snapshot_.store(true, std::memory_order_release);
  pending = {};  // Frees the previous copy outside the lock.
  return absl::OkStatus();
}

absl::Status WatchVerifier::ApplyChange(const v1::WatchChange& change) {
  if (tables_ == nullptr || change.epoch() != position_.epoch) {
    return absl::AbortedError(absl::StrCat("a change of epoch ", change.epoch(),
                                           " while the copy is at epoch ",
                                           position_.epoch, ": resuming"));
  }
  if (change.version() <= position_.version) return absl::OkStatus();
  if (change.version() != position_.version + 1) {
    return absl::AbortedError(absl::StrCat("change ", change.version(),
                                           " after ", position_.version,
                                           ": a gap, resuming"));
  }
  std::optional<ServerContent> server;
  if (change.has_server()) {
    DTRUST_ASSIGN_OR_RETURN(server, ContentOf(change.server()));
  }
  if (change.has_domain_policy()) {
    DTRUST_RETURN_IF_ERROR(
        CheckNameLength(change.domain_policy().domain(), "policy domain"));
  }
  std::unique_lock lock(mutex_);
  if (server) {  // A removal always fits.
    DTRUST_RETURN_IF_ERROR(CheckRoomFor(1 + server->pins.size()));
  } else if (change.has_domain_policy()) {
    DTRUST_RETURN_IF_ERROR(CheckRoomFor(1));
  }
  switch (change.change_case()) {
    case v1::WatchChange::kServer:
      tables_->RemoveServerByName(server->name);
      PutServer(*server, *tables_);
      break;
    case v1::WatchChange::kServerRemoved:
      tables_->RemoveServerByName(change.server_removed());
      break;
    case v1::WatchChange::kDomainPolicy:
      PutPolicy(PolicyOf(change.domain_policy()), *tables_);
      break;
    case v1::WatchChange::kDomainPolicyRemoved:
      tables_->RemoveDomainPolicyByName(change.domain_policy_removed());
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("change ", change.version(), " changes nothing"));
  }
  position_.version = change.version();
  return absl::OkStatus();
}

absl::Status WatchVerifier::CheckRoomFor(uint64_t entries) const {
  const MirrorCounts counts = tables_->Counts();
  if (counts.servers + counts.pins + counts.domain_policies + entries <=
      options_.max_entries) {
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("a change would make the copy hold more than ",
                   options_.max_entries, " entries"));
}

void WatchVerifier::ApplyFreshness(const v1::WatchFreshness& freshness) {
  std::unique_lock lock(mutex_);
  have_freshness_ = true;
  serving_ = freshness.serving();
  not_serving_reason_ = freshness.reason();
  snapshot_age_ = DurationOf(freshness.snapshot_age());
  max_staleness_ = DurationOf(freshness.max_staleness());
  freshness_at_ = clock_->Now();
}

void WatchVerifier::SetDisconnected(const absl::Status& why) {
  std::unique_lock lock(mutex_);
  last_error_ = absl::CHexEscape(why.message());
}

void WatchVerifier::NotifyChanged() {
  // Under stop_mutex_, so that a WaitReady between its check and its wait
  // cannot miss the notification.
  std::lock_guard lock(stop_mutex_);
  ready_signal_.notify_all();
}

bool WatchVerifier::Backoff(absl::Duration delay) {
  std::unique_lock lock(stop_mutex_);
  return !stop_signal_.wait_for(lock, absl::ToChronoMicroseconds(delay),
                                [this] { return stopping_; });
}

}  // namespace dtrust::lib
