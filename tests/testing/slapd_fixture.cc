#include "tests/testing/slapd_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/core/status_macros.h"

namespace dtrust::testing {
namespace {

constexpr char kSlapd[] = "/usr/sbin/slapd";
constexpr char kSlapadd[] = "/usr/sbin/slapadd";
constexpr char kLdapSearch[] = "/usr/bin/ldapsearch";
constexpr char kLdapModify[] = "/usr/bin/ldapmodify";
constexpr char kSchemaDir[] = "/etc/ldap/schema";
constexpr char kModuleDir[] = "/usr/lib/ldap";
constexpr char kDtrustSchema[] = DTRUST_SOURCE_DIR "/deploy/ldap/dtrust.schema";
constexpr char kDtrustLdif[] = DTRUST_SOURCE_DIR "/deploy/ldap/dtrust.ldif";
constexpr absl::Duration kReadyTimeout = absl::Seconds(10);
constexpr absl::Duration kCommandTimeout = absl::Seconds(30);
constexpr absl::Duration kStopTimeout = absl::Seconds(5);

std::string ErrnoMessage(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// A new empty file named from `prefix` + random suffix, opened for writing.
absl::StatusOr<std::pair<std::string, int>> MakeTempFile(
    const std::string& prefix) {
  std::string path = prefix + "XXXXXX";
  const int fd = mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return absl::InternalError(ErrnoMessage("mkostemp " + path));
  return std::make_pair(path, fd);
}

// Forks and execs argv[0] (an absolute path) with the given standard
// descriptors and no others. The child gets SIGKILL when the calling thread
// exits.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, int stdin_fd,
                            int stdout_fd, int stderr_fd) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(ErrnoMessage("fork"));
  if (pid == 0) {
    // Async-signal-safe calls only from here on.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent ||
        dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 ||
        dup2(stderr_fd, 2) < 0) {
      _exit(127);
    }
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to exit; its wait status, or nullopt if it
// still runs.
std::optional<int> WaitFor(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;  // Already reaped elsewhere.
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exited with ", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("ended with wait status ", status);
}

struct CommandResult {
  int status = 0;  // Wait status.
  std::string out;
  std::string err;
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
  std::string Describe(absl::string_view command) const {
    return absl::StrCat(command, " ", DescribeExit(status), ": ", err, out);
  }
};

// Runs `argv` to completion (killed after kCommandTimeout) with stdin from
// `stdin_path` (empty: /dev/null), capturing its output via files in `dir`.
absl::StatusOr<CommandResult> RunCommand(const std::string& dir,
                                         const std::vector<std::string>& argv,
                                         const std::string& stdin_path = "") {
  DTRUST_ASSIGN_OR_RETURN(auto out, MakeTempFile(dir + "/stdout-"));
  Fd out_fd(out.second);
  DTRUST_ASSIGN_OR_RETURN(auto err, MakeTempFile(dir + "/stderr-"));
  Fd err_fd(err.second);
  const std::string input = stdin_path.empty() ? "/dev/null" : stdin_path;
  Fd in_fd(open(input.c_str(), O_RDONLY | O_CLOEXEC));
  if (in_fd.get() < 0) return absl::InternalError(ErrnoMessage(input));
  DTRUST_ASSIGN_OR_RETURN(pid_t pid,
                          Spawn(argv, in_fd.get(), out_fd.get(), err_fd.get()));
  std::optional<int> status = WaitFor(pid, kCommandTimeout);
  if (!status.has_value()) {
    kill(pid, SIGKILL);
    status = WaitFor(pid, kStopTimeout);
  }
  CommandResult result;
  result.status = status.value_or(0);
  result.out = ReadFileOrEmpty(out.first);
  result.err = ReadFileOrEmpty(err.first);
  unlink(out.first.c_str());
  unlink(err.first.c_str());
  if (!status.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        argv[0], " did not finish in ", absl::FormatDuration(kCommandTimeout)));
  }
  return result;
}

absl::StatusOr<int> FreePort() {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(ErrnoMessage("socket"));
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof(address);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size) !=
          0) {
    return absl::InternalError(ErrnoMessage("bind 127.0.0.1:0"));
  }
  return ntohs(address.sin_port);
}

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(absl::string_view text) {
  std::string encoded;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      encoded.push_back(c);
    } else {
      absl::StrAppend(&encoded, "%",
                      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(
                          static_cast<unsigned char>(c), absl::kZeroPad2))));
    }
  }
  return encoded;
}

