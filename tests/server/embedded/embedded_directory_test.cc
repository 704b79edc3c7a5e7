// EmbeddedDirectory against the real /usr/sbin/slapd, checked from outside
// with the ldap-utils command-line tools.
#include "server/embedded/embedded_directory.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/owned_fd.h"
#include "server/embedded/schema.h"
#include "server/embedded/slapd_config.h"
#include "tests/testing/run_command.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ShellQuote(const std::string& arg) {
  return absl::StrCat("'", absl::StrReplaceAll(arg, {{"'", "'\\''"}}), "'");
}

using testing::CommandResult;

// Runs `argv`, its stderr merged into its stdout.
CommandResult RunCommand(const std::vector<std::string>& argv) {
  std::vector<std::string> quoted;
  for (const std::string& arg : argv) quoted.push_back(ShellQuote(arg));
  absl::StatusOr<CommandResult> result = testing::RunCommand(
      "/tmp",
      {"/bin/sh", "-c", absl::StrCat(absl::StrJoin(quoted, " "), " 2>&1")});
  EXPECT_TRUE(result.ok()) << result.status();
  return result.value_or(CommandResult());
}

int CountOf(absl::string_view text, absl::string_view needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// A fresh directory, removed with everything in it. On tmpfs if there is
// one: slapd syncs every write, which costs milliseconds each on a disk.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    pattern += "/dtrust-embedded-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp " << pattern << ": " << strerror(errno);
    }
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// kill(2) for one known process only: never a group or "every process".
int KillPid(pid_t pid, int signal) {
  if (pid <= 0) {
    ADD_FAILURE() << "refusing to signal pid " << pid;
    return -1;
  }
  return kill(pid, signal);
}

// Kills and reaps a process on scope exit unless it already was reaped.
class ProcessGuard {
 public:
  explicit ProcessGuard(pid_t pid = -1) : pid_(pid) {}
  ~ProcessGuard() {
    if (pid_ > 0 && kill(pid_, SIGKILL) == 0) waitpid(pid_, nullptr, 0);
  }
  void set(pid_t pid) { pid_ = pid; }
  void Reaped() { pid_ = -1; }

 private:
  pid_t pid_;
};

// Reaps `pid` (our child, or an orphan we adopted as subreaper); false if it
// does not exit within `timeout`.
bool WaitForExit(pid_t pid, absl::Duration timeout, int* status) {
  if (pid <= 0) return false;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    const pid_t reaped = waitpid(pid, status, WNOHANG);
    if (reaped == pid) return true;
    absl::SleepFor(absl::Milliseconds(10));  // ECHILD: not adopted yet.
  }
  return false;
}

// A command that keeps running (a refreshAndPersist ldapsearch), whose
// output the test reads as it comes. The destructor kills and reaps it.
class RunningCommand {
 public:
  explicit RunningCommand(const std::vector<std::string>& argv) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe: " << strerror(errno);
      return;
    }
    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(out[1], 2);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    fd_.reset(out[0]);
    if (pid_ < 0) ADD_FAILURE() << "fork: " << strerror(errno);
    guard_.set(pid_);
  }

  // Reads until the output so far contains `needle`; false if the command
  // ends or `timeout` passes first. The output so far is in output().
  bool ReadUntil(absl::string_view needle, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(output_, needle)) {
      const absl::Duration left = deadline - absl::Now();
      pollfd ready = {fd_.get(), POLLIN, 0};
      if (left <= absl::ZeroDuration() ||
          poll(&ready, 1, absl::ToInt64Milliseconds(left) + 1) <= 0) {
        return false;
      }
      char buffer[4096];
      const ssize_t n = read(fd_.get(), buffer, sizeof(buffer));
      if (n <= 0) return false;
      output_.append(buffer, n);
    }
    return true;
  }
  const std::string& output() const { return output_; }

 private:
  OwnedFd fd_;
  pid_t pid_ = -1;
  ProcessGuard guard_;
  std::string output_;
};

class EmbeddedDirectoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Orphans (a slapd whose dtrustd was killed) become our children, so
    // tests can wait for them and nothing is left behind.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }

  EmbeddedDirectoryOptions Options(const std::string& base_dn = "o=dtrust") {
    EmbeddedDirectoryOptions options;
    options.data_dir = data_dir_;
    options.base_dn = base_dn;
    return options;
  }

  CommandResult Search(const std::string& uri, const std::string& base,
                       const std::string& scope = "base") {
    return RunCommand({"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", uri,
                       "-b", base, "-s", scope, "(objectClass=*)", "dn"});
  }

  CommandResult Add(const std::string& uri, const std::string& ldif) {
    const std::string file = tmp_.path() + "/add.ldif";
    std::ofstream(file) << ldif;
    return RunCommand(
        {"ldapadd", "-Q", "-Y", "EXTERNAL", "-H", uri, "-f", file});
  }

  CommandResult AddServer(const std::string& uri, const std::string& base) {
    return Add(uri, absl::StrCat(
                        "dn: ou=servers,", base,
                        "\nobjectClass: organizationalUnit\nou: servers\n\n",
                        "dn: cn=mx.example.org,ou=servers,", base,
                        "\nobjectClass: dtrustTransportServer\n",
                        "cn: mx.example.org\ndtrustMailDomain: example.org\n"));
  }

  void ExpectServerPresent(const std::string& uri, const std::string& base) {
    CommandResult found =
        Search(uri, absl::StrCat("cn=mx.example.org,ou=servers,", base));
    EXPECT_EQ(found.exit_code(), 0) << found.out;
    EXPECT_THAT(found.out, HasSubstr("dn: cn=mx.example.org,ou=servers"));
  }

  // Forks a process that starts an EmbeddedDirectory on data_dir_ and then
  // waits to be killed, like a dtrustd. Sets its pid and its slapd's pid,
  // each also into a guard.
  void StartInChildProcess(pid_t* child, ProcessGuard* child_guard,
                           pid_t* slapd, ProcessGuard* slapd_guard) {
    int report[2];
    ASSERT_EQ(pipe(report), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(report[0]);
      absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
          EmbeddedDirectory::Start(Options());
      if (!directory.ok()) {
        fprintf(stderr, "child: %s\n", directory.status().ToString().c_str());
        _exit(1);
      }
      const pid_t slapd_pid = (*directory)->slapd_pid();
      if (write(report[1], &slapd_pid, sizeof(slapd_pid)) < 0) _exit(1);
      while (true) pause();
    }
    close(report[1]);
    *child = pid;
    child_guard->set(pid);
    *slapd = -1;
    const ssize_t n = read(report[0], slapd, sizeof(*slapd));
    close(report[0]);
    ASSERT_EQ(n, static_cast<ssize_t>(sizeof(*slapd)))
        << "the child could not start the directory";
    ASSERT_GT(*slapd, 0);
    slapd_guard->set(*slapd);
  }

  // The dn lines of a subtree search under o=dtrust.
  CommandResult Find(const std::string& uri, const std::string& filter) {
    return RunCommand({"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", uri,
                       "-b", "o=dtrust", "-s", "sub", filter, "1.1"});
  }

  // DIR as a dtrustd before content sync left it: its slapd.conf had neither
  // syncprov nor the entryUUID,entryCSN index, so entries added then are not
  // in that index. Holds o=dtrust, ou=servers and a server with entryUUID
  // kOldUuid.
  void MakePreSyncDataDir() {
    ASSERT_EQ(mkdir(data_dir_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir((data_dir_ + "/db").c_str(), 0700), 0);
    std::ofstream(data_dir_ + "/dtrust.schema") << DtrustSchema();
    std::ofstream(data_dir_ + "/db/base-dn") << "o=dtrust\n";
    absl::StatusOr<BaseEntry> base = ParseBaseEntry("o=dtrust");
    ASSERT_TRUE(base.ok()) << base.status();
    SlapdConfigParams params;
    params.schema_dir = "/etc/ldap/schema";
    params.dtrust_schema_file = data_dir_ + "/dtrust.schema";
    params.module_path = "/usr/lib/ldap";
    params.db_dir = data_dir_ + "/db";
    params.base = *base;
    params.service_uid = geteuid();
    absl::StatusOr<std::string> current = RenderSlapdConfig(params);
    ASSERT_TRUE(current.ok()) << current.status();
    std::string old_conf;
    bool had_sync_index = false;
    for (absl::string_view line : absl::StrSplit(*current, '\n')) {
      if (line == "index entryUUID,entryCSN eq") {
        had_sync_index = true;
      } else if (!absl::StrContains(line, "syncprov")) {
        absl::StrAppend(&old_conf, line, "\n");
      }
    }
    ASSERT_TRUE(had_sync_index) << *current;
    const std::string conf = tmp_.path() + "/old-slapd.conf";
    const std::string ldif = tmp_.path() + "/old.ldif";
    std::ofstream(conf) << old_conf;
    std::ofstream(ldif) << BaseEntryLdif(*base)
                        << "\ndn: ou=servers,o=dtrust\n"
                           "objectClass: organizationalUnit\nou: servers\n\n"
                           "dn: cn=mx.example.org,ou=servers,o=dtrust\n"
                           "objectClass: dtrustTransportServer\n"
                           "cn: mx.example.org\nentryUUID: "
                        << kOldUuid << "\n";
    const CommandResult added =
        RunCommand({"/usr/sbin/slapadd", "-f", conf, "-l", ldif});
    ASSERT_EQ(added.exit_code(), 0) << added.out;
  }

  static constexpr char kOldUuid[] = "4d1c9a52-7e0b-4f3a-9c61-2b8e5f0a7d13";
  TempDir tmp_;
  const std::string data_dir_ = tmp_.path() + "/data";
  const std::string marker_ = data_dir_ + "/db/sync-indexed";
};

