#include "server/embedded/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/auth/authorizer.h"
#include "server/base/files.h"
#include "server/base/status_macros.h"
#include "server/base/time_format.h"
#include "server/core/log.h"
#include "server/embedded/child_process.h"
#include "server/embedded/schema.h"

namespace dtrust {
namespace {

namespace fs = std::filesystem;

constexpr off_t kMaxLogBytes = off_t{1} << 20;
constexpr int kLogTailLines = 15;
constexpr size_t kMaxRecordBytes = 64 * 1024;  // DIR/db/base-dn
// In DIR/db: every entry is indexed on these attributes (see DataDir::Open).
constexpr char kSyncIndexedMarker[] = "sync-indexed";
constexpr char kSyncIndexedAttributes[] = "entryUUID entryCSN";

absl::Status FsError(const std::error_code& error, absl::string_view what) {
  return absl::ErrnoToStatus(error.value(), what);
}

// Makes a completed rename in `dir` durable.
absl::Status SyncDirectory(const std::string& dir) {
  OwnedFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || fsync(fd.get()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("syncing ", dir));
  }
  return absl::OkStatus();
}

// "dtrust (uid 107)", or "uid 107" for a uid without a name.
std::string DescribeUser(uid_t uid) {
  const std::string name = UnixAccounts::System()->UserName(uid);
  return name.empty() ? absl::StrCat("uid ", uid)
                      : absl::StrCat(name, " (uid ", uid, ")");
}

// How chown(1) may name `uid`.
std::string ChownName(uid_t uid) {
  const std::string name = UnixAccounts::System()->UserName(uid);
  return name.empty() ? absl::StrCat(uid) : name;
}

// "0770".
std::string Mode(const struct stat& info) {
  return absl::StrFormat("%04o", info.st_mode & 07777);
}

// Why a data dir must be dtrustd's own, for the refusals below.
constexpr char kWhyPrivate[] =
    "dtrustd keeps its directory database and the socket of its slapd there, "
    "so it accepts only a directory of its own user that no other user can "
    "write";

// Opens `path` itself, not following a symbolic link, as a directory owned
// by the effective user that neither its group nor others may write; sets
// `*info`. Otherwise FailedPrecondition naming `what` ("data dir"), the path,
// its owner and mode and what to do.
absl::StatusOr<OwnedFd> OpenOwnDirectory(const std::string& path,
                                         absl::string_view what,
                                         struct stat* info) {
  OwnedFd fd(
      open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    if (lstat(path.c_str(), info) == 0 && S_ISLNK(info->st_mode)) {
      std::error_code ignored;
      return absl::FailedPreconditionError(absl::StrCat(
          what, " ", path, " is a symbolic link (to ",
          fs::read_symlink(path, ignored).string(),
          "); dtrustd does not follow links to or in its data dir: use the "
          "directory itself"));
    }
    if (error == ENOTDIR) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", path, " is not a directory"));
    }
    return absl::ErrnoToStatus(error,
                               absl::StrCat("opening ", what, " ", path));
  }
  if (fstat(fd.get(), info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("inspecting ", path));
  }
  const uid_t self = geteuid();
  if (info->st_uid != self) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, " is owned by ", DescribeUser(info->st_uid),
        ", not by ", DescribeUser(self), ", the user dtrustd runs as (mode ",
        Mode(*info), "); ", kWhyPrivate, ". Run `chown -R ", ChownName(self),
        " ", path, "` or give another --data-dir"));
  }
  const mode_t writable = info->st_mode & (S_IWGRP | S_IWOTH);
  if (writable != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, " is writable by ",
        writable == (S_IWGRP | S_IWOTH) ? "its group and others"
        : writable == S_IWGRP           ? "its group"
                                        : "others",
        " (mode ", Mode(*info), ", owner ", ChownName(info->st_uid), "); ",
        kWhyPrivate, ". Run `chmod 0700 ", path,
        "` or give another --data-dir"));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(
    const EmbeddedDirectoryOptions& options) {
  std::unique_ptr<DataDir> dir(new DataDir());
  DTRUST_ASSIGN_OR_RETURN(dir->base_, ParseBaseEntry(options.base_dn));
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("the data dir is empty");
  }
  std::error_code error;
  fs::path path = fs::absolute(options.data_dir, error).lexically_normal();
  if (error) {
    return FsError(error, absl::StrCat("data dir ", options.data_dir));
  }
  if (!path.has_filename()) path = path.parent_path();  // Trailing '/'.
  dir->path_ = path.string();
  dir->slapd_conf_ = dir->path_ + "/slapd.conf";
  dir->socket_ = dir->path_ + "/ldapi";
  dir->log_ = dir->path_ + "/slapd.log";
  DTRUST_ASSIGN_OR_RETURN(dir->ldap_uri_, LdapiUri(dir->socket_));

  DTRUST_RETURN_IF_ERROR(dir->PrepareDirectory());
  DTRUST_RETURN_IF_ERROR(dir->Lock());
  DTRUST_RETURN_IF_ERROR(
      WriteFileAtomically(dir->path_ + "/dtrust.schema", DtrustSchema(), 0644));
  DTRUST_RETURN_IF_ERROR(dir->CheckOrCreateDatabase(options));
  DTRUST_RETURN_IF_ERROR(
      dir->WriteConfig(options, dir->path_ + "/db", dir->slapd_conf_));
  DTRUST_RETURN_IF_ERROR(dir->IndexForSyncIfNeeded(options));
  // Nothing else may use the socket while we hold the lock: it is left over
  // from a slapd that was killed.
  if (unlink(dir->socket_.c_str()) == 0) {
    LogInfo("removed stale ldapi socket ", dir->socket_);
  } else if (errno != ENOENT) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("removing stale socket ", dir->socket_));
  }
  return dir;
}