// The LDIF of the suffix entry itself, by its RDN type.
absl::StatusOr<std::string> SuffixEntryLdif(const std::string& suffix) {
  const std::pair<std::string, std::string> rdn = absl::StrSplit(
      suffix.substr(0, suffix.find(',')), absl::MaxSplits('=', 1));
  const std::string type = absl::AsciiStrToLower(rdn.first);
  std::string classes;
  if (type == "dc") {
    classes =
        absl::StrCat("objectClass: dcObject\n", "objectClass: organization\n",
                     "o: ", rdn.second, "\n");
  } else if (type == "o") {
    classes = "objectClass: organization\n";
  } else if (type == "ou") {
    classes = "objectClass: organizationalUnit\n";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("SlapdFixture: suffix \"", suffix,
                     "\" must start with dc=, o= or ou="));
  }
  return absl::StrCat("dn: ", suffix, "\n", classes, type, ": ", rdn.second,
                      "\n");
}

// The one back-mdb database, in either configuration form.
struct Database {
  std::string suffix;
  std::string directory;
  std::vector<std::string> access;  // "to ... by ..." rules, in order.
};

const std::vector<std::string>& Indexes() {
  static const auto* const kIndexes = new std::vector<std::string>{
      "objectClass,cn eq",
      "dtrustCertSha256,dtrustSpkiSha256,dtrustMailDomain eq"};
  return *kIndexes;
}

std::string SlapdConf(const std::string& dir, const Database& database) {
  std::string conf =
      absl::StrCat("include ", kSchemaDir, "/core.schema\n",    //
                   "include ", kSchemaDir, "/cosine.schema\n",  //
                   "include ", kDtrustSchema, "\n",             //
                   "pidfile ", dir, "/slapd.pid\n",             //
                   "argsfile ", dir, "/slapd.args\n",           //
                   "modulepath ", kModuleDir, "\n",             //
                   "moduleload back_mdb\n",                     //
                   "database mdb\n",                            //
                   "suffix \"", database.suffix, "\"\n",        //
                   "directory ", database.directory, "\n",      //
                   "maxsize 1073741824\n");
  for (const std::string& index : Indexes()) {
    absl::StrAppend(&conf, "index ", index, "\n");
  }
  for (const std::string& rule : database.access) {
    absl::StrAppend(&conf, "access ", rule, "\n");
  }
  return conf;
}

// For slapadd -n0: the schema comes from the .ldif files via include:.
std::string CnConfigLdif(const std::string& dir, const Database& database) {
  std::string ldif =
      absl::StrCat("dn: cn=config\n",                                   //
                   "objectClass: olcGlobal\n",                          //
                   "cn: config\n",                                      //
                   "olcPidFile: ", dir, "/slapd.pid\n",                 //
                   "olcArgsFile: ", dir, "/slapd.args\n\n",             //
                   "dn: cn=module{0},cn=config\n",                      //
                   "objectClass: olcModuleList\n",                      //
                   "cn: module{0}\n",                                   //
                   "olcModulePath: ", kModuleDir, "\n",                 //
                   "olcModuleLoad: back_mdb\n\n",                       //
                   "dn: cn=schema,cn=config\n",                         //
                   "objectClass: olcSchemaConfig\n",                    //
                   "cn: schema\n\n",                                    //
                   "include: file://", kSchemaDir, "/core.ldif\n\n",    //
                   "include: file://", kSchemaDir, "/cosine.ldif\n\n",  //
                   "include: file://", kDtrustLdif, "\n\n",             //
                   "dn: olcDatabase={-1}frontend,cn=config\n",          //
                   "objectClass: olcDatabaseConfig\n",                  //
                   "objectClass: olcFrontendConfig\n",                  //
                   "olcDatabase: {-1}frontend\n\n",                     //
                   "dn: olcDatabase={0}config,cn=config\n",             //
                   "objectClass: olcDatabaseConfig\n",                  //
                   "olcDatabase: {0}config\n",                          //
                   "olcAccess: {0}to * by * none\n\n",                  //
                   "dn: olcDatabase={1}mdb,cn=config\n",                //
                   "objectClass: olcDatabaseConfig\n",                  //
                   "objectClass: olcMdbConfig\n",                       //
                   "olcDatabase: {1}mdb\n",                             //
                   "olcSuffix: ", database.suffix, "\n",                //
                   "olcDbDirectory: ", database.directory, "\n",        //
                   "olcDbMaxSize: 1073741824\n");
  for (const std::string& index : Indexes()) {
    absl::StrAppend(&ldif, "olcDbIndex: ", index, "\n");
  }
  for (size_t i = 0; i < database.access.size(); ++i) {
    absl::StrAppend(&ldif, "olcAccess: {", i, "}", database.access[i], "\n");
  }
  return ldif;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SlapdFixture>> SlapdFixture::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<SlapdFixture>> SlapdFixture::Start(
    const Options& options) {
  char dir[] = "/tmp/dtrust-slapd-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    return absl::InternalError(ErrnoMessage("mkdtemp /tmp/dtrust-slapd-*"));
  }
  // Owns (and on failure removes) the directory from here on.
  auto fixture = absl::WrapUnique(new SlapdFixture(dir));
  DTRUST_RETURN_IF_ERROR(fixture->Configure(options));
  DTRUST_RETURN_IF_ERROR(fixture->Launch());
  return fixture;
}

