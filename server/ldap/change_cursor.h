// Where a poll's change search starts: the threshold of the change
// attribute (directory_mapping.h) below which entries are known to be
// loaded already.
//
// The threshold only ever comes from the directory's own values, so
// dtrustd's clock does not matter:
// - modifyTimestamp: the newest timestamp a poll's search returned, less
//   the search's duration rounded up to whole seconds, less one second. An
//   entry changed while the search ran, after the search had passed it,
//   got a timestamp at most that duration older than any the search
//   returned after it, so the next poll still sees it. Timestamps equal to
//   the threshold are read again (">="): a few entries are read twice,
//   none is missed. The threshold never moves back.
// - uSNChanged: the root DSE's highestCommittedUSN read before the search,
//   plus one (Microsoft's documented way to poll Active Directory). USNs
//   are per domain controller: after a reconnect (possibly to another one)
//   the poller loads everything and starts over (Reset).
//
// Thread-compatible.
#ifndef DTRUST_SERVER_LDAP_CHANGE_CURSOR_H_
#define DTRUST_SERVER_LDAP_CHANGE_CURSOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/ldap/directory_mapping.h"

namespace dtrust {

class ChangeCursor {
 public:
  explicit ChangeCursor(ChangeAttribute attribute) : attribute_(attribute) {}

  ChangeAttribute attribute() const { return attribute_; }
  // The root DSE attribute to read before each poll's search, or "" if none
  // is needed.
  absl::string_view RootDseAttribute() const;

  // Starts a poll. `root_dse_values`: the values of RootDseAttribute() (or
  // nothing, when it is ""). FailedPrecondition when the attribute is
  // needed and missing or not a number (e.g. uSNChanged with a directory
  // other than Active Directory).
  absl::Status BeginPoll(const std::vector<std::string>& root_dse_values);
  // A change attribute value the poll's (full or change) search returned.
  // Values that do not parse are ignored (the next threshold only gets
  // lower, never wrong).
  void See(absl::string_view value);
  // The poll completed; its search took `search_duration`. Sets the
  // threshold for the next one.
  void EndPoll(absl::Duration search_duration);
  // Forgets the threshold: the next poll loads everything.
  void Reset() {
    time_threshold_.reset();
    usn_threshold_.reset();
  }

  // "(modifyTimestamp>=20260102030405Z)" / "(uSNChanged>=1234)", or nullopt
  // while there is no threshold (a full load is due).
  std::optional<std::string> Filter() const;

 private:
  const ChangeAttribute attribute_;
  // The threshold, by attribute; unset: none.
  std::optional<absl::Time> time_threshold_;
  std::optional<uint64_t> usn_threshold_;
  // Of the current poll.
  std::optional<absl::Time> newest_seen_;
  std::optional<uint64_t> next_usn_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_CHANGE_CURSOR_H_
