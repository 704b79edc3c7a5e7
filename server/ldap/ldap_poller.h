// Keeps a Mirror equal to a directory by polling (dtrustd
// --directory-sync=poll): for directories without content synchronization -
// Active Directory, 389-DS, a slapd without syncprov - read by the dtrust
// schema or mapped onto an existing tree (directory_mapping.h,
// entry_mapper.h).
//
// A background thread polls every `interval`, counted from the start of one
// poll to the start of the next (a poll that overruns is followed at once).
// A poll:
// - connects when it has no connection (LdapConnection::Open: the URIs in
//   order); the connection is kept between polls;
// - reads: a full load (the first poll, the first on each new connection,
//   and every mapping.full_load_every-th) reads every mapped entry; the
//   others read the entries whose change attribute moved since the last
//   poll (change_cursor.h), then list the ids of every mapped entry (no
//   other attribute) to find deletions; a foreign mapping's domain list
//   object is read every time. All searches are paged (RFC 2696, 1000
//   entries a page: Active Directory's cap);
// - applies what it read to the index entry by entry as it arrives (the
//   index locks per entry: queries never wait for a poll), and, once the
//   poll has read everything, removes what the directory no longer has
//   (MirrorIndex BeginReload / MarkPresent / EndReload);
// - then reports Mirror::MarkCurrent(start of the poll, live = false).
//
// A failed poll reports Mirror::MarkDisconnected(why) and keeps the data
// (the Mirror ages it and stops serving after max_staleness); what it
// applied before failing stays applied (each entry as the directory had
// it). It is retried with jittered exponential backoff from 100 ms up to
// min(interval, 10 s); a connection that was lost or refused service is
// dropped first, so the retry reconnects, failing over in URI order.
// An entry without its id attribute fails the poll rather than be
// skipped: the index is never silently incomplete.
//
// Writes made through dtrustd (MirroredDirectory) reach the index at once,
// and a poll running meanwhile does not undo them with what it read before
// (each poll is a MirrorIndex source read): an entry written during a poll
// keeps the written state at least until the next poll, which applies what
// the directory has then.
//
// Owns its thread; the destructor stops and joins it, waiting at most for
// the LDAP operation under way (bounded by the LDAP timeout). Does not own
// `mirror` or `clock` (used for MarkCurrent's times), which must outlive
// it; `mirror` must have no other source.
#ifndef DTRUST_SERVER_LDAP_LDAP_POLLER_H_
#define DTRUST_SERVER_LDAP_LDAP_POLLER_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "server/ldap/change_cursor.h"
#include "server/ldap/directory_mapping.h"
#include "server/ldap/entry_mapper.h"
#include "server/ldap/ldap_connection.h"
#include "server/mirror/mirror.h"

namespace dtrust {

class LdapPoller {
 public:
  // Entries a page of every search.
  static constexpr int kPageSize = 1000;

  // Starts the thread and returns at once; the mirror reports when the
  // first load is complete. InvalidArgument for unusable options (no URI,
  // no base DN, a bind DN with SASL EXTERNAL, a non-positive interval or
  // timeout, a mapping EntryMapper::Create refuses).
  static absl::StatusOr<std::unique_ptr<LdapPoller>> Start(
      const LdapOptions& ldap, const DirectoryMapping& mapping,
      absl::Duration interval, Mirror* mirror, const Clock* clock);

  ~LdapPoller();
  LdapPoller(const LdapPoller&) = delete;
  LdapPoller& operator=(const LdapPoller&) = delete;

 private:
  LdapPoller(const LdapOptions& ldap, std::unique_ptr<EntryMapper> mapper,
             absl::Duration interval, Mirror* mirror, const Clock* clock);

  void Run();
  // One poll; connects first if needed.
  absl::Status Poll();
  // Opens `connection_` unless it is open, and reports it to the mirror.
  absl::Status ConnectIfNeeded();
  // Starts the cursor's poll with the root DSE value it needs, if any.
  absl::Status BeginCursor();
  // Reads the entries matching `filter` with `attributes` page by page,
  // calling `on_entry` with each one's uuid; stops when asked to.
  absl::Status ForEachEntry(
      const std::string& filter, const std::vector<std::string>& attributes,
      absl::FunctionRef<void(const LdapEntry&, const EntryUuid&)> on_entry);
  // Reads and applies the domain list object, confirming it in `present`.
  absl::Status ReadDomainLists(std::vector<EntryUuid>* present);

  const LdapOptions options_;
  const absl::Duration interval_;
  Mirror* const mirror_;
  const Clock* const clock_;
  absl::Notification stop_;

  // Only the thread touches these.
  std::unique_ptr<EntryMapper> mapper_;
  ChangeCursor cursor_;
  std::unique_ptr<LdapConnection> connection_;
  bool reported_connected_ = false;  // Since the last MarkDisconnected.
  int polls_since_full_ = 0;

  std::thread thread_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_LDAP_POLLER_H_
