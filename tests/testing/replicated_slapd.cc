#include "tests/testing/replicated_slapd.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/base/status_macros.h"
#include "tests/testing/run_command.h"
#include "tests/testing/slapd_test_config.h"

namespace dtrust::testing {
namespace {

constexpr char kSlapd[] = "/usr/sbin/slapd";
constexpr char kSlapadd[] = "/usr/sbin/slapadd";
constexpr char kReplicatorPassword[] = "replicator-test-password";
constexpr absl::Duration kStopGrace = absl::Milliseconds(250);
constexpr absl::Duration kReplicationTimeout = absl::Seconds(10);

std::string ErrnoMessage(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

// The operational attributes slapadd would otherwise make up: the same
// entryUUID and entryCSN on both providers make them start in sync.
std::string SyncedAttributes(int n) {
  return absl::StrCat("entryUUID: 00000000-0000-4000-8000-00000000000", n,
                      "\nentryCSN: 20000101000000.000000Z#000000#000#000000\n");
}

}  // namespace

ReplicatedSlapdPair::Provider::Provider(const std::string& dir, int port,
                                        const std::string& bind_dn,
                                        const std::string& password_file)
    : dir_(dir),
      uri_(absl::StrCat("ldap://127.0.0.1:", port, "/")),
      ldapi_uri_(absl::StrCat("ldapi://", PercentEncode(dir + "/ldapi"))),
      tools_(dir, uri_, bind_dn, password_file) {}

std::string ReplicatedSlapdPair::Provider::Log() const {
  return ReadFileOrEmpty(dir_ + "/slapd.log");
}

absl::StatusOr<std::string> ReplicatedSlapdPair::Provider::LdapSearch(
    const std::string& base, const std::string& filter,
    const std::vector<std::string>& attrs) const {
  return tools_.Search(base, filter, attrs);
}

absl::Status ReplicatedSlapdPair::Provider::LdapModify(
    const std::string& ldif) const {
  return tools_.Modify(ldif);
}

absl::StatusOr<std::unique_ptr<ReplicatedSlapdPair>>
ReplicatedSlapdPair::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<ReplicatedSlapdPair>> ReplicatedSlapdPair::Start(
    const Options& options) {
  char dir[] = "/tmp/dtrust-replicated-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    return absl::InternalError(
        ErrnoMessage("mkdtemp /tmp/dtrust-replicated-*"));
  }
  // Owns (and on failure removes) the directory from here on.
  auto pair = absl::WrapUnique(new ReplicatedSlapdPair(dir));
  DTRUST_RETURN_IF_ERROR(pair->Configure(options));
  DTRUST_RETURN_IF_ERROR(pair->Launch());
  return pair;
}

