#include "server/ldap/ldap_sync_source.h"

#include <ldap.h>

#include <random>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "server/ldap/ldap_handles.h"
#include "server/ldap/ldap_records.h"
#include "server/ldap/ldap_status.h"
#include "server/ldap/mirror_entries.h"
#include "server/ldap/sync_protocol.h"

namespace dtrust {
namespace {

// Longest wait in ldap_result, so that a stop request is seen promptly.
constexpr absl::Duration kMaxWait = absl::Milliseconds(250);

// The value of the control `oid` among `controls`, if present.
std::optional<absl::string_view> FindControl(LDAPControl** controls,
                                             const char* oid) {
  const LDAPControl* control = ldap_control_find(oid, controls, nullptr);
  if (control == nullptr) return std::nullopt;
  return absl::string_view(control->ldctl_value.bv_val,
                           control->ldctl_value.bv_len);
}

std::vector<std::string> SyncAttributes() {
  std::vector<std::string> attributes = {"objectClass"};
  for (const auto* list :
       {&ServerAttributes(), &PinAttributes(), &DomainAttributes()}) {
    attributes.insert(attributes.end(), list->begin(), list->end());
  }
  return attributes;
}

}  // namespace

// One connection's sync search, from the request to its end. Runs on the
// source's thread only.
class LdapSyncSource::Session {
 public:
  Session(LdapSyncSource* source, LdapConnection* connection,
          std::string servers_key, std::string domains_key)
      : source_(source),
        connection_(connection),
        ld_(connection->handle()),
        index_(source->mirror_->index()),
        servers_key_(std::move(servers_key)),
        domains_key_(std::move(domains_key)),
        full_content_(!source->cookie_.has_value()) {}

  // Runs until the session fails (the error), the directory demands a full
  // reload (Aborted) or the source stops (OK).
  absl::Status Run();
  // Whether the session got to its persist stage.
  bool reached_persist() const { return reached_persist_; }

 private:
  absl::Status SendSearch();
  absl::Status SendProbe();
  absl::Status Handle(LDAPMessage* message);
  absl::Status HandleEntry(LDAPMessage* message);
  absl::Status HandleIntermediate(LDAPMessage* message);
  absl::Status HandleResult(LDAPMessage* message);
  void ApplyEntry(const SyncStateControl& state, LDAPMessage* message);
  void RefreshDone();
  // Ends the reload begun in Run(): removes what the refresh did not
  // confirm.
  void SweepUnconfirmed();
  void SetCookie(const std::optional<std::string>& cookie) {
    if (cookie) source_->cookie_ = cookie;
  }
  absl::Status ConnectionError(absl::string_view operation);

