#include "tests/testing/slapd_test_config.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace dtrust::testing {
namespace {

constexpr char kSchemaDir[] = "/etc/ldap/schema";
constexpr char kModuleDir[] = "/usr/lib/ldap";
constexpr char kDtrustSchema[] = DTRUST_SOURCE_DIR "/deploy/ldap/dtrust.schema";
constexpr char kDtrustLdif[] = DTRUST_SOURCE_DIR "/deploy/ldap/dtrust.ldif";

std::vector<std::string> Indexes(const TestDatabase& database) {
  std::vector<std::string> indexes = {
      "objectClass,cn eq",
      "dtrustCertSha256,dtrustSpkiSha256,dtrustMailDomain eq"};
  if (database.content_sync) indexes.push_back("entryUUID,entryCSN eq");
  return indexes;
}

std::vector<std::string> Modules(const TestDatabase& database) {
  std::vector<std::string> modules = {"back_mdb"};
  if (database.content_sync) modules.push_back("syncprov");
  return modules;
}

}  // namespace

std::string TestSlapdConf(const std::string& dir, const TestDatabase& database,
                          const TestReplication* replication,
                          const TlsFiles* tls) {
  std::string conf =
      absl::StrCat("include ", kSchemaDir, "/core.schema\n",    //
                   "include ", kSchemaDir, "/cosine.schema\n",  //
                   "include ", kDtrustSchema, "\n",             //
                   "pidfile ", dir, "/slapd.pid\n",             //
                   "argsfile ", dir, "/slapd.args\n",           //
                   "modulepath ", kModuleDir, "\n");
  for (const std::string& module : Modules(database)) {
    absl::StrAppend(&conf, "moduleload ", module, "\n");
  }
  if (tls != nullptr) {
    absl::StrAppend(&conf, "TLSCertificateFile ", tls->cert_file, "\n",
                    "TLSCertificateKeyFile ", tls->key_file, "\n");
  }
  if (replication != nullptr) {
    absl::StrAppend(&conf, "serverID ", replication->server_id, "\n");
  }
  absl::StrAppend(&conf, "database mdb\n",                 //
                  "suffix \"", database.suffix, "\"\n",    //
                  "directory ", database.directory, "\n",  //
                  "maxsize 1073741824\n");
  if (!database.root_dn.empty()) {
    absl::StrAppend(&conf, "rootdn \"", database.root_dn, "\"\n");
  }
  if (database.no_sync) absl::StrAppend(&conf, "dbnosync\n");
  if (database.tls_only) absl::StrAppend(&conf, "security ssf=1\n");
  for (const std::string& index : Indexes(database)) {
    absl::StrAppend(&conf, "index ", index, "\n");
  }
  for (const std::string& limit : database.limits) {
    absl::StrAppend(&conf, "limits ", limit, "\n");
  }
  for (const std::string& rule : database.access) {
    absl::StrAppend(&conf, "access ", rule, "\n");
  }
  if (replication != nullptr) {
    absl::StrAppend(&conf,
                    "syncrepl rid=001 provider=", replication->provider_uri,
                    " bindmethod=simple binddn=\"", replication->bind_dn,
                    "\" credentials=", replication->password, " searchbase=\"",
                    database.suffix,
                    "\" type=refreshAndPersist retry=\"1 +\" timeout=1 "
                    "network-timeout=1\n",
                    "multiprovider on\n");
  }
  if (database.content_sync) {
    absl::StrAppend(&conf, "overlay syncprov\n",    //
                    "syncprov-checkpoint 100 5\n",  //
                    "syncprov-sessionlog 10000\n");
    if (database.reload_hint) {
      absl::StrAppend(&conf, "syncprov-reloadhint TRUE\n");
    }
  }
  return conf;
}

std::string TestCnConfigLdif(const std::string& dir,
                             const TestDatabase& database,
                             const std::string& config_manager,
                             const TlsFiles* tls) {
  std::string ldif = absl::StrCat("dn: cn=config\n",                    //
                                  "objectClass: olcGlobal\n",           //
                                  "cn: config\n",                       //
                                  "olcPidFile: ", dir, "/slapd.pid\n",  //
                                  "olcArgsFile: ", dir, "/slapd.args\n");
  if (tls != nullptr) {
    absl::StrAppend(&ldif, "olcTLSCertificateFile: ", tls->cert_file, "\n",
                    "olcTLSCertificateKeyFile: ", tls->key_file, "\n");
  }
  absl::StrAppend(&ldif, "\n",                     //
                  "dn: cn=module{0},cn=config\n",  //
                  "objectClass: olcModuleList\n",  //
                  "cn: module{0}\n",               //
                  "olcModulePath: ", kModuleDir, "\n");
  for (const std::string& module : Modules(database)) {
    absl::StrAppend(&ldif, "olcModuleLoad: ", module, "\n");
  }
  absl::StrAppend(&ldif, "\n",                                         //
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
                  "olcAccess: {0}to *");
  if (!config_manager.empty()) {
    absl::StrAppend(&ldif, " by dn.exact=\"", config_manager, "\" manage");
  }
  absl::StrAppend(&ldif, " by * none\n\n",                       //
                  "dn: olcDatabase={1}mdb,cn=config\n",          //
                  "objectClass: olcDatabaseConfig\n",            //
                  "objectClass: olcMdbConfig\n",                 //
                  "olcDatabase: {1}mdb\n",                       //
                  "olcSuffix: ", database.suffix, "\n",          //
                  "olcDbDirectory: ", database.directory, "\n",  //
                  "olcDbMaxSize: 1073741824\n");
  if (!database.root_dn.empty()) {
    absl::StrAppend(&ldif, "olcRootDN: ", database.root_dn, "\n");
  }
  if (database.no_sync) absl::StrAppend(&ldif, "olcDbNoSync: TRUE\n");
  if (database.tls_only) absl::StrAppend(&ldif, "olcSecurity: ssf=1\n");
  for (const std::string& index : Indexes(database)) {
    absl::StrAppend(&ldif, "olcDbIndex: ", index, "\n");
  }
  for (size_t i = 0; i < database.limits.size(); ++i) {
    absl::StrAppend(&ldif, "olcLimits: {", i, "}", database.limits[i], "\n");
  }
  for (size_t i = 0; i < database.access.size(); ++i) {
    absl::StrAppend(&ldif, "olcAccess: {", i, "}", database.access[i], "\n");
  }
  if (database.content_sync) {
    absl::StrAppend(
        &ldif, "\n",                                                  //
        "dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config\n",  //
        "objectClass: olcOverlayConfig\n",                            //
        "objectClass: olcSyncProvConfig\n",                           //
        "olcOverlay: {0}syncprov\n",                                  //
        "olcSpCheckpoint: 100 5\n",                                   //
        "olcSpSessionlog: 10000\n");
    if (database.reload_hint) {
      absl::StrAppend(&ldif, "olcSpReloadHint: TRUE\n");
    }
  }
  return ldif;
}

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
    return absl::InvalidArgumentError(absl::StrCat(
        "test slapd: suffix \"", suffix, "\" must start with dc=, o= or ou="));
  }
  return absl::StrCat("dn: ", suffix, "\n", classes, type, ": ", rdn.second,
                      "\n");
}

}  // namespace dtrust::testing
