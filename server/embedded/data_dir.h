// The embedded directory's data dir: layout, lock and first-time setup.
#ifndef DTRUST_SERVER_EMBEDDED_DATA_DIR_H_
#define DTRUST_SERVER_EMBEDDED_DATA_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/base/owned_fd.h"
#include "server/embedded/options.h"
#include "server/embedded/slapd_config.h"

namespace dtrust {

// A data dir ready for slapd, locked against other instances for this
// object's lifetime. Immutable after Open; thread-safe.
class DataDir {
 public:
  // Creates DIR (0700) if missing; refuses an existing DIR that is a
  // symbolic link, not a directory, not owned by the effective user, or
  // writable by its group or others, and sets an acceptable one that others
  // may read or search to 0700 (logged): slapd creates its socket DIR/ldapi
  // mode 0777, so DIR's mode is what keeps every other user from it. Then
  // takes DIR/lock (flock, non-blocking); checks the base DN recorded in
  // DIR/db/base-dn, or, on first use, creates DIR/db with the base entry by
  // slapadd; (re)writes DIR/dtrust.schema and DIR/slapd.conf; indexes an
  // existing database for content sync if needed (below); removes a stale
  // DIR/ldapi socket.
  //
  // Nothing in DIR is followed through a symbolic link: files dtrustd writes
  // whole are replaced atomically (WriteFileAtomically: a link planted at
  // the name is replaced, never written through); DIR/lock and DIR/slapd.log
  // are opened with O_NOFOLLOW and must be regular files of dtrustd's user;
  // DIR/db must be such a directory too; what dtrustd reads back
  // (DIR/db/base-dn, the log's tail) is opened the same way, and a
  // DIR/db/sync-indexed that is not a regular file does not count.
  //
  // Content sync index: DIR/db/sync-indexed records that every entry is
  // indexed on entryUUID and entryCSN (syncprov needs both). A database
  // created here gets it at once (slapadd indexes everything); one made by
  // a dtrustd before content sync lacks it, so Open runs
  // `slapindex -f DIR/slapd.conf entryUUID entryCSN` (slapd is not
  // running: DIR/lock is held, and slapindex inherits it) and then writes
  // the marker atomically. If slapindex fails, Open fails and the next Open
  // indexes again; slapd never runs on a partly indexed database.
  //
  // InvalidArgument: bad base DN, data dir or socket path too long.
  // FailedPrecondition: DIR or DIR/db is refused as above (the message names
  // it, its owner and mode and what to do), a file in DIR is a symbolic link
  // or another user's, DIR is locked, or DIR/db belongs to another base DN
  // or was not made by dtrustd. Internal: slapadd or slapindex failed (with
  // the tail of DIR/slapd.log). Other errors name the failing step.
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(
      const EmbeddedDirectoryOptions& options);

  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }
  const std::string& slapd_conf() const { return slapd_conf_; }
  const std::string& ldap_uri() const { return ldap_uri_; }
  const BaseEntry& base() const { return base_; }
  // The locked descriptor. A child that inherits it keeps DIR locked until
  // it exits too (so an orphaned slapd still blocks a second instance).
  int lock_fd() const { return lock_.get(); }

  // DIR/slapd.log opened for appending (moved to slapd.log.1 first once it
  // exceeds 1 MiB), after writing "<time> <header>" to it. FailedPrecondition
  // if it is a symbolic link or not a regular file of this user.
  absl::StatusOr<OwnedFd> OpenLog(absl::string_view header) const;
  // Sets the socket slapd made at DIR/ldapi to mode 0600 (slapd creates it
  // 0777), so that only dtrustd's user may connect even should DIR's mode
  // be loosened later; DIR's mode 0700 already keeps others away. Call once
  // slapd answers. FailedPrecondition if DIR/ldapi is not a socket of this
  // user.
  absl::Status RestrictSocket() const;
  // The last lines of DIR/slapd.log, for error messages.
  std::string LogTail() const;

 private:
  DataDir() = default;
  // Creates, checks and tightens DIR; see Open.
  absl::Status PrepareDirectory() const;
  absl::Status Lock();
  absl::Status CheckOrCreateDatabase(const EmbeddedDirectoryOptions& options);
  // Runs slapindex unless DIR/db/sync-indexed exists; see Open.
  absl::Status IndexForSyncIfNeeded(const EmbeddedDirectoryOptions& options);
  absl::Status WriteConfig(const EmbeddedDirectoryOptions& options,
                           const std::string& db_dir,
                           const std::string& conf_path) const;

  std::string path_;
  std::string slapd_conf_;
  std::string socket_;
  std::string ldap_uri_;
  std::string log_;
  BaseEntry base_;
  OwnedFd lock_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_DATA_DIR_H_
