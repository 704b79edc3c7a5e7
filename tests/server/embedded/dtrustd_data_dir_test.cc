// dtrustd --data-dir, least privilege on the host (issue 11 §7): the real
// dtrustd binary refuses a data dir another user controls, never writes
// through a symbolic link planted in it, and keeps its slapd's ldapi socket
// to its own user. Cases that act as another user need root (as CI runs).
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/run_command.h"
#include "tests/testing/scratch_dir.h"

namespace dtrust::testing {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uid_t kNobody = 65534;
constexpr char kVictimText[] = "must stay as it is\n";

// The error a dtrustd start that failed reports, or "" if it started (it
// is stopped again).
std::string StartFailure(const std::string& data_dir) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start({"--data-dir", data_dir});
  if (dtrustd.ok()) {
    EXPECT_TRUE((*dtrustd)->Stop().ok());
    return "";
  }
  return std::string(dtrustd.status().message());
}

// errno of connect(2) to the unix socket `path` by a child process running
// as `uid` (group too, no supplementary groups); 0 if it connected.
int ConnectErrnoAs(uid_t uid, const std::string& path) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      _exit(255);
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
        0) {
      _exit(errno);
    }
    _exit(0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(lstat(path.c_str(), &info), 0) << path;
  return info.st_mode;
}

class DtrustdDataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.dir().empty());
    ASSERT_EQ(mkdir(data_dir_.c_str(), 0700), 0);
  }

  // A file outside the data dir that a link in it points to.
  std::string Victim(const std::string& name) {
    return scratch_.Write("victim-" + name, kVictimText);
  }

  // Plants DIR/`name` -> a victim file; returns the victim's path.
  std::string PlantLink(const std::string& name) {
    const std::string victim = Victim(absl::StrCat(victims_++));
    EXPECT_EQ(symlink(victim.c_str(), (data_dir_ + "/" + name).c_str()), 0)
        << name << ": " << std::strerror(errno);
    return victim;
  }

  static void SkipUnlessRoot() {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  }

  ScratchDir scratch_;
  const std::string data_dir_ = scratch_.Path("data");
  int victims_ = 0;
};

TEST_F(DtrustdDataDirTest, RefusesADataDirOfAnotherUser) {
  SkipUnlessRoot();
  ASSERT_EQ(chown(data_dir_.c_str(), kNobody, kNobody), 0);
  const std::string error = StartFailure(data_dir_);
  EXPECT_THAT(error, HasSubstr("dtrustd exited (exit status 1)"));
  EXPECT_THAT(error, HasSubstr(absl::StrCat(
                         "data dir ", data_dir_,
                         " is owned by nobody (uid 65534), not by root (uid "
                         "0), the user dtrustd runs as (mode 0700); ")));
  EXPECT_THAT(error, HasSubstr(absl::StrCat("Run `chown -R root ", data_dir_,
                                            "` or give another --data-dir")));
  EXPECT_TRUE(std::filesystem::is_empty(data_dir_));  // Not touched.
}

TEST_F(DtrustdDataDirTest, RefusesADataDirItsGroupOrOthersCanWrite) {
  for (const auto& [mode, who] : std::vector<std::pair<mode_t, std::string>>{
           {0770, "its group"},
           {0707, "others"},
           {0777, "its group and others"}}) {
    ASSERT_EQ(chmod(data_dir_.c_str(), mode), 0);
    const std::string error = StartFailure(data_dir_);
    EXPECT_THAT(error, HasSubstr("dtrustd exited (exit status 1)"));
    EXPECT_THAT(error, HasSubstr(absl::StrFormat(
                           "data dir %s is writable by %s (mode %04o, owner ",
                           data_dir_, who, mode)));
    EXPECT_THAT(error, HasSubstr(absl::StrCat("chmod 0700 ", data_dir_)));
    EXPECT_TRUE(std::filesystem::is_empty(data_dir_));
    EXPECT_EQ(ModeOf(data_dir_) & 07777, mode);  // Left for the admin.
  }
}

TEST_F(DtrustdDataDirTest, RefusesASymbolicLinkAsTheDataDir) {
  const std::string link = scratch_.Path("link");
  ASSERT_EQ(symlink(data_dir_.c_str(), link.c_str()), 0);
  const std::string error = StartFailure(link);
  EXPECT_THAT(error, HasSubstr("dtrustd exited (exit status 1)"));
  EXPECT_THAT(error, HasSubstr(absl::StrCat("data dir ", link,
                                            " is a symbolic link (to ",
                                            data_dir_, ")")));
  EXPECT_TRUE(std::filesystem::is_empty(data_dir_));
}

TEST_F(DtrustdDataDirTest, CreatesAMissingDataDirAndTightensAReadableOne) {
  const std::string fresh = scratch_.Path("new/data");
  EXPECT_EQ(StartFailure(fresh), "");
  EXPECT_EQ(ModeOf(fresh) & 07777, 0700);

  ASSERT_EQ(chmod(data_dir_.c_str(), 0755), 0);
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start({"--data-dir", data_dir_});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  EXPECT_EQ(ModeOf(data_dir_) & 07777, 0700);
  EXPECT_THAT((*dtrustd)->Log(),
              HasSubstr(absl::StrCat("data dir ", data_dir_,
                                     " was mode 0755; set it to 0700")));
}

