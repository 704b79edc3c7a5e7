// Configuration text for the test slapds (SlapdFixture,
// ReplicatedSlapdPair): one back-mdb database with the core, cosine and
// dtrust schemas and the dtrust indexes. Pure functions, thread-safe.
#ifndef DTRUST_TESTS_TESTING_SLAPD_TEST_CONFIG_H_
#define DTRUST_TESTS_TESTING_SLAPD_TEST_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testing/test_tls.h"

namespace dtrust::testing {

struct TestDatabase {
  std::string suffix;
  std::string directory;  // Must exist.
  // The rootdn, without a password (no one can bind as it); syncrepl
  // writes as this DN. "" for none.
  std::string root_dn;
  std::vector<std::string> access;  // "to ... by ..." rules, in order.
  std::vector<std::string> limits;  // "<who> <limit>..." (slapd.conf form).
  // RFC 4533 content sync: the syncprov overlay (checkpoint every 100
  // writes or 5 minutes, a session log of 10000 changes) and an equality
  // index on entryUUID and entryCSN.
  bool content_sync = true;
  // With content_sync: syncprov-reloadhint on, so a consumer whose cookie is
  // too old to resume from is told e-syncRefreshRequired (RFC 4533 3.4)
  // instead of getting a full refresh unasked.
  bool reload_hint = false;
  // dbnosync: no fsync per write. Survives killed processes, not OS crashes.
  bool no_sync = false;
  // security ssf=1: operations on the database over plain ldap:// are
  // refused ("confidentiality required"); TLS and ldapi:// pass.
  bool tls_only = false;
};

// OpenLDAP 2.5 multi-provider replication with one other provider.
struct TestReplication {
  int server_id = 0;         // 1..4095, different on each provider.
  std::string provider_uri;  // The other provider.
  std::string bind_dn;       // Simple bind at the other provider.
  std::string password;      // No white space or quotes.
};

// slapd.conf text. pidfile and argsfile go to `dir`. With `replication`:
// its serverID, a refreshAndPersist syncrepl consumer of the other provider
// (retrying every second, 1 s timeouts) and `multiprovider on`; needs
// content_sync and a root_dn. With `tls`: slapd's certificate and key for
// StartTLS and ldaps:// listeners (TLSCertificateFile/KeyFile).
std::string TestSlapdConf(const std::string& dir, const TestDatabase& database,
                          const TestReplication* replication = nullptr,
                          const TlsFiles* tls = nullptr);

// The same (without replication) as LDIF for `slapadd -n0 -F DIR`, with the
// dtrust schema from deploy/ldap/dtrust.ldif, as olcDatabase={1}mdb.
// `config_manager` (a DN; "" for none) may manage cn=config itself. `tls`:
// as for TestSlapdConf (olcTLSCertificateFile/KeyFile).
std::string TestCnConfigLdif(const std::string& dir,
                             const TestDatabase& database,
                             const std::string& config_manager,
                             const TlsFiles* tls = nullptr);

// The LDIF of the suffix entry itself (no trailing blank line), by its first
// RDN: dc= (dcObject + organization), o= or ou=; InvalidArgument otherwise.
absl::StatusOr<std::string> SuffixEntryLdif(const std::string& suffix);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_SLAPD_TEST_CONFIG_H_
