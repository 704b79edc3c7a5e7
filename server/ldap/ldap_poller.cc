#include "server/ldap/ldap_poller.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/log.h"
#include "server/core/metrics.h"

namespace dtrust {
namespace {

constexpr absl::Duration kMinBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<LdapPoller>> LdapPoller::Start(
    const LdapOptions& ldap, const DirectoryMapping& mapping,
    absl::Duration interval, Mirror* mirror, const Clock* clock) {
  if (ldap.uris.empty()) {
    return absl::InvalidArgumentError("no LDAP URI configured");
  }
  if (ldap.sasl_external && !ldap.bind_dn.empty()) {
    return absl::InvalidArgumentError(
        "give either a bind DN or SASL EXTERNAL, not both");
  }
  if (interval <= absl::ZeroDuration() ||
      ldap.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "the poll interval and the LDAP timeout must be positive");
  }
  DTRUST_ASSIGN_OR_RETURN(std::unique_ptr<EntryMapper> mapper,
                          EntryMapper::Create(mapping, ldap.base_dn));
  auto poller = absl::WrapUnique(
      new LdapPoller(ldap, std::move(mapper), interval, mirror, clock));
  poller->thread_ = std::thread([p = poller.get()] { p->Run(); });
  return poller;
}

LdapPoller::LdapPoller(const LdapOptions& ldap,
                       std::unique_ptr<EntryMapper> mapper,
                       absl::Duration interval, Mirror* mirror,
                       const Clock* clock)
    : options_(ldap),
      interval_(interval),
      mirror_(mirror),
      clock_(clock),
      mapper_(std::move(mapper)),
      cursor_(mapper_->mapping().change_attribute) {}

LdapPoller::~LdapPoller() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void LdapPoller::Run() {
  std::mt19937_64 random(std::random_device{}());
  const absl::Duration max_backoff = std::min(interval_, kMaxBackoff);
  absl::Duration backoff = std::min(kMinBackoff, max_backoff);
  std::string last_error;  // Of the failures since the last success.
  while (!stop_.HasBeenNotified()) {
    const absl::Time started = absl::Now();
    const absl::Status status = Poll();
    if (stop_.HasBeenNotified()) break;
    absl::Duration wait;
    if (status.ok()) {
      backoff = std::min(kMinBackoff, max_backoff);
      wait = interval_ - (absl::Now() - started);
      if (!last_error.empty()) {
        LogInfo("directory poll succeeded again");
        last_error.clear();
      }
    } else {
      if (status.message() != last_error) {  // Once per outage and cause.
        LogWarning("directory poll failed (retrying): ", status.message());
        last_error = std::string(status.message());
      }
      mirror_->MarkDisconnected(status.message());
      reported_connected_ = false;
      if (connection_ != nullptr &&
          (connection_->lost() || absl::IsUnavailable(status))) {
        connection_.reset();
      }
      // Full jitter: anywhere between half and all of the backoff.
      wait = backoff * (0.5 + 0.5 * std::uniform_real_distribution<double>(
                                        0.0, 1.0)(random));
      backoff = std::min(backoff * 2, max_backoff);
    }
    stop_.WaitForNotificationWithTimeout(std::max(wait, absl::ZeroDuration()));
  }
}

absl::Status LdapPoller::ForEachEntry(
    const std::string& filter, const std::vector<std::string>& attributes,
    absl::FunctionRef<void(const LdapEntry&, const EntryUuid&)> on_entry) {
  return connection_->SearchPaged(
      mapper_->base_dn(), LdapScope::kSubtree, filter, attributes, kPageSize,
      [&](const LdapEntry& entry) -> absl::Status {
        if (stop_.HasBeenNotified()) {
          return absl::CancelledError("the poller is stopping");
        }
        DTRUST_ASSIGN_OR_RETURN(const EntryUuid uuid, mapper_->UuidOf(entry));
        on_entry(entry, uuid);
        return absl::OkStatus();
      });
}

absl::Status LdapPoller::ReadDomainLists(std::vector<EntryUuid>* present) {
  const std::string& dn = mapper_->domain_list_dn();
  absl::StatusOr<std::vector<LdapEntry>> entries = connection_->Search(
      dn, LdapScope::kBase, "(objectClass=*)", mapper_->DomainListAttributes());
  if (absl::IsNotFound(entries.status()) ||
      (entries.ok() && entries->empty())) {
    // No lists would let mail through unsecured: fail, and go stale.
    return absl::FailedPreconditionError(
        absl::StrCat("the Domain Security list entry \"", dn,
                     "\" does not exist or is not readable"));
  }
  DTRUST_RETURN_IF_ERROR(entries.status());
  mapper_->ApplyDomainLists(entries->front(), mirror_->index());
  mapper_->ConfirmDomainLists(present);
  return absl::OkStatus();
}

absl::Status LdapPoller::ConnectIfNeeded() {
  if (connection_ != nullptr) return absl::OkStatus();
  DTRUST_ASSIGN_OR_RETURN(connection_, LdapConnection::Open(options_));
  ProcessMetrics().CountMirrorConnect();
  LogInfo("directory poll: connected to ", connection_->uri(), " as ",
          connection_->identity(), ", base ", options_.base_dn);
  mirror_->MarkConnected(connection_->uri());
  reported_connected_ = true;
  cursor_.Reset();  // Another server may number its changes differently.
  return absl::OkStatus();
}

absl::Status LdapPoller::BeginCursor() {
  std::vector<std::string> root_dse_values;
  if (const absl::string_view attribute = cursor_.RootDseAttribute();
      !attribute.empty()) {
    DTRUST_ASSIGN_OR_RETURN(
        const std::vector<LdapEntry> root,
        connection_->Search("", LdapScope::kBase, "(objectClass=*)",
                            {std::string(attribute)}));
    if (!root.empty()) root_dse_values = root.front().Values(attribute);
  }
  return cursor_.BeginPoll(root_dse_values);
}

absl::Status LdapPoller::Poll() {
  const absl::Time poll_start = clock_->Now();
  DTRUST_RETURN_IF_ERROR(ConnectIfNeeded());
  DTRUST_RETURN_IF_ERROR(BeginCursor());

  const std::optional<std::string> changed_filter = cursor_.Filter();
  const bool full = !changed_filter ||
                    polls_since_full_ + 1 >= mapper_->mapping().full_load_every;
  const std::string change_attribute(
      ChangeAttributeName(mapper_->mapping().change_attribute));
  MirrorIndex& index = mirror_->index();
  // A page read before a write made through dtrustd may be applied after
  // it: until the poll ends, the index keeps such writes as written.
  index.Write()->BeginSourceRead();
  const absl::Cleanup end_read = [&index] { index.Write()->EndSourceRead(); };
  std::vector<EntryUuid> present;
  mapper_->BeginConfirm();
  size_t read = 0;
  const absl::Time search_start = absl::Now();
  DTRUST_RETURN_IF_ERROR(ForEachEntry(
      full ? mapper_->filter()
           : absl::StrCat("(&", *changed_filter, mapper_->filter(), ")"),
      mapper_->attributes(),
      [&](const LdapEntry& entry, const EntryUuid& uuid) {
        for (const std::string& value : entry.Values(change_attribute)) {
          cursor_.See(value);
        }
        mapper_->Apply(entry, uuid, index);
        if (full) mapper_->Confirm(uuid, &present);
        ++read;
      }));
  const absl::Duration search_duration = absl::Now() - search_start;
  if (!full) {
    DTRUST_RETURN_IF_ERROR(
        ForEachEntry(mapper_->filter(), {mapper_->mapping().id_attribute},
                     [&](const LdapEntry&, const EntryUuid& uuid) {
                       mapper_->Confirm(uuid, &present);
                     }));
  }
  if (!mapper_->domain_list_dn().empty()) {
    DTRUST_RETURN_IF_ERROR(ReadDomainLists(&present));
  }

  index.Write()->BeginReload();
  for (const EntryUuid& uuid : present) index.Write()->MarkPresent(uuid);
  const size_t removed = index.Write()->EndReload();
  mapper_->EndConfirm();
  cursor_.EndPoll(search_duration);
  polls_since_full_ = full ? 0 : polls_since_full_ + 1;

  if (!reported_connected_) {
    mirror_->MarkConnected(connection_->uri());
    reported_connected_ = true;
  }
  mirror_->MarkCurrent(poll_start, /*live=*/false);
  if (full) ProcessMetrics().MarkFullReload(poll_start);
  if (full || read > 0 || removed > 0) {
    Log(full ? LogLevel::kInfo : LogLevel::kDebug,
        absl::StrCat("directory poll (", full ? "full load" : "changes",
                     ") of ", connection_->uri(), ": ", read, " entries read, ",
                     removed, " index entries removed"));
  }
  return absl::OkStatus();
}

}  // namespace dtrust