ReplicatedSlapdPair::~ReplicatedSlapdPair() {
  for (std::unique_ptr<Provider>& provider : providers_) provider.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

const ReplicatedSlapdPair::Provider& ReplicatedSlapdPair::provider(
    int i) const {
  if (i != 0 && i != 1) std::abort();
  return *providers_[i];
}

absl::Status ReplicatedSlapdPair::Stop(int i) {
  if (i != 0 && i != 1) {
    return absl::InvalidArgumentError(absl::StrCat("no provider ", i));
  }
  return providers_[i]->process_->Stop();
}

absl::Status ReplicatedSlapdPair::Restart(int i) {
  if (i != 0 && i != 1) {
    return absl::InvalidArgumentError(absl::StrCat("no provider ", i));
  }
  return providers_[i]->process_->Launch();
}

absl::Status ReplicatedSlapdPair::Configure(const Options& options) {
  suffix_ = options.suffix;
  DTRUST_ASSIGN_OR_RETURN(const std::string suffix_entry,
                          SuffixEntryLdif(suffix_));
  bind_dn_ = absl::StrCat("cn=dtrustd,", suffix_);
  bind_password_ = "dtrustd-test-password";
  password_file_ = dir_ + "/bind.pw";
  DTRUST_RETURN_IF_ERROR(WriteTestFile(password_file_, bind_password_));
  const std::string replicator_dn = absl::StrCat("cn=replicator,", suffix_);
  const std::string data_ldif = dir_ + "/data.ldif";
  DTRUST_RETURN_IF_ERROR(WriteTestFile(
      data_ldif, absl::StrCat(suffix_entry, SyncedAttributes(1), "\n",      //
                              "dn: ", bind_dn_, "\n",                       //
                              "objectClass: applicationProcess\n",          //
                              "objectClass: simpleSecurityObject\n",        //
                              "cn: dtrustd\n",                              //
                              "userPassword: ", bind_password_, "\n",       //
                              SyncedAttributes(2), "\n",                    //
                              "dn: ", replicator_dn, "\n",                  //
                              "objectClass: applicationProcess\n",          //
                              "objectClass: simpleSecurityObject\n",        //
                              "cn: replicator\n",                           //
                              "userPassword: ", kReplicatorPassword, "\n",  //
                              SyncedAttributes(3))));

  const std::string peer_dn =
      absl::StrCat("gidNumber=", getegid(), "+uidNumber=", geteuid(),
                   ",cn=peercred,cn=external,cn=auth");
  TestDatabase database;
  database.suffix = suffix_;
  database.root_dn = absl::StrCat("cn=root,", suffix_);
  database.no_sync = true;
  database.access = {
      absl::StrCat("to attrs=userPassword by dn.exact=\"", replicator_dn,
                   "\" read by anonymous auth by * none"),
      absl::StrCat("to dn.subtree=\"", suffix_, "\" by dn.exact=\"",
                   replicator_dn, "\" read by dn.exact=\"", bind_dn_,
                   "\" write by dn.exact=\"", peer_dn, "\" write by * none")};
  database.limits = {
      absl::StrCat("dn.exact=\"", bind_dn_, "\" size=unlimited time=unlimited"),
      absl::StrCat("dn.exact=\"", replicator_dn,
                   "\" size=unlimited time=unlimited")};

  std::array<int, 2> ports;
  for (int& port : ports) {
    DTRUST_ASSIGN_OR_RETURN(port, FreeLoopbackPort());
  }
  if (ports[0] == ports[1]) {
    return absl::InternalError("got the same free port twice");
  }
  for (int i = 0; i < 2; ++i) {
    const std::string dir = absl::StrCat(dir_, "/p", i);
    database.directory = dir + "/data";
    for (const std::string& path : {dir, database.directory}) {
      if (mkdir(path.c_str(), 0700) != 0) {
        return absl::InternalError(ErrnoMessage("mkdir " + path));
      }
    }
    providers_[i] =
        absl::WrapUnique(new Provider(dir, ports[i], bind_dn_, password_file_));
    TestReplication replication;
    replication.server_id = i + 1;
    replication.provider_uri =
        absl::StrCat("ldap://127.0.0.1:", ports[1 - i], "/");
    replication.bind_dn = replicator_dn;
    replication.password = kReplicatorPassword;
    const std::string conf_path = dir + "/slapd.conf";
    DTRUST_RETURN_IF_ERROR(
        WriteTestFile(conf_path, TestSlapdConf(dir, database, &replication)));
    DTRUST_ASSIGN_OR_RETURN(CommandResult data,
                            RunCommand(dir, {kSlapadd, "-f", conf_path, "-w",
                                             "-b", suffix_, "-l", data_ldif}));
    if (!data.ok()) {
      return absl::InternalError(
          data.Describe(absl::StrCat("slapadd (provider ", i, ")")));
    }
    const Provider& provider = *providers_[i];
    providers_[i]->process_ = std::make_unique<SlapdProcess>(
        dir,
        std::vector<std::string>{
            kSlapd, "-f", conf_path, "-h",
            absl::StrCat(provider.uri(), " ", provider.ldapi_uri()), "-d",
            "none"},
        provider.uri(), kStopGrace);
  }
  return absl::OkStatus();
}

absl::Status ReplicatedSlapdPair::Launch() {
  for (const std::unique_ptr<Provider>& provider : providers_) {
    DTRUST_RETURN_IF_ERROR(provider->process_->Launch());
  }
  for (int i = 0; i < 2; ++i) {
    DTRUST_RETURN_IF_ERROR(AwaitEntry(i, suffix_, true));
    DTRUST_RETURN_IF_ERROR(AwaitEntry(i, bind_dn_, true));
  }
  // One change each way: made on 0, seen on 1; undone on 1, seen on 0.
  const std::string probe = absl::StrCat("cn=replication-probe,", suffix_);
  DTRUST_RETURN_IF_ERROR(providers_[0]->LdapModify(
      absl::StrCat("dn: ", probe, "\nobjectClass: applicationProcess\n",
                   "cn: replication-probe\n")));
  DTRUST_RETURN_IF_ERROR(AwaitEntry(1, probe, true));
  DTRUST_RETURN_IF_ERROR(providers_[1]->LdapModify(
      absl::StrCat("dn: ", probe, "\nchangetype: delete\n")));
  return AwaitEntry(0, probe, false);
}

absl::Status ReplicatedSlapdPair::AwaitEntry(int i, const std::string& dn,
                                             bool present) const {
  const absl::Time deadline = absl::Now() + kReplicationTimeout;
  absl::Status last = absl::OkStatus();
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> found = providers_[i]->LdapSearch(
        suffix_, absl::StrCat("(entryDN=", dn, ")"), {"1.1"});
    if (found.ok() && absl::StrContains(*found, "dn: ") == present) {
      return absl::OkStatus();
    }
    last = found.status();
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "provider ", i, ": ", dn, present ? " did not appear" : " did not go",
      " within ", absl::FormatDuration(kReplicationTimeout),
      "; last search: ", last.ToString(), "\n", Logs()));
}

std::string ReplicatedSlapdPair::Logs() const {
  std::string logs;
  for (int i = 0; i < 2; ++i) {
    absl::StrAppend(&logs, "provider ", i, " (", providers_[i]->uri(),
                    ") log:\n", providers_[i]->Log(), "\n");
  }
  return logs;
}

}  // namespace dtrust::testing