TEST_F(EmbeddedDirectoryTest, ServesTheBaseEntryOnlyOnItsSocket) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  EXPECT_EQ(uri, absl::StrCat("ldapi://",
                              absl::StrReplaceAll(data_dir_, {{"/", "%2F"}}),
                              "%2Fldapi"));
  EXPECT_EQ((*directory)->base_dn(), "o=dtrust");
  EXPECT_EQ((*directory)->service_dn(), "cn=dtrustd,o=dtrust");

  struct stat info;
  ASSERT_EQ(stat(data_dir_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700);

  CommandResult whoami =
      RunCommand({"ldapwhoami", "-Q", "-Y", "EXTERNAL", "-H", uri});
  EXPECT_EQ(whoami.exit_code(), 0) << whoami.out;
  EXPECT_EQ(whoami.out, "dn:cn=dtrustd,o=dtrust\n");

  CommandResult base = RunCommand({"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL",
                                   "-H", uri, "-b", "o=dtrust", "-s", "base"});
  EXPECT_EQ(base.exit_code(), 0) << base.out;
  EXPECT_THAT(base.out, HasSubstr("dn: o=dtrust\nobjectClass: organization"
                                  "\no: dtrust\n"));

  // The only listener is the ldapi socket.
  const pid_t pid = (*directory)->slapd_pid();
  ASSERT_GT(pid, 0);
  std::vector<std::string> args =
      absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/cmdline")), '\0');
  EXPECT_THAT(args,
              ::testing::ElementsAre("/usr/sbin/slapd", "-d", "none", "-f",
                                     data_dir_ + "/slapd.conf", "-h", uri, ""));
  // It holds the data dir lock as its fd 3, and its output goes to the log.
  const std::string fds = absl::StrCat("/proc/", pid, "/fd/");
  EXPECT_EQ(std::filesystem::read_symlink(fds + "3"), data_dir_ + "/lock");
  EXPECT_EQ(std::filesystem::read_symlink(fds + "2"), data_dir_ + "/slapd.log");
  EXPECT_EQ(std::filesystem::read_symlink(fds + "0"), "/dev/null");
}