absl::Status DataDir::PrepareDirectory() const {
  bool created = mkdir(path_.c_str(), 0700) == 0;
  int error = errno;
  if (!created && error == ENOENT) {
    std::error_code parents;
    fs::create_directories(fs::path(path_).parent_path(), parents);
    if (parents) {
      return FsError(parents, absl::StrCat("creating the directories above "
                                           "data dir ",
                                           path_));
    }
    created = mkdir(path_.c_str(), 0700) == 0;
    error = errno;
  }
  if (!created && error != EEXIST) {
    return absl::ErrnoToStatus(error,
                               absl::StrCat("creating data dir ", path_));
  }
  struct stat info;
  DTRUST_ASSIGN_OR_RETURN(OwnedFd fd,
                          OpenOwnDirectory(path_, "data dir", &info));
  if ((info.st_mode & 07777) == 0700) return absl::OkStatus();
  if (fchmod(fd.get(), 0700) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("chmod 0700 ", path_));
  }
  if (!created && (info.st_mode & 077) != 0) {
    LogWarning("data dir ", path_, " was mode ", Mode(info),
               "; set it to 0700, as slapd's socket in it must be reachable "
               "by dtrustd's user only");
  }
  return absl::OkStatus();
}

absl::Status DataDir::Lock() {
  const std::string lock_path = path_ + "/lock";
  DTRUST_ASSIGN_OR_RETURN(lock_,
                          OpenOwnFile(lock_path, O_RDWR | O_CREAT, 0600));
  if (flock(lock_.get(), LOCK_EX | LOCK_NB) == 0) return absl::OkStatus();
  if (errno == EWOULDBLOCK) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", path_, " is in use by another dtrustd (or by a slapd ",
        "it left behind): ", lock_path, " is locked"));
  }
  return absl::ErrnoToStatus(errno, absl::StrCat("locking ", lock_path));
}

absl::Status DataDir::CheckOrCreateDatabase(
    const EmbeddedDirectoryOptions& options) {
  const std::string db = path_ + "/db";
  const std::string record = db + "/base-dn";
  struct stat info;
  if (lstat(db.c_str(), &info) == 0) {
    // A link or someone else's directory here is refused, not used.
    DTRUST_ASSIGN_OR_RETURN(OwnedFd checked,
                            OpenOwnDirectory(db, "database directory", &info));
    absl::StatusOr<std::string> recorded =
        ReadSmallFile(record, kMaxRecordBytes, FileAccess::kOwnFileOnly);
    if (!recorded.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(db, " was not created by dtrustd or is damaged: ",
                       recorded.status().message()));
    }
    const absl::string_view recorded_dn =
        absl::StripTrailingAsciiWhitespace(*recorded);
    if (!SameDn(recorded_dn, base_.dn)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data dir ", path_, " holds the directory for base DN '", recorded_dn,
          "', not '", base_.dn, "'; use that base DN or another data dir"));
    }
    return absl::OkStatus();
  }
  if (errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("inspecting ", db));
  }

  // First use. The database is built in db.new and renamed into place once
  // complete, so a crash never leaves a half-made db/ behind.
  const std::string staging = path_ + "/db.new";
  std::error_code error;
  fs::remove_all(staging, error);  // A link there is removed, not followed.
  if (error) return FsError(error, absl::StrCat("removing ", staging));
  // mkdir(2) does not follow a link planted meanwhile (EEXIST).
  if (mkdir(staging.c_str(), 0700) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("creating ", staging));
  }
  const std::string conf = path_ + "/slapadd.conf";
  const std::string ldif = path_ + "/base.ldif";
  DTRUST_RETURN_IF_ERROR(WriteConfig(options, staging, conf));
  DTRUST_RETURN_IF_ERROR(WriteFileAtomically(ldif, BaseEntryLdif(base_), 0600));
  DTRUST_ASSIGN_OR_RETURN(
      OwnedFd log, OpenLog(absl::StrCat("slapadd of base entry ", base_.dn)));
  DTRUST_ASSIGN_OR_RETURN(
      pid_t pid,
      SpawnChild({{options.slapadd_path, "-f", conf, "-l", ldif}, log.get()}));
  DTRUST_ASSIGN_OR_RETURN(int status, WaitForChild(pid));
  unlink(conf.c_str());
  unlink(ldif.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(options.slapadd_path, " of base entry '", base_.dn,
                     "' into ", staging, " ", DescribeWaitStatus(status),
                     "; last lines of ", log_, ":\n", LogTail()));
  }
  DTRUST_RETURN_IF_ERROR(
      WriteFileAtomically(staging + "/base-dn", base_.dn + "\n", 0600));
  // slapadd indexed everything the configuration names.
  DTRUST_RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(staging, "/", kSyncIndexedMarker),
                          absl::StrCat(kSyncIndexedAttributes, "\n"), 0600));
  if (rename(staging.c_str(), db.c_str()) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("renaming ", staging, " to ", db));
  }
  DTRUST_RETURN_IF_ERROR(SyncDirectory(path_));
  LogInfo("created the directory database for '", base_.dn, "' in ", db);
  return absl::OkStatus();
}