  LdapSyncSource* const source_;
  LdapConnection* const connection_;
  LDAP* const ld_;
  MirrorIndex& index_;
  const std::string servers_key_;
  const std::string domains_key_;
  // Requested without a cookie (first load, or after e-syncRefreshRequired):
  // the refresh is the directory's whole content, so whatever the mirror
  // held before and the refresh did not bring is gone - however syncprov
  // ends the refresh (it ends an initial one with refreshDelete).
  const bool full_content_;
  int sync_id_ = -1;
  int probe_id_ = -1;
  absl::Time probe_deadline_;
  absl::Time last_heard_;
  bool refreshing_ = true;
  bool reached_persist_ = false;
  size_t refreshed_entries_ = 0;
};

absl::Status LdapSyncSource::Session::ConnectionError(
    absl::string_view operation) {
  int code = LDAP_SERVER_DOWN;
  ldap_get_option(ld_, LDAP_OPT_RESULT_CODE, &code);
  return LdapError(code, "", operation, source_->options_.ldap.base_dn);
}

absl::Status LdapSyncSource::Session::SendSearch() {
  DTRUST_ASSIGN_OR_RETURN(const std::string request,
                          EncodeSyncRequest(source_->cookie_));
  LDAPControl control{};
  control.ldctl_oid = const_cast<char*>(LDAP_CONTROL_SYNC);
  control.ldctl_value.bv_val = const_cast<char*>(request.data());
  control.ldctl_value.bv_len = request.size();
  control.ldctl_iscritical = 1;
  LDAPControl* controls[] = {&control, nullptr};
  static const std::vector<std::string>* const kAttributes =
      new std::vector<std::string>(SyncAttributes());
  std::vector<char*> attributes;
  for (const std::string& attribute : *kAttributes) {
    attributes.push_back(const_cast<char*>(attribute.c_str()));
  }
  attributes.push_back(nullptr);
  const std::string filter =
      absl::StrCat("(|", ClassFilter(kServerClass), ClassFilter(kPinClass),
                   ClassFilter(kDomainClass), ")");
  const int rc =
      ldap_search_ext(ld_, source_->options_.ldap.base_dn.c_str(),
                      LDAP_SCOPE_SUBTREE, filter.c_str(), attributes.data(), 0,
                      controls, nullptr, nullptr, LDAP_NO_LIMIT, &sync_id_);
  if (rc != LDAP_SUCCESS) {
    return LdapError(rc, "", "content synchronization search under",
                     source_->options_.ldap.base_dn);
  }
  return absl::OkStatus();
}

absl::Status LdapSyncSource::Session::SendProbe() {
  char no_attributes[] = LDAP_NO_ATTRS;
  char* attributes[] = {no_attributes, nullptr};
  const int rc = ldap_search_ext(ld_, source_->options_.ldap.base_dn.c_str(),
                                 LDAP_SCOPE_BASE, "(objectClass=*)", attributes,
                                 0, nullptr, nullptr, nullptr, 1, &probe_id_);
  if (rc != LDAP_SUCCESS) {
    return LdapError(rc, "", "liveness probe of",
                     source_->options_.ldap.base_dn);
  }
  probe_deadline_ = source_->clock_->Now() + source_->options_.ldap.timeout;
  return absl::OkStatus();
}

absl::Status LdapSyncSource::Session::Run() {
  // Everything not confirmed by a present phase goes at its end.
  index_.Write()->BeginReload();
  // syncprov sends the refresh from a snapshot and queues the changes
  // committed meanwhile until refreshDone: until then an entry it sends may
  // predate a write made through dtrustd, which it must not undo.
  index_.Write()->BeginSourceRead();
  DTRUST_RETURN_IF_ERROR(SendSearch());
  last_heard_ = source_->clock_->Now();
  while (!source_->stop_.HasBeenNotified()) {
    const absl::Time now = source_->clock_->Now();
    if (probe_id_ == -1 &&
        now - last_heard_ >= source_->options_.probe_interval) {
      DTRUST_RETURN_IF_ERROR(SendProbe());
    }
    if (probe_id_ != -1 && now > probe_deadline_) {
      return absl::UnavailableError(
          absl::StrCat(connection_->uri(), " did not answer for ",
                       absl::FormatDuration(source_->options_.ldap.timeout)));
    }
    struct timeval wait = absl::ToTimeval(kMaxWait);
    LDAPMessage* raw = nullptr;
    const int rc = ldap_result(ld_, LDAP_RES_ANY, LDAP_MSG_ONE, &wait, &raw);
    LdapMessagePtr message(raw);
    if (rc == -1) return ConnectionError("content synchronization under");
    if (rc == 0) continue;
    last_heard_ = source_->clock_->Now();
    if (ldap_msgid(message.get()) == probe_id_) {
      if (rc == LDAP_RES_SEARCH_RESULT) {
        probe_id_ = -1;
        if (!refreshing_) source_->mirror_->MarkCurrent(last_heard_, true);
      }
      continue;
    }
    DTRUST_RETURN_IF_ERROR(Handle(message.get()));
  }
  return absl::OkStatus();
}

absl::Status LdapSyncSource::Session::Handle(LDAPMessage* message) {
  switch (ldap_msgtype(message)) {
    case LDAP_RES_SEARCH_ENTRY:
      return HandleEntry(message);
    case LDAP_RES_INTERMEDIATE:
      return HandleIntermediate(message);
    case LDAP_RES_SEARCH_RESULT:
      return HandleResult(message);
    default:  // Continuation references: not followed.
      return absl::OkStatus();
  }
}

absl::Status LdapSyncSource::Session::HandleEntry(LDAPMessage* message) {
  LDAPControl** raw = nullptr;
  ldap_get_entry_controls(ld_, message, &raw);
  LdapControlsPtr controls(raw);
  const std::optional<absl::string_view> value =
      FindControl(controls.get(), LDAP_CONTROL_SYNC_STATE);
  if (!value) {
    return absl::InternalError(absl::StrCat(
        connection_->uri(), " sent an entry without the RFC 4533 sync state"));
  }
  DTRUST_ASSIGN_OR_RETURN(const SyncStateControl state,
                          DecodeSyncState(*value));
  ApplyEntry(state, message);
  SetCookie(state.cookie);
  if (refreshing_) {
    ++refreshed_entries_;
  } else {
    source_->mirror_->MarkCurrent(last_heard_, true);
  }
  return absl::OkStatus();
}

void LdapSyncSource::Session::ApplyEntry(const SyncStateControl& state,
                                         LDAPMessage* message) {
  switch (state.state) {
    case SyncStateControl::State::kDelete:
      index_.Write()->Remove(state.uuid);
      return;
    case SyncStateControl::State::kPresent:
      index_.Write()->MarkPresent(state.uuid);
      return;
    case SyncStateControl::State::kAdd:
    case SyncStateControl::State::kModify:
      break;
  }
  absl::StatusOr<LdapEntry> entry = ReadLdapEntry(ld_, message);
  if (!entry.ok()) {
    LogWarning("ignoring a synchronized entry from ", connection_->uri(), ": ",
               entry.status().message());
    index_.Write()->Remove(state.uuid);
    return;
  }
  ApplyDtrustEntry(*entry, state.uuid, servers_key_, domains_key_, index_);
}

absl::Status LdapSyncSource::Session::HandleIntermediate(LDAPMessage* message) {
  char* raw_oid = nullptr;
  struct berval* raw_data = nullptr;
  const int rc =
      ldap_parse_intermediate(ld_, message, &raw_oid, &raw_data, nullptr, 0);
  LdapStringPtr oid(raw_oid);
  BervalPtr data(raw_data);
  if (rc != LDAP_SUCCESS || oid == nullptr ||
      std::strcmp(oid.get(), LDAP_SYNC_INFO) != 0 || data == nullptr) {
    return absl::OkStatus();  // Not ours.
  }
  DTRUST_ASSIGN_OR_RETURN(
      const SyncInfo info,
      DecodeSyncInfo(absl::string_view(data->bv_val, data->bv_len)));
  switch (info.kind) {
    case SyncInfo::Kind::kNewCookie:
      break;
    case SyncInfo::Kind::kIdSet:
      for (const EntryUuid& uuid : info.uuids) {
        if (info.refresh_deletes) {
          index_.Write()->Remove(uuid);
        } else {
          index_.Write()->MarkPresent(uuid);
        }
      }
      break;
    case SyncInfo::Kind::kRefreshPresent:
      if (refreshing_) SweepUnconfirmed();
      if (info.refresh_done) RefreshDone();
      break;
    case SyncInfo::Kind::kRefreshDelete:
      // A delete phase names what is gone; nothing else is - unless the
      // refresh was the whole content.
      if (refreshing_) {
        if (full_content_) {
          SweepUnconfirmed();
        } else {
          index_.Write()->AbortReload();
        }
      }
      if (info.refresh_done) RefreshDone();
      break;
  }
  SetCookie(info.cookie);
  return absl::OkStatus();
}

void LdapSyncSource::Session::SweepUnconfirmed() {
  const size_t removed = index_.Write()->EndReload();
  if (removed > 0) {
    LogInfo("directory mirror: ", removed,
            full_content_ ? " entries no longer in the directory"
                          : " entries gone while disconnected");
  }
}

void LdapSyncSource::Session::RefreshDone() {
  if (!refreshing_) return;
  refreshing_ = false;
  reached_persist_ = true;
  index_.Write()->EndSourceRead();
  // The whole content again (e-syncRefreshRequired): watchers take a new
  // snapshot rather than the burst.
  if (full_content_) source_->mirror_->StartEpoch();
  LogInfo("directory mirror follows ", connection_->uri(), " (",
          refreshed_entries_, " entries refreshed)");
  source_->mirror_->MarkCurrent(source_->clock_->Now(), true);
  if (full_content_) ProcessMetrics().MarkFullReload(source_->clock_->Now());
}

absl::Status LdapSyncSource::Session::HandleResult(LDAPMessage* message) {
  int code = LDAP_OTHER;
  char* raw_diagnostic = nullptr;
  LDAPControl** raw_controls = nullptr;
  const int rc = ldap_parse_result(ld_, message, &code, nullptr,
                                   &raw_diagnostic, nullptr, &raw_controls, 0);
  LdapStringPtr diagnostic(raw_diagnostic);
  LdapControlsPtr controls(raw_controls);
  if (rc != LDAP_SUCCESS) return ConnectionError("content synchronization");
  if (code == LDAP_SYNC_REFRESH_REQUIRED) {
    source_->cookie_.reset();
    return absl::AbortedError(absl::StrCat(
        connection_->uri(), " requires a full reload (e-syncRefreshRequired)"));
  }
  if (code == LDAP_SUCCESS) {
    if (const std::optional<absl::string_view> value =
            FindControl(controls.get(), LDAP_CONTROL_SYNC_DONE)) {
      absl::StatusOr<SyncDone> done = DecodeSyncDone(*value);
      if (done.ok()) SetCookie(done->cookie);
    }
    return absl::UnavailableError(
        absl::StrCat(connection_->uri(), " ended the persistent sync search"));
  }
  return LdapError(code, diagnostic ? diagnostic.get() : "",
                   "content synchronization under",
                   source_->options_.ldap.base_dn);
}

// --- The source ---------------------------------------------------------

LdapSyncSource::LdapSyncSource(const LdapSyncOptions& options, Mirror* mirror,
                               const Clock* clock)
    : options_(options), mirror_(mirror), clock_(clock) {}

absl::StatusOr<std::unique_ptr<LdapSyncSource>> LdapSyncSource::Start(
    const LdapSyncOptions& options, Mirror* mirror, const Clock* clock) {
  if (options.ldap.uris.empty()) {
    return absl::InvalidArgumentError("no directory URI to synchronize from");
  }
  DTRUST_RETURN_IF_ERROR(
      DnKey(absl::StrCat("ou=servers,", options.ldap.base_dn)).status());
  std::unique_ptr<LdapSyncSource> source(
      new LdapSyncSource(options, mirror, clock));
  source->thread_ = std::thread([raw = source.get()] { raw->Run(); });
  return source;
}

LdapSyncSource::~LdapSyncSource() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void LdapSyncSource::Run() {
  const std::string servers_key =
      *DnKey(absl::StrCat("ou=servers,", options_.ldap.base_dn));
  const std::string domains_key =
      *DnKey(absl::StrCat("ou=domains,", options_.ldap.base_dn));
  std::mt19937_64 random(std::random_device{}());
  absl::Duration backoff = options_.min_backoff;
  std::string last_logged;
  while (!stop_.HasBeenNotified()) {
    absl::Status ended;
    bool reached_persist = false;
    const bool resumed = cookie_.has_value();
    absl::StatusOr<std::unique_ptr<LdapConnection>> connection =
        LdapConnection::Open(options_.ldap);
    if (!connection.ok()) {
      ended = connection.status();
    } else {
      mirror_->MarkConnected((*connection)->uri());
      ProcessMetrics().CountMirrorConnect();
      Session session(this, connection->get(), servers_key, domains_key);
      ended = session.Run();
      if (!stop_.HasBeenNotified()) {
        ProcessMetrics().CountLdapOperation("sync", ended);
      }
      reached_persist = session.reached_persist();
      if (reached_persist) last_logged.clear();
      // A reload cut short must not sweep later: the next one starts over.
      mirror_->index().Write()->AbortReload();
      mirror_->index().Write()->EndSourceRead();
    }
    if (stop_.HasBeenNotified()) break;
    if (absl::IsAborted(ended)) {  // e-syncRefreshRequired.
      // No longer following: the data ages until the reload completes.
      mirror_->MarkDisconnected(ended.message());
      // Reload at once - once: a directory that answers a request without
      // a cookie the same way gets the backoff below.
      if (resumed) {
        LogInfo("directory mirror: ", ended.message());
        continue;
      }
    }
    // Logged when it changes; `dtrust status` shows the latest.
    if (ended.message() != last_logged) {
      last_logged = std::string(ended.message());
      LogWarning("directory mirror: ", ended.message(),
                 mirror_->SnapshotAge() ? "; answering from the last snapshot"
                                        : "; not serving until it answers",
                 ", retrying");
    }
    mirror_->MarkDisconnected(ended.message());
    if (reached_persist) backoff = options_.min_backoff;
    // Full jitter: anywhere between half and all of the backoff.
    const double factor =
        0.5 + 0.5 * std::uniform_real_distribution<double>(0.0, 1.0)(random);
    stop_.WaitForNotificationWithTimeout(backoff * factor);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace dtrust