TEST_F(EmbeddedDirectoryTest, ServiceIdentityCanWriteAndSearchUnlimited) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  CommandResult added = AddServer(uri, "o=dtrust");
  ASSERT_EQ(added.exit_code(), 0) << added.out;
  ExpectServerPresent(uri, "o=dtrust");

  // More entries than slapd's default size limit (500) in one search.
  std::string ldif;
  for (int i = 0; i < 500; ++i) {
    absl::StrAppend(&ldif, "dn: cn=s", i, ".example.org,ou=servers,o=dtrust\n",
                    "objectClass: dtrustTransportServer\ncn: s", i,
                    ".example.org\n\n");
  }
  added = Add(uri, ldif);
  ASSERT_EQ(added.exit_code(), 0) << added.out;
  CommandResult all = Search(uri, "ou=servers,o=dtrust", "one");
  EXPECT_EQ(all.exit_code(), 0) << all.out.substr(0, 300);
  EXPECT_EQ(CountOf(all.out, "dn: cn="), 501);
}

// The rules of deploy/ldap/acl.conf: the service identity writes below the
// base entry, but may not change or delete the base entry itself.
TEST_F(EmbeddedDirectoryTest, ServiceIdentityWritesBelowTheBaseEntryOnly) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  ASSERT_EQ(AddServer(uri, "o=dtrust").exit_code(), 0);
  const std::string ldif = tmp_.path() + "/modify.ldif";
  std::ofstream(ldif) << "dn: cn=mx.example.org,ou=servers,o=dtrust\n"
                         "changetype: modify\nadd: dtrustMailDomain\n"
                         "dtrustMailDomain: example.net\n\n"
                         "dn: o=dtrust\nchangetype: modify\n"
                         "replace: o\no: dtrust\n";
  const CommandResult modified = RunCommand(
      {"ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", uri, "-c", "-f", ldif});
  EXPECT_EQ(modified.exit_code(), 50) << modified.out;  // insufficientAccess
  // Only the second change (-c: go on after errors) was refused.
  EXPECT_EQ(CountOf(modified.out, "Insufficient access"), 1) << modified.out;
  const CommandResult server =
      RunCommand({"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", uri, "-b",
                  "cn=mx.example.org,ou=servers,o=dtrust", "-s", "base",
                  "dtrustMailDomain"});
  EXPECT_THAT(server.out, HasSubstr("dtrustMailDomain: example.net\n"));
  const CommandResult deleted =
      RunCommand({"ldapdelete", "-Q", "-Y", "EXTERNAL", "-H", uri, "o=dtrust"});
  EXPECT_EQ(deleted.exit_code(), 50) << deleted.out;
  ExpectServerPresent(uri, "o=dtrust");
  const CommandResult removed =
      RunCommand({"ldapdelete", "-Q", "-Y", "EXTERNAL", "-H", uri,
                  "cn=mx.example.org,ou=servers,o=dtrust"});
  EXPECT_EQ(removed.exit_code(), 0) << removed.out;
  EXPECT_EQ(Search(uri, "o=dtrust").exit_code(), 0);
}

// dtrustd follows the directory with RFC 4533 refreshAndPersist.
TEST_F(EmbeddedDirectoryTest, ServiceIdentityCanFollowChangesWithContentSync) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  // "!": the sync control is critical; without syncprov the search fails.
  RunningCommand search({"ldapsearch", "-Q", "-Y", "EXTERNAL", "-H", uri, "-o",
                         "ldif-wrap=no", "-b", "o=dtrust", "-E", "!sync=rp",
                         "(objectClass=*)", "1.1"});
  ASSERT_TRUE(search.ReadUntil("# refresh done, switching to persist stage",
                               absl::Seconds(5)))
      << search.output();
  EXPECT_THAT(search.output(), HasSubstr("\ndn: o=dtrust\n"));
  EXPECT_THAT(search.output(), HasSubstr("# cookie: rid=000,csn="));

  const CommandResult added = AddServer(uri, "o=dtrust");
  ASSERT_EQ(added.exit_code(), 0) << added.out;
  EXPECT_TRUE(search.ReadUntil("dn: cn=mx.example.org,ou=servers,o=dtrust\n",
                               absl::Seconds(5)))
      << search.output();
}