SlapdFixture::~SlapdFixture() {
  Stop().IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status SlapdFixture::Configure(const Options& options) {
  suffix_ = options.suffix;
  DTRUST_ASSIGN_OR_RETURN(const std::string suffix_entry,
                          SuffixEntryLdif(suffix_));
  bind_dn_ = absl::StrCat("cn=dtrustd,", suffix_);
  bind_password_ = "dtrustd-test-password";
  password_file_ = dir_ + "/bind.pw";
  DTRUST_RETURN_IF_ERROR(WriteFile(password_file_, bind_password_));
  DTRUST_ASSIGN_OR_RETURN(const int port, FreePort());
  uri_ = absl::StrCat("ldap://127.0.0.1:", port, "/");
  ldapi_uri_ = absl::StrCat("ldapi://", PercentEncode(dir_ + "/ldapi"));
  const std::string listeners = absl::StrCat(uri_, " ", ldapi_uri_);

  Database database;
  database.suffix = suffix_;
  database.directory = dir_ + "/data";
  if (mkdir(database.directory.c_str(), 0700) != 0) {
    return absl::InternalError(ErrnoMessage("mkdir " + database.directory));
  }
  const std::string peer_dn =
      absl::StrCat("gidNumber=", getegid(), "+uidNumber=", geteuid(),
                   ",cn=peercred,cn=external,cn=auth");
  database.access = {
      "to attrs=userPassword by anonymous auth by * none",
      absl::StrCat("to dn.subtree=\"", suffix_, "\" by dn.exact=\"", bind_dn_,
                   "\" write by dn.exact=\"", peer_dn, "\" write by * none")};

  const std::string data_ldif = dir_ + "/data.ldif";
  DTRUST_RETURN_IF_ERROR(WriteFile(
      data_ldif, absl::StrCat(suffix_entry, "\n",                     //
                              "dn: ", bind_dn_, "\n",                 //
                              "objectClass: applicationProcess\n",    //
                              "objectClass: simpleSecurityObject\n",  //
                              "cn: dtrustd\n",                        //
                              "userPassword: ", bind_password_, "\n")));

  std::vector<std::string> slapadd_data;
  if (options.mode == ConfigMode::kSlapdConf) {
    const std::string conf_path = dir_ + "/slapd.conf";
    DTRUST_RETURN_IF_ERROR(WriteFile(conf_path, SlapdConf(dir_, database)));
    slapd_args_ = {kSlapd, "-f", conf_path, "-h", listeners, "-d", "none"};
    slapadd_data = {kSlapadd, "-f", conf_path, "-b", suffix_, "-l", data_ldif};
  } else {
    const std::string ldif_path = dir_ + "/config.ldif";
    const std::string config_dir = dir_ + "/slapd.d";
    DTRUST_RETURN_IF_ERROR(WriteFile(ldif_path, CnConfigLdif(dir_, database)));
    if (mkdir(config_dir.c_str(), 0700) != 0) {
      return absl::InternalError(ErrnoMessage("mkdir " + config_dir));
    }
    DTRUST_ASSIGN_OR_RETURN(
        CommandResult config,
        RunCommand(dir_, {kSlapadd, "-n0", "-F", config_dir, "-l", ldif_path}));
    if (!config.ok()) {
      return absl::InternalError(
          config.Describe("slapadd -n0 (cn=config with dtrust.ldif)"));
    }
    slapd_args_ = {kSlapd, "-F", config_dir, "-h", listeners, "-d", "none"};
    slapadd_data = {kSlapadd, "-F", config_dir, "-b", suffix_, "-l", data_ldif};
  }
  DTRUST_ASSIGN_OR_RETURN(CommandResult data, RunCommand(dir_, slapadd_data));
  if (!data.ok()) return absl::InternalError(data.Describe("slapadd (data)"));
  return absl::OkStatus();
}

absl::Status SlapdFixture::Launch() {
  const std::string log_path = dir_ + "/slapd.log";
  Fd log_fd(
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  Fd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log_fd.get() < 0 || null_fd.get() < 0) {
    return absl::InternalError(ErrnoMessage("open " + log_path));
  }
  DTRUST_ASSIGN_OR_RETURN(
      pid_, Spawn(slapd_args_, null_fd.get(), log_fd.get(), log_fd.get()));
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  while (absl::Now() < deadline) {
    if (std::optional<int> status = WaitFor(pid_, absl::ZeroDuration())) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("slapd ", DescribeExit(*status),
                                              " before answering; its log:\n",
                                              ReadFileOrEmpty(log_path)));
    }
    DTRUST_ASSIGN_OR_RETURN(
        CommandResult probe,
        RunCommand(dir_, {kLdapSearch, "-x", "-H", uri_, "-o", "nettimeout=1",
                          "-s", "base", "-b", "", "namingContexts"}));
    if (probe.ok()) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(10));
  }
  Stop().IgnoreError();
  return absl::DeadlineExceededError(
      absl::StrCat("slapd did not answer on ", uri_, " within ",
                   absl::FormatDuration(kReadyTimeout), "; its log:\n",
                   ReadFileOrEmpty(log_path)));
}