// Every file dtrustd writes whole in DIR, on first start and on restart:
// a link planted at its name (or at its temporary name) is replaced, and
// the file it points to is left alone.
TEST_F(DtrustdDataDirTest, ReplacesLinksPlantedWhereItWritesFiles) {
  std::vector<std::string> victims;
  for (const char* name :
       {"slapd.conf", "dtrust.schema", "base.ldif", "slapadd.conf",
        "slapd.conf.tmp", "base.ldif.tmp", "db.new"}) {
    victims.push_back(PlantLink(name));
  }
  ASSERT_EQ(StartFailure(data_dir_), "");
  for (const std::string& victim : victims) {
    EXPECT_EQ(ScratchDir::Read(victim), kVictimText) << victim;
  }
  EXPECT_TRUE(S_ISREG(ModeOf(data_dir_ + "/slapd.conf")));
  EXPECT_TRUE(S_ISREG(ModeOf(data_dir_ + "/dtrust.schema")));
  EXPECT_TRUE(S_ISDIR(ModeOf(data_dir_ + "/db")));

  // Restart: the files rewritten on every start, and the content sync
  // marker (a link there does not count: the database is indexed again).
  for (const char* name : {"slapd.conf", "dtrust.schema", "db/sync-indexed",
                           "dtrust.schema.tmp", "db/sync-indexed.tmp"}) {
    ASSERT_TRUE(unlink((data_dir_ + "/" + name).c_str()) == 0 ||
                errno == ENOENT);
    victims.push_back(PlantLink(name));
  }
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start({"--data-dir", data_dir_});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  EXPECT_THAT((*dtrustd)->Log(), HasSubstr("sync-indexed is not a regular "
                                           "file: indexing again"));
  for (const std::string& victim : victims) {
    EXPECT_EQ(ScratchDir::Read(victim), kVictimText) << victim;
  }
  EXPECT_EQ(ScratchDir::Read(data_dir_ + "/db/sync-indexed"),
            "entryUUID entryCSN\n");
  EXPECT_TRUE(S_ISREG(ModeOf(data_dir_ + "/db/sync-indexed")));
}

// Files dtrustd opens in place (the lock, slapd's log) and the database
// directory: a link there stops the start, with a message naming it.
TEST_F(DtrustdDataDirTest, RefusesLinksWhereItOpensFilesInPlace) {
  for (const char* name : {"lock", "slapd.log", "db"}) {
    SCOPED_TRACE(name);
    std::filesystem::remove_all(data_dir_);
    ASSERT_EQ(mkdir(data_dir_.c_str(), 0700), 0);
    const std::string victim = PlantLink(name);
    if (std::string(name) == "db") {
      ASSERT_EQ(unlink(victim.c_str()), 0);
      ASSERT_EQ(mkdir(victim.c_str(), 0700), 0);
    }
    const std::string error = StartFailure(data_dir_);
    EXPECT_THAT(error, HasSubstr("dtrustd exited (exit status 1)"));
    EXPECT_THAT(
        error,
        AnyOf(
            HasSubstr(absl::StrCat(data_dir_, "/", name,
                                   " is a symbolic link; it is not followed")),
            HasSubstr(absl::StrCat("database directory ", data_dir_, "/", name,
                                   " is a symbolic link (to ", victim, ")"))));
    if (std::string(name) == "db") {
      EXPECT_TRUE(std::filesystem::is_empty(victim));
    } else {
      EXPECT_EQ(ScratchDir::Read(victim), kVictimText);
    }
  }
}

TEST_F(DtrustdDataDirTest, AnonymousSeesNothingOverTheSocket) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start({"--data-dir", data_dir_});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string uri =
      absl::StrCat("ldapi://", PercentEncode(data_dir_ + "/ldapi"));
  for (const std::vector<std::string>& search :
       std::vector<std::vector<std::string>>{
           {"-b", "o=dtrust", "-s", "sub", "(objectClass=*)"},
           {"-b", "ou=servers,o=dtrust", "-s", "sub", "(objectClass=*)"},
           {"-b", "", "-s", "base", "(objectClass=*)", "+", "*"},
           {"-b", "cn=Subschema", "-s", "base", "(objectClass=*)", "+"}}) {
    std::vector<std::string> argv = {"/usr/bin/ldapsearch", "-LLL", "-x", "-H",
                                     uri};
    argv.insert(argv.end(), search.begin(), search.end());
    absl::StatusOr<CommandResult> result = RunCommand(scratch_.dir(), argv);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_THAT(result->out, Not(HasSubstr("dn:"))) << search[1];
    EXPECT_THAT(result->out, AllOf(Not(HasSubstr("namingContexts")),
                                   Not(HasSubstr("objectClasses"))));
  }
}

TEST_F(DtrustdDataDirTest, NoOtherUserCanConnectToTheSocket) {
  SkipUnlessRoot();
  // Let nobody reach DIR itself; DIR's own mode is what is tested.
  ASSERT_EQ(chmod(scratch_.dir().c_str(), 0711), 0);
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
      DtrustdProcess::Start({"--data-dir", data_dir_});
  ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
  const std::string socket = data_dir_ + "/ldapi";
  EXPECT_EQ(ModeOf(data_dir_) & 07777, 0700);
  EXPECT_TRUE(S_ISSOCK(ModeOf(socket)));
  EXPECT_EQ(ModeOf(socket) & 07777, 0600);
  EXPECT_EQ(ConnectErrnoAs(0, socket), 0);  // The premise: it accepts.
  EXPECT_EQ(ConnectErrnoAs(kNobody, socket), EACCES);
  // Should an admin open DIR up later, the socket's own mode still holds.
  ASSERT_EQ(chmod(data_dir_.c_str(), 0711), 0);
  EXPECT_EQ(ConnectErrnoAs(kNobody, socket), EACCES);
}

}  // namespace
}  // namespace dtrust::testing