// The session log: a consumer coming back with its cookie gets what was
// deleted since, not the whole tree again.
TEST_F(EmbeddedDirectoryTest, ReturningConsumerGetsDeletesFromTheSessionLog) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  ASSERT_EQ(AddServer(uri, "o=dtrust").exit_code(), 0);
  const std::vector<std::string> sync_search = {
      "ldapsearch", "-Q",           "-Y", "EXTERNAL", "-H", uri,
      "-o",         "ldif-wrap=no", "-b", "o=dtrust", "-E"};
  std::vector<std::string> first = sync_search;
  first.insert(first.end(), {"!sync=ro", "(objectClass=*)", "1.1"});
  const CommandResult refresh = RunCommand(first);
  ASSERT_EQ(refresh.exit_code(), 0) << refresh.out;
  const size_t at = refresh.out.rfind("# cookie: ");
  ASSERT_NE(at, std::string::npos) << refresh.out;
  const std::string cookie =
      refresh.out.substr(at + 10, refresh.out.find('\n', at) - at - 10);

  const CommandResult deleted =
      RunCommand({"ldapdelete", "-Q", "-Y", "EXTERNAL", "-H", uri,
                  "cn=mx.example.org,ou=servers,o=dtrust"});
  ASSERT_EQ(deleted.exit_code(), 0) << deleted.out;
  std::vector<std::string> again = sync_search;
  again.insert(again.end(),
               {absl::StrCat("!sync=ro/", cookie), "(objectClass=*)", "1.1"});
  const CommandResult changes = RunCommand(again);
  ASSERT_EQ(changes.exit_code(), 0) << changes.out;
  EXPECT_THAT(changes.out,
              HasSubstr("# following UUIDs no longer match the search"));
  EXPECT_THAT(changes.out, Not(HasSubstr("dn: ")));
}

TEST_F(EmbeddedDirectoryTest, AnonymousAndOtherUsersSeeNothing) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  ASSERT_EQ(AddServer(uri, "o=dtrust").exit_code(), 0);

  CommandResult anonymous =
      RunCommand({"ldapsearch", "-LLL", "-x", "-H", uri, "-b", "o=dtrust", "-s",
                  "sub", "(objectClass=*)"});
  EXPECT_EQ(anonymous.exit_code(), 32) << anonymous.out;  // noSuchObject
  EXPECT_THAT(anonymous.out, Not(HasSubstr("dn:")));
  CommandResult root_dse = RunCommand(
      {"ldapsearch", "-LLL", "-x", "-H", uri, "-b", "", "-s", "base", "+"});
  EXPECT_THAT(root_dse.out, Not(HasSubstr("namingContexts")));
  const std::string ldif = tmp_.path() + "/anonymous.ldif";
  std::ofstream(ldif) << "dn: ou=anonymous,o=dtrust\n"
                         "objectClass: organizationalUnit\nou: anonymous\n";
  CommandResult anonymous_write =
      RunCommand({"ldapadd", "-x", "-H", uri, "-f", ldif});
  EXPECT_EQ(anonymous_write.exit_code(), 8)  // strongerAuthRequired
      << anonymous_write.out;

  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as another uid";
  // Let uid 65534 reach the socket (DIR 0700 and the socket's 0600 keep it
  // out; see dtrustd_data_dir_test); slapd's rules must still tell it
  // nothing.
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0711), 0);
  ASSERT_EQ(chmod(data_dir_.c_str(), 0711), 0);
  ASSERT_EQ(chmod((data_dir_ + "/ldapi").c_str(), 0666), 0);
  const std::vector<std::string> as_nobody = {
      "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  std::vector<std::string> whoami = as_nobody;
  whoami.insert(whoami.end(),
                {"ldapwhoami", "-Q", "-Y", "EXTERNAL", "-H", uri});
  CommandResult identity = RunCommand(whoami);
  ASSERT_EQ(identity.exit_code(), 0) << identity.out;
  EXPECT_EQ(identity.out,
            "dn:gidNumber=65534+uidNumber=65534,cn=peercred,cn=external,"
            "cn=auth\n");
  std::vector<std::string> search = as_nobody;
  search.insert(search.end(),
                {"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", uri, "-b",
                 "o=dtrust", "-s", "sub", "(objectClass=*)"});
  CommandResult other = RunCommand(search);
  EXPECT_EQ(other.exit_code(), 32) << other.out;
  EXPECT_THAT(other.out, Not(HasSubstr("dn:")));
  std::vector<std::string> add = as_nobody;
  add.insert(add.end(),
             {"ldapadd", "-Q", "-Y", "EXTERNAL", "-H", uri, "-f", ldif});
  CommandResult other_write = RunCommand(add);
  EXPECT_EQ(other_write.exit_code(), 50)  // insufficientAccess
      << other_write.out;
}