absl::Status DataDir::IndexForSyncIfNeeded(
    const EmbeddedDirectoryOptions& options) {
  const std::string db = path_ + "/db";
  const std::string marker = absl::StrCat(db, "/", kSyncIndexedMarker);
  struct stat info;
  if (lstat(marker.c_str(), &info) == 0) {
    if (S_ISREG(info.st_mode)) return absl::OkStatus();
    LogWarning(marker,
               " is not a regular file: indexing again, then "
               "replacing it");
  } else if (errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("checking ", marker));
  }
  LogInfo("the directory database in ", db, " predates content sync (no ",
          marker, "): indexing ", kSyncIndexedAttributes, " with ",
          options.slapindex_path, " before starting slapd");
  const absl::Time start = absl::Now();
  DTRUST_ASSIGN_OR_RETURN(
      OwnedFd log, OpenLog(absl::StrCat("slapindex of ", kSyncIndexedAttributes,
                                        " for content sync")));
  // slapindex inherits the lock too: should this process die meanwhile, no
  // slapd starts on the database until slapindex is done with it.
  absl::StatusOr<pid_t> pid = SpawnChild(
      {{options.slapindex_path, "-f", slapd_conf_, "entryUUID", "entryCSN"},
       log.get(),
       lock_.get()});
  if (!pid.ok()) {
    return absl::Status(pid.status().code(),
                        absl::StrCat("indexing ", db, " for content sync: ",
                                     pid.status().message()));
  }
  DTRUST_ASSIGN_OR_RETURN(int status, WaitForChild(*pid));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        options.slapindex_path, " of ", kSyncIndexedAttributes, " in ", db, " ",
        DescribeWaitStatus(status),
        "; slapd was not started on the partly indexed database, the next "
        "start indexes it again. Last lines of ",
        log_, ":\n", LogTail()));
  }
  DTRUST_RETURN_IF_ERROR(WriteFileAtomically(
      marker, absl::StrCat(kSyncIndexedAttributes, "\n"), 0600));
  DTRUST_RETURN_IF_ERROR(SyncDirectory(db));
  LogInfo("indexed ", db, " for content sync in ",
          absl::FormatDuration(
              absl::Trunc(absl::Now() - start, absl::Milliseconds(1))),
          "; recorded in ", marker);
  return absl::OkStatus();
}

absl::Status DataDir::WriteConfig(const EmbeddedDirectoryOptions& options,
                                  const std::string& db_dir,
                                  const std::string& conf_path) const {
  SlapdConfigParams params;
  params.schema_dir = options.schema_dir;
  params.dtrust_schema_file = path_ + "/dtrust.schema";
  params.module_path = options.module_path;
  params.db_dir = db_dir;
  params.base = base_;
  params.service_uid = geteuid();
  DTRUST_ASSIGN_OR_RETURN(std::string text, RenderSlapdConfig(params));
  return WriteFileAtomically(conf_path, text, 0600);
}

absl::StatusOr<OwnedFd> DataDir::OpenLog(absl::string_view header) const {
  struct stat info;
  if (lstat(log_.c_str(), &info) == 0 && info.st_size > kMaxLogBytes) {
    rename(log_.c_str(), (log_ + ".1").c_str());  // Replaces a link there.
  }
  DTRUST_ASSIGN_OR_RETURN(
      OwnedFd fd, OpenOwnFile(log_, O_WRONLY | O_CREAT | O_APPEND, 0600));
  const std::string line = absl::StrCat(FormatRfc3339Seconds(absl::Now()),
                                        " dtrustd: ", header, "\n");
  if (write(fd.get(), line.data(), line.size()) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("writing ", log_));
  }
  return fd;
}

std::string DataDir::LogTail() const { return TailOfFile(log_, kLogTailLines); }

absl::Status DataDir::RestrictSocket() const {
  struct stat info;
  if (lstat(socket_.c_str(), &info) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("inspecting ", socket_));
  }
  if (!S_ISSOCK(info.st_mode) || info.st_uid != geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrCat(socket_, " is not a socket of uid ", geteuid(), " (mode ",
                     Mode(info), ", owner uid ", info.st_uid, ")"));
  }
  // Checked just before, in a directory only this user can write.
  if ((info.st_mode & 07777) != 0600 && chmod(socket_.c_str(), 0600) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("chmod 0600 ", socket_));
  }
  return absl::OkStatus();
}

}  // namespace dtrust
