// A real, private slapd for integration tests.
#ifndef DTRUST_TESTS_TESTING_SLAPD_FIXTURE_H_
#define DTRUST_TESTS_TESTING_SLAPD_FIXTURE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/slapd_process.h"
#include "tests/testing/test_tls.h"

namespace dtrust::testing {

// One slapd (back-mdb, core + cosine + dtrust schema, the dtrust indexes) in
// its own temporary directory under /tmp, listening on
// ldap://127.0.0.1:<free port>/ and on a unix socket (ldapi://); with
// Options::tls also on ldaps://127.0.0.1:<another free port>/, and offering
// StartTLS on ldap://.
// Unless Options::content_sync is false it is an RFC 4533 content sync
// provider: the syncprov overlay (checkpoint 100 5, sessionlog 10000) and
// an entryUUID,entryCSN equality index.
//
// The database holds the suffix entry and a service account bind_dn() (not
// the rootdn; there is none) that may read and write everything under the
// suffix, without size or time limits (so a refreshAndPersist search of a
// large tree works); so may SASL EXTERNAL over ldapi:// as this process's
// uid/gid, which in kCnConfig mode may also manage cn=config (the database
// is olcDatabase={1}mdb,cn=config).
// Anonymous users get nothing but the root DSE and the schema.
// ou=servers and ou=domains are NOT created: LdapDirectory::Connect does that.
//
// slapd runs in the foreground as a child of the thread that started it and
// gets SIGKILL if that thread exits (PR_SET_PDEATHSIG), so start it from the
// test's main thread (or a thread that outlives it). Works as root.
// The destructor stops slapd (SIGTERM, SIGKILL after 5 s) and removes the
// directory. Thread-compatible; the const methods may run concurrently.
class SlapdFixture {
 public:
  enum class ConfigMode {
    kSlapdConf,  // slapd -f slapd.conf including dtrust.schema.
    kCnConfig,   // slapd -F slapd.d, made by slapadd -n0 from dtrust.ldif.
  };
  struct Options {
    ConfigMode mode = ConfigMode::kSlapdConf;
    // Its first RDN must be dc=, o= or ou=.
    std::string suffix = "dc=example,dc=org";
    // The syncprov overlay and its index (see above). false: a directory
    // without content sync, e.g. to apply deploy/ldap/syncprov.ldif to.
    bool content_sync = true;
    // syncprov-reloadhint (see TestDatabase::reload_hint).
    bool reload_hint = false;
    // slapd's TLS certificate and key (see tests/testing/test_tls.h; slapd
    // runs as this process's user and must be able to read them). Empty: no
    // TLS, no ldaps:// listener.
    TlsFiles tls{};
    // With tls: the database refuses operations over plain ldap:// (see
    // TestDatabase::tls_only); LdapSearch/LdapModify then go over ldapi://.
    bool tls_only = false;
  };

  // Sets up and starts slapd; returns once it answers LDAP (at most ~10 s).
  // On failure the error carries slapd's (or slapadd's) output.
  static absl::StatusOr<std::unique_ptr<SlapdFixture>> Start();
  static absl::StatusOr<std::unique_ptr<SlapdFixture>> Start(
      const Options& options);

  SlapdFixture(const SlapdFixture&) = delete;
  SlapdFixture& operator=(const SlapdFixture&) = delete;
  ~SlapdFixture();

  // "ldap://127.0.0.1:PORT/"; the same after Restart().
  const std::string& uri() const { return uri_; }
  // "ldapi://%2Ftmp%2F...": for SASL EXTERNAL.
  const std::string& ldapi_uri() const { return ldapi_uri_; }
  // "ldaps://127.0.0.1:PORT/" with Options::tls, else "".
  const std::string& ldaps_uri() const { return ldaps_uri_; }
  const std::string& suffix() const { return suffix_; }
  // "cn=dtrustd,<suffix>".
  const std::string& bind_dn() const { return bind_dn_; }
  const std::string& bind_password() const { return bind_password_; }
  // A file holding bind_password() (no trailing newline).
  const std::string& bind_password_file() const { return password_file_; }
  // slapd's pid while it runs, -1 when stopped.
  pid_t pid() const { return process_->pid(); }

  // Stops slapd, keeping its data. Idempotent.
  absl::Status Stop();
  // Starts the stopped slapd again on the same port with the same data.
  // (Not named Start: that is the factory.)
  absl::Status Restart();
  // Freezes slapd (SIGSTOP) and returns once it is stopped: the kernel still
  // accepts connections, but nothing answers - a hung server.
  absl::Status Pause();
  // Lets a paused slapd run again (SIGCONT).
  absl::Status Resume();

  // Runs the real `ldapsearch -x -LLL -o ldif-wrap=no -H uri() -D bind_dn()
  // -y bind_password_file() -b base filter attrs...` (ldapi_uri() with
  // Options::tls_only); returns its stdout, or an error with its exit code
  // and stderr.
  absl::StatusOr<std::string> LdapSearch(
      const std::string& base, const std::string& filter,
      const std::vector<std::string>& attrs = {}) const;
  // Runs the real `ldapmodify -x` as bind_dn() with `ldif` (changetype
  // records; entries without changetype are added).
  absl::Status LdapModify(const std::string& ldif) const;

 private:
  explicit SlapdFixture(std::string dir) : dir_(std::move(dir)) {}

  // Writes the configuration and the initial data, and creates process_.
  absl::Status Configure(const Options& options);

  const std::string dir_;  // Owned temporary directory.
  std::string uri_;
  std::string ldapi_uri_;
  std::string ldaps_uri_;
  std::string tools_uri_;  // For LdapSearch/LdapModify.
  std::string suffix_;
  std::string bind_dn_;
  std::string bind_password_;
  std::string password_file_;
  std::unique_ptr<SlapdProcess> process_;  // Set by Configure().
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_SLAPD_FIXTURE_H_
