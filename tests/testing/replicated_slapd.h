// Two real slapds replicating one directory to each other, for tests of
// several dtrustd replicas sharing a directory and of provider failover.
#ifndef DTRUST_TESTS_TESTING_REPLICATED_SLAPD_H_
#define DTRUST_TESTS_TESTING_REPLICATED_SLAPD_H_

#include <sys/types.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/slapd_process.h"

namespace dtrust::testing {

// Two slapd providers of the same suffix in OpenLDAP 2.5 multi-provider
// replication: serverID 1 and 2, each a refreshAndPersist syncrepl consumer
// of the other (retrying every second, `multiprovider on`), each an RFC 4533
// provider (syncprov; checkpoint 100 5, sessionlog 10000; entryUUID and
// entryCSN indexed), with core + cosine + dtrust schema and the dtrust
// indexes, back-mdb without fsync (dbnosync: data survives killed slapds,
// not OS crashes).
//
// Both hold the suffix entry, the service account bind_dn() (password
// bind_password(); read/write under the suffix, no size or time limits),
// and the replication account "cn=replicator,<suffix>" the consumers bind
// as (reads everything, passwords included). SASL EXTERNAL over a
// provider's ldapi_uri() as this process's uid/gid may write too.
// The rootdn "cn=root,<suffix>" has no password; only syncrepl uses it.
// ou=servers and ou=domains are NOT created.
//
// Layout: one temporary directory /tmp/dtrust-replicated-XXXXXX holding
// bind.pw and p0/, p1/ (slapd.conf, data/, ldapi, slapd.log, slapd.pid).
// Each provider listens on ldap://127.0.0.1:<free port>/ (fixed across
// Restart) and its ldapi socket. The slapds are children of the thread
// that called Start (SIGKILL if it exits: start from the test's main
// thread). The destructor stops both and removes the directory.
//
// Thread-compatible: Stop/Restart must not run concurrently with anything
// else on the same pair; const methods may run concurrently.
class ReplicatedSlapdPair {
 public:
  struct Options {
    // Its first RDN must be dc=, o= or ou=.
    std::string suffix = "dc=example,dc=org";
  };

  // One of the two providers.
  class Provider {
   public:
    Provider(const Provider&) = delete;
    Provider& operator=(const Provider&) = delete;

    // "ldap://127.0.0.1:PORT/"; the same after Restart().
    const std::string& uri() const { return uri_; }
    // "ldapi://%2Ftmp%2F...": for SASL EXTERNAL.
    const std::string& ldapi_uri() const { return ldapi_uri_; }
    // slapd's pid while it runs, -1 when stopped.
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    // Everything this slapd logged (errors only; no per-operation lines).
    std::string Log() const;

    // ldapsearch / ldapmodify on this provider as the service account; see
    // SlapdFixture::LdapSearch and LdapModify.
    absl::StatusOr<std::string> LdapSearch(
        const std::string& base, const std::string& filter,
        const std::vector<std::string>& attrs = {}) const;
    absl::Status LdapModify(const std::string& ldif) const;

   private:
    friend class ReplicatedSlapdPair;

    Provider(const std::string& dir, int port, const std::string& bind_dn,
             const std::string& password_file);

    const std::string dir_;
    const std::string uri_;
    const std::string ldapi_uri_;
    const LdapTools tools_;
    std::unique_ptr<SlapdProcess> process_;  // Set once configured.
  };

  // Sets up and starts both providers; returns once both answer, the suffix
  // entry and bind_dn() exist on both, and a change made on each provider
  // has reached the other (so replication runs both ways; ~1 s). On failure
  // the error carries the slapds' logs.
  static absl::StatusOr<std::unique_ptr<ReplicatedSlapdPair>> Start();
  static absl::StatusOr<std::unique_ptr<ReplicatedSlapdPair>> Start(
      const Options& options);

  ReplicatedSlapdPair(const ReplicatedSlapdPair&) = delete;
  ReplicatedSlapdPair& operator=(const ReplicatedSlapdPair&) = delete;
  ~ReplicatedSlapdPair();

  // Provider 0 or 1 (anything else aborts).
  const Provider& provider(int i) const;

  const std::string& suffix() const { return suffix_; }
  // "cn=dtrustd,<suffix>", on both providers.
  const std::string& bind_dn() const { return bind_dn_; }
  const std::string& bind_password() const { return bind_password_; }
  // A file holding bind_password() (no trailing newline).
  const std::string& bind_password_file() const { return password_file_; }

  // Stops provider i quickly, keeping its data: SIGTERM, SIGKILL after
  // 250 ms (a slapd with a live consumer can take seconds to exit; mdb
  // survives the kill). The other provider keeps accepting writes.
  // Idempotent.
  absl::Status Stop(int i);
  // Starts the stopped provider i again (same port, same data) and returns
  // once it answers. It catches up in the background: its consumer refreshes
  // from the other provider at once, and the other's consumer reconnects
  // within about a second. FailedPrecondition if it runs.
  absl::Status Restart(int i);

 private:
  explicit ReplicatedSlapdPair(std::string dir) : dir_(std::move(dir)) {}

  // Writes both configurations and the initial data; creates the providers.
  absl::Status Configure(const Options& options);
  // Launches both providers and waits until replication runs both ways.
  absl::Status Launch();
  // Polls provider `i` until an entry named `dn` exists (or, with
  // `present` false, no longer does), for at most 10 s.
  absl::Status AwaitEntry(int i, const std::string& dn, bool present) const;
  // Both slapds' logs, for error messages.
  std::string Logs() const;

  const std::string dir_;  // Owned temporary directory.
  std::string suffix_;
  std::string bind_dn_;
  std::string bind_password_;
  std::string password_file_;
  std::array<std::unique_ptr<Provider>, 2> providers_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_REPLICATED_SLAPD_H_