TEST_F(EmbeddedDirectoryTest, DataPersistsAcrossStopAndStart) {
  std::string uri;
  pid_t first_pid;
  {
    absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
        EmbeddedDirectory::Start(Options());
    ASSERT_TRUE(directory.ok()) << directory.status();
    uri = (*directory)->ldap_uri();
    first_pid = (*directory)->slapd_pid();
    ASSERT_EQ(AddServer(uri, "o=dtrust").exit_code(), 0);
    (*directory)->Stop();
    EXPECT_EQ((*directory)->slapd_pid(), -1);
    (*directory)->Stop();  // Idempotent.
  }
  ASSERT_GT(first_pid, 0);
  EXPECT_EQ(kill(first_pid, 0), -1);
  EXPECT_NE(Search(uri, "o=dtrust").exit_code(), 0);

  // Same base DN spelt differently is the same directory.
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> again =
      EmbeddedDirectory::Start(Options("O=DTrust"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->ldap_uri(), uri);
  ExpectServerPresent(uri, "o=dtrust");
  // The base entry was loaded once, on first start only; slapadd indexed
  // it for content sync, so no slapindex ran.
  const std::string log = ReadFile(data_dir_ + "/slapd.log");
  EXPECT_EQ(CountOf(log, "slapadd of base"), 1);
  EXPECT_EQ(CountOf(log, "slapindex"), 0);
  EXPECT_EQ(ReadFile(marker_), "entryUUID entryCSN\n");
}

TEST_F(EmbeddedDirectoryTest, IndexesAPreSyncDatabaseForContentSyncOnce) {
  ASSERT_NO_FATAL_FAILURE(MakePreSyncDataDir());
  const std::string by_uuid = absl::StrCat("(entryUUID=", kOldUuid, ")");
  const std::string old_dn = "dn: cn=mx.example.org,ou=servers,o=dtrust\n";
  {
    // The premise: slapd with today's configuration (the index declared,
    // not built) misses the old entry. A forged marker skips slapindex.
    std::ofstream(marker_) << "forged\n";
    absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> unindexed =
        EmbeddedDirectory::Start(Options());
    ASSERT_TRUE(unindexed.ok()) << unindexed.status();
    const CommandResult missed = Find((*unindexed)->ldap_uri(), by_uuid);
    EXPECT_EQ(missed.exit_code(), 0) << missed.out;
    ASSERT_THAT(missed.out, Not(HasSubstr("dn:")));
    ASSERT_EQ(unlink(marker_.c_str()), 0);
  }

  std::string uri;
  {
    absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
        EmbeddedDirectory::Start(Options());
    ASSERT_TRUE(directory.ok()) << directory.status();
    uri = (*directory)->ldap_uri();
    EXPECT_EQ(ReadFile(marker_), "entryUUID entryCSN\n");
    EXPECT_EQ(CountOf(ReadFile(data_dir_ + "/slapd.log"),
                      "slapindex of entryUUID entryCSN"),
              1);
    const CommandResult found = Find(uri, by_uuid);
    EXPECT_EQ(found.exit_code(), 0) << found.out;
    EXPECT_EQ(found.out, old_dn + "\n");

    const CommandResult entry = RunCommand(
        {"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H", uri, "-b",
         "cn=mx.example.org,ou=servers,o=dtrust", "-s", "base", "entryCSN"});
    const size_t at = entry.out.find("entryCSN: ");
    ASSERT_NE(at, std::string::npos) << entry.out;
    const std::string csn =
        entry.out.substr(at + 10, entry.out.find('\n', at) - at - 10);
    const CommandResult by_csn =
        Find(uri, absl::StrCat("(entryCSN=", csn, ")"));
    EXPECT_EQ(by_csn.exit_code(), 0) << by_csn.out;
    EXPECT_EQ(by_csn.out, old_dn + "\n");
  }

  // Indexed once: the marker stops a second slapindex.
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> again =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(again.ok()) << again.status();
  const std::string log = ReadFile(data_dir_ + "/slapd.log");
  EXPECT_EQ(CountOf(log, "slapindex"), 1);
  EXPECT_EQ(CountOf(log, "starting slapd"), 3);
  EXPECT_EQ(Find(uri, by_uuid).out, old_dn + "\n");
}

TEST_F(EmbeddedDirectoryTest, FailedReindexKeepsSlapdFromStarting) {
  ASSERT_NO_FATAL_FAILURE(MakePreSyncDataDir());
  EmbeddedDirectoryOptions options = Options();
  options.slapindex_path = "/bin/false";
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(options);
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(directory.status().message(),
              HasSubstr("/bin/false of entryUUID entryCSN in " + data_dir_ +
                        "/db exited with status 1"));
  EXPECT_FALSE(std::filesystem::exists(marker_));
  EXPECT_THAT(ReadFile(data_dir_ + "/slapd.log"),
              Not(HasSubstr("starting slapd")));

  // The next start indexes it.
  directory = EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_TRUE(std::filesystem::exists(marker_));
  EXPECT_EQ(
      Find((*directory)->ldap_uri(), absl::StrCat("(entryUUID=", kOldUuid, ")"))
          .out,
      "dn: cn=mx.example.org,ou=servers,o=dtrust\n\n");
}

TEST_F(EmbeddedDirectoryTest, SecondInstanceOnTheSameDirIsRefused) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> first =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> second =
      EmbeddedDirectory::Start(Options());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("is in use"));
  EXPECT_THAT(second.status().message(), HasSubstr(data_dir_));
  EXPECT_EQ(Search((*first)->ldap_uri(), "o=dtrust").exit_code(), 0);
}

