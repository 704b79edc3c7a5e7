#include "tests/testing/slapd_fixture.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/base/status_macros.h"
#include "tests/testing/run_command.h"
#include "tests/testing/slapd_test_config.h"

namespace dtrust::testing {
namespace {

constexpr char kSlapd[] = "/usr/sbin/slapd";
constexpr char kSlapadd[] = "/usr/sbin/slapadd";
constexpr absl::Duration kStopGrace = absl::Seconds(5);

std::string ErrnoMessage(absl::string_view what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
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
  DTRUST_RETURN_IF_ERROR(fixture->process_->Launch());
  return fixture;
}

SlapdFixture::~SlapdFixture() {
  process_.reset();  // Stops slapd.
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
  DTRUST_RETURN_IF_ERROR(WriteTestFile(password_file_, bind_password_));
  DTRUST_ASSIGN_OR_RETURN(const int port, FreeLoopbackPort());
  uri_ = absl::StrCat("ldap://127.0.0.1:", port, "/");
  ldapi_uri_ = absl::StrCat("ldapi://", PercentEncode(dir_ + "/ldapi"));
  std::string listeners = absl::StrCat(uri_, " ", ldapi_uri_);
  const bool tls = !options.tls.cert_file.empty();
  if (tls) {
    int ldaps_port = port;
    for (int attempt = 0; ldaps_port == port && attempt < 10; ++attempt) {
      DTRUST_ASSIGN_OR_RETURN(ldaps_port, FreeLoopbackPort());
    }
    ldaps_uri_ = absl::StrCat("ldaps://127.0.0.1:", ldaps_port, "/");
    absl::StrAppend(&listeners, " ", ldaps_uri_);
  }

  TestDatabase database;
  database.suffix = suffix_;
  database.directory = dir_ + "/data";
  database.content_sync = options.content_sync;
  database.reload_hint = options.reload_hint;
  database.tls_only = tls && options.tls_only;
  tools_uri_ = database.tls_only ? ldapi_uri_ : uri_;
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
  database.limits = {absl::StrCat("dn.exact=\"", bind_dn_,
                                  "\" size=unlimited time=unlimited")};

  const std::string data_ldif = dir_ + "/data.ldif";
  DTRUST_RETURN_IF_ERROR(WriteTestFile(
      data_ldif, absl::StrCat(suffix_entry, "\n",                     //
                              "dn: ", bind_dn_, "\n",                 //
                              "objectClass: applicationProcess\n",    //
                              "objectClass: simpleSecurityObject\n",  //
                              "cn: dtrustd\n",                        //
                              "userPassword: ", bind_password_, "\n")));

  std::vector<std::string> slapd_args;
  std::vector<std::string> slapadd_data;
  if (options.mode == ConfigMode::kSlapdConf) {
    const std::string conf_path = dir_ + "/slapd.conf";
    DTRUST_RETURN_IF_ERROR(WriteTestFile(
        conf_path,
        TestSlapdConf(dir_, database, nullptr, tls ? &options.tls : nullptr)));
    slapd_args = {kSlapd, "-f", conf_path, "-h", listeners, "-d", "none"};
    slapadd_data = {kSlapadd, "-f", conf_path, "-b", suffix_, "-l", data_ldif};
  } else {
    const std::string ldif_path = dir_ + "/config.ldif";
    const std::string config_dir = dir_ + "/slapd.d";
    DTRUST_RETURN_IF_ERROR(WriteTestFile(
        ldif_path, TestCnConfigLdif(dir_, database, peer_dn,
                                    tls ? &options.tls : nullptr)));
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
    slapd_args = {kSlapd, "-F", config_dir, "-h", listeners, "-d", "none"};
    slapadd_data = {kSlapadd, "-F", config_dir, "-b", suffix_, "-l", data_ldif};
  }
  DTRUST_ASSIGN_OR_RETURN(CommandResult data, RunCommand(dir_, slapadd_data));
  if (!data.ok()) return absl::InternalError(data.Describe("slapadd (data)"));
  process_ = std::make_unique<SlapdProcess>(dir_, std::move(slapd_args), uri_,
                                            kStopGrace);
  return absl::OkStatus();
}

absl::Status SlapdFixture::Stop() { return process_->Stop(); }

absl::Status SlapdFixture::Restart() { return process_->Launch(); }

absl::Status SlapdFixture::Pause() { return process_->Pause(); }

absl::Status SlapdFixture::Resume() { return process_->Resume(); }

absl::StatusOr<std::string> SlapdFixture::LdapSearch(
    const std::string& base, const std::string& filter,
    const std::vector<std::string>& attrs) const {
  return LdapTools(dir_, tools_uri_, bind_dn_, password_file_)
      .Search(base, filter, attrs);
}

absl::Status SlapdFixture::LdapModify(const std::string& ldif) const {
  return LdapTools(dir_, tools_uri_, bind_dn_, password_file_).Modify(ldif);
}

}  // namespace dtrust::testing