absl::Status SlapdFixture::Stop() {
  if (pid_ < 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // In case a test stopped it.
  std::optional<int> status = WaitFor(pid_, kStopTimeout);
  if (!status.has_value()) {
    kill(pid_, SIGKILL);
    status = WaitFor(pid_, kStopTimeout);
  }
  const pid_t pid = pid_;
  pid_ = -1;
  if (!status.has_value()) {
    return absl::InternalError(absl::StrCat("slapd ", pid, " does not die"));
  }
  return absl::OkStatus();
}

absl::Status SlapdFixture::Restart() {
  if (pid_ >= 0) {
    return absl::FailedPreconditionError("slapd is already running");
  }
  return Launch();
}

absl::Status SlapdFixture::Pause() {
  if (pid_ < 0) return absl::FailedPreconditionError("slapd is not running");
  if (kill(pid_, SIGSTOP) != 0) {
    return absl::InternalError(ErrnoMessage("kill SIGSTOP"));
  }
  // kill() returns before every thread has stopped; WUNTRACED reports the
  // completed group stop.
  int status = 0;
  pid_t done;
  do {
    done = waitpid(pid_, &status, WUNTRACED);
  } while (done < 0 && errno == EINTR);
  if (done != pid_ || !WIFSTOPPED(status)) {
    return absl::InternalError(
        absl::StrCat("slapd did not stop: ", DescribeExit(status)));
  }
  return absl::OkStatus();
}

absl::Status SlapdFixture::Resume() {
  if (pid_ < 0) return absl::FailedPreconditionError("slapd is not running");
  if (kill(pid_, SIGCONT) != 0) {
    return absl::InternalError(ErrnoMessage("kill SIGCONT"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SlapdFixture::LdapSearch(
    const std::string& base, const std::string& filter,
    const std::vector<std::string>& attrs) const {
  std::vector<std::string> argv = {
      kLdapSearch,    "-x", "-LLL", "-o",  "ldif-wrap=no", "-o",
      "nettimeout=5", "-H", uri_,   "-D",  bind_dn_,       "-y",
      password_file_, "-b", base,   filter};
  argv.insert(argv.end(), attrs.begin(), attrs.end());
  DTRUST_ASSIGN_OR_RETURN(CommandResult result, RunCommand(dir_, argv));
  if (!result.ok()) {
    return absl::InternalError(result.Describe(
        absl::StrCat("ldapsearch -b \"", base, "\" \"", filter, "\"")));
  }
  return result.out;
}

absl::Status SlapdFixture::LdapModify(const std::string& ldif) const {
  DTRUST_ASSIGN_OR_RETURN(auto input, MakeTempFile(dir_ + "/modify-"));
  close(input.second);
  DTRUST_RETURN_IF_ERROR(WriteFile(input.first, ldif));
  absl::StatusOr<CommandResult> result = RunCommand(
      dir_, {kLdapModify, "-x", "-a", "-o", "nettimeout=5", "-H", uri_, "-D",
             bind_dn_, "-y", password_file_, "-f", input.first});
  unlink(input.first.c_str());
  if (!result.ok()) return result.status();
  if (!result->ok()) return absl::InternalError(result->Describe("ldapmodify"));
  return absl::OkStatus();
}

}  // namespace dtrust::testing