TEST_F(EmbeddedDirectoryTest, RestartsSlapdWhenItDies) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  const std::string& uri = (*directory)->ldap_uri();
  ASSERT_EQ(AddServer(uri, "o=dtrust").exit_code(), 0);
  const pid_t killed = (*directory)->slapd_pid();
  ASSERT_EQ(KillPid(killed, SIGKILL), 0);

  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  pid_t restarted = -1;
  while (absl::Now() < deadline) {
    restarted = (*directory)->slapd_pid();
    if (restarted > 0 && restarted != killed &&
        Search(uri, "o=dtrust").exit_code() == 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_GT(restarted, 0);
  ASSERT_NE(restarted, killed);
  ExpectServerPresent(uri, "o=dtrust");
}

TEST_F(EmbeddedDirectoryTest, DataDirKeepsItsBaseDn) {
  {
    absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
        EmbeddedDirectory::Start(Options("dc=example,dc=org"));
    ASSERT_TRUE(directory.ok()) << directory.status();
    CommandResult base =
        RunCommand({"ldapsearch", "-LLL", "-Q", "-Y", "EXTERNAL", "-H",
                    (*directory)->ldap_uri(), "-b", "dc=example,dc=org", "-s",
                    "base", "objectClass"});
    EXPECT_EQ(base.exit_code(), 0) << base.out;
    EXPECT_THAT(base.out, HasSubstr("objectClass: domain\n"));
    EXPECT_THAT(base.out, HasSubstr("objectClass: dcObject\n"));
    EXPECT_EQ((*directory)->service_dn(), "cn=dtrustd,dc=example,dc=org");
  }
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> other =
      EmbeddedDirectory::Start(Options("o=dtrust"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.status().message(), HasSubstr("'dc=example,dc=org'"));
  EXPECT_THAT(other.status().message(), HasSubstr("'o=dtrust'"));
}

TEST_F(EmbeddedDirectoryTest, BaseDnWithSpecialCharacters) {
  const std::string base = "o=say \\\"hi\\\" $1\\, Inc";
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options(base));
  ASSERT_TRUE(directory.ok()) << directory.status();
  CommandResult found = Search((*directory)->ldap_uri(), base);
  EXPECT_EQ(found.exit_code(), 0) << found.out;
  CommandResult added = AddServer((*directory)->ldap_uri(), base);
  EXPECT_EQ(added.exit_code(), 0) << added.out;
}

TEST_F(EmbeddedDirectoryTest, RejectsBadOptionsBeforeTouchingTheDisk) {
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options("cn=dtrust"));
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);

  EmbeddedDirectoryOptions options = Options();
  options.data_dir = tmp_.path() + "/" + std::string(100, 'd');
  directory = EmbeddedDirectory::Start(options);
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(directory.status().message(), HasSubstr("--data-dir"));
  EXPECT_FALSE(std::filesystem::exists(data_dir_));
  EXPECT_FALSE(std::filesystem::exists(options.data_dir));
}

