// The embedded directory's data dir: layout, lock and first-time setup.
#ifndef DTRUST_SERVER_EMBEDDED_DATA_DIR_H_
#define DTRUST_SERVER_EMBEDDED_DATA_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/embedded/files.h"
#include "server/embedded/options.h"
#include "server/embedded/slapd_config.h"

namespace dtrust {

// A data dir ready for slapd, locked against other instances for this
// object's lifetime. Immutable after Open; thread-safe.
class DataDir {
 public:
  // Creates DIR (0700) if missing; takes DIR/lock (flock, non-blocking);
  // checks the base DN recorded in DIR/db/base-dn, or, on first use, creates
  // DIR/db with the base entry by slapadd; (re)writes DIR/dtrust.schema and
  // DIR/slapd.conf; removes a stale DIR/ldapi socket.
  // InvalidArgument: bad base DN, data dir or socket path too long.
  // FailedPrecondition: DIR is locked, or DIR/db belongs to another base DN
  // or was not made by dtrustd. Other errors name the failing step.
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
  // exceeds 1 MiB), after writing "<time> <header>" to it.
  absl::StatusOr<UniqueFd> OpenLog(absl::string_view header) const;
  // The last lines of DIR/slapd.log, for error messages.
  std::string LogTail() const;

 private:
  DataDir() = default;
  absl::Status Lock();
  absl::Status CheckOrCreateDatabase(const EmbeddedDirectoryOptions& options);
  absl::Status WriteConfig(const EmbeddedDirectoryOptions& options,
                           const std::string& db_dir,
                           const std::string& conf_path) const;

  std::string path_;
  std::string slapd_conf_;
  std::string socket_;
  std::string ldap_uri_;
  std::string log_;
  BaseEntry base_;
  UniqueFd lock_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_EMBEDDED_DATA_DIR_H_
