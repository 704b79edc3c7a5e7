// A private slapd that dtrustd starts, supervises and stops itself, for
// deployments without an existing directory (`dtrustd --data-dir DIR`).
#ifndef DTRUST_SERVER_EMBEDDED_EMBEDDED_DIRECTORY_H_
#define DTRUST_SERVER_EMBEDDED_EMBEDDED_DIRECTORY_H_

#include <sys/types.h>

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/embedded/data_dir.h"
#include "server/embedded/options.h"

namespace dtrust {

// Owns one slapd child process serving `base_dn` from DIR:
//   DIR/lock          flock()ed while this object (or its slapd) lives
//   DIR/slapd.conf    rewritten on every start; DIR/dtrust.schema likewise
//   DIR/db/           back-mdb; DIR/db/base-dn records the base DN;
//                     DIR/db/sync-indexed that entryUUID and entryCSN are
//                     indexed (an older database is reindexed first, see
//                     DataDir::Open)
//   DIR/ldapi         the only listener (unix socket, no TCP), mode 0600 in
//                     DIR mode 0700: only this process's user reaches it
//   DIR/slapd.log     slapd's (and slapadd's) output; only errors and
//                     start/stop lines; moved to slapd.log.1 past 1 MiB
// DIR must be this process's user's own and writable by nobody else (see
// DataDir::Open); nothing in it is followed through a symbolic link.
// slapd authorizes SASL EXTERNAL peers with this process's effective uid as
// "cn=dtrustd,<base dn>", which may read and write below the base entry
// (RenderSlapdConfig); everyone else is denied everything. slapd gets
// SIGTERM if this process dies.
//
// A background thread restarts slapd with backoff (1 s, 2 s, ... 30 s) if it
// exits unexpectedly, logging its exit status and the tail of its log.
// Children are reaped by pid: do not set SIGCHLD to SIG_IGN or reap all
// children (waitpid(-1)) elsewhere in the process.
//
// Thread-safe.
class EmbeddedDirectory {
 public:
  // Lays out DIR, creates the database and the base entry (slapadd) on first
  // use, reindexes a database that predates content sync (slapindex), starts
  // slapd and returns once it answers as described above.
  // Errors: InvalidArgument for a bad base DN or a data dir whose socket
  // path is too long for a unix socket; FailedPrecondition if DIR is
  // refused (a symbolic link, another user's, writable by others; the
  // message says what to do), in use by another instance or was created for
  // another base DN; otherwise what went wrong, with the tail of
  // DIR/slapd.log.
  static absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> Start(
      const EmbeddedDirectoryOptions& options);

  EmbeddedDirectory(const EmbeddedDirectory&) = delete;
  EmbeddedDirectory& operator=(const EmbeddedDirectory&) = delete;
  ~EmbeddedDirectory();  // Stop()

  // Stops supervising, sends slapd SIGTERM and waits for it (SIGKILL after
  // 10 s), then releases DIR. Idempotent; blocks concurrent callers until
  // done.
  void Stop();

  // "ldapi://%2F...%2Fldapi"; bind with SASL EXTERNAL.
  const std::string& ldap_uri() const { return uri_; }
  // The base DN in normalized form.
  const std::string& base_dn() const { return base_dn_; }
  // The DN this process is authorized as: "cn=dtrustd,<base dn>".
  const std::string& service_dn() const { return service_dn_; }
  // The running slapd's pid, or -1 while none runs (restarting, stopped).
  pid_t slapd_pid() const;

 private:
  explicit EmbeddedDirectory(std::unique_ptr<DataDir> dir,
                             const EmbeddedDirectoryOptions& options);

  // The supervisor thread: starts slapd, reports the outcome through
  // `started`, then restarts slapd whenever it dies until Stop().
  void Supervise(std::promise<absl::Status> started);
  // Starts slapd and waits until it answers; on failure it is stopped again.
  absl::Status StartSlapd();
  // Blocks until the current slapd exits, reaps it and describes how it
  // ended.
  std::string AwaitExit();
  // SIGTERM, then SIGKILL after a bound; reaps.
  void Terminate(pid_t pid);

  const EmbeddedDirectoryOptions options_;
  std::unique_ptr<DataDir> dir_;  // Released by Stop(), after the thread.
  const std::string path_;
  const std::string uri_;
  const std::string base_dn_;
  const std::string service_dn_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // Signals pid_ and stopping_ changes.
  pid_t pid_ = -1;              // Guarded by mu_. Unreaped while > 0.
  bool stopping_ = false;       // Guarded by mu_.
  std::once_flag stop_once_;
  std::thread supervisor_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_EMBEDDED_DIRECTORY_H_