TEST_F(EmbeddedDirectoryTest, FailedStartReleasesTheDataDir) {
  EmbeddedDirectoryOptions options = Options();
  options.slapd_path = "/nonexistent/slapd";
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(options);
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(directory.status().message(),
              HasSubstr("cannot execute /nonexistent/slapd"));

  directory = EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_EQ(Search((*directory)->ldap_uri(), "o=dtrust").exit_code(), 0);
}

TEST_F(EmbeddedDirectoryTest, SlapdDiesWithItsOwner) {
  pid_t child = -1;
  pid_t slapd = -1;
  ProcessGuard child_guard;
  ProcessGuard slapd_guard;
  ASSERT_NO_FATAL_FAILURE(
      StartInChildProcess(&child, &child_guard, &slapd, &slapd_guard));

  // Hold slapd still while its owner dies: as long as slapd lives it keeps
  // the data dir locked, so no second slapd can start on the same files.
  ASSERT_EQ(KillPid(slapd, SIGSTOP), 0);
  ASSERT_EQ(KillPid(child, SIGKILL), 0);
  int status = 0;
  ASSERT_TRUE(WaitForExit(child, absl::Seconds(5), &status));
  child_guard.Reaped();
  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> too_early =
      EmbeddedDirectory::Start(Options());
  EXPECT_EQ(too_early.status().code(), absl::StatusCode::kFailedPrecondition)
      << too_early.status();
  ASSERT_EQ(KillPid(slapd, SIGCONT), 0);
  // PR_SET_PDEATHSIG: slapd got SIGTERM and shuts down cleanly.
  ASSERT_TRUE(WaitForExit(slapd, absl::Seconds(10), &status));
  slapd_guard.Reaped();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
}

TEST_F(EmbeddedDirectoryTest, ReplacesTheStaleSocketOfAKilledRun) {
  pid_t child = -1;
  pid_t slapd = -1;
  ProcessGuard child_guard;
  ProcessGuard slapd_guard;
  ASSERT_NO_FATAL_FAILURE(
      StartInChildProcess(&child, &child_guard, &slapd, &slapd_guard));

  // Both die at once (SIGKILL), so slapd cannot remove its socket. The
  // child is frozen first: its supervisor must neither reap slapd (which
  // then is never ours to wait for) nor restart it.
  ASSERT_EQ(KillPid(child, SIGSTOP), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, WUNTRACED), child);  // Stopped now.
  ASSERT_TRUE(WIFSTOPPED(status)) << status;
  ASSERT_EQ(KillPid(slapd, SIGKILL), 0);
  ASSERT_EQ(KillPid(child, SIGKILL), 0);
  ASSERT_TRUE(WaitForExit(child, absl::Seconds(5), &status));
  child_guard.Reaped();
  ASSERT_TRUE(WaitForExit(slapd, absl::Seconds(5), &status));
  slapd_guard.Reaped();
  struct stat info;
  ASSERT_EQ(stat((data_dir_ + "/ldapi").c_str(), &info), 0);
  ASSERT_TRUE(S_ISSOCK(info.st_mode));

  absl::StatusOr<std::unique_ptr<EmbeddedDirectory>> directory =
      EmbeddedDirectory::Start(Options());
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_EQ(Search((*directory)->ldap_uri(), "o=dtrust").exit_code(), 0);
}

}  // namespace
}  // namespace dtrust
