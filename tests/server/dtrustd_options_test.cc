#include "server/dtrustd_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<DtrustdOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dtrustd");
  return ParseDtrustdOptions(args);
}

TEST(DtrustdOptionsTest, DefaultsToTheEmbeddedDirectoryOnLoopback) {
  auto options = Parse({});
  ASSERT_TRUE(options.ok());
  EXPECT_THAT(options->listen,
              ElementsAre("unix:/run/dtrust/dtrustd.sock", "127.0.0.1:7750"));
  EXPECT_EQ(options->anonymous_role, Role::kReader);
  EXPECT_TRUE(options->admin_clients.empty());
  EXPECT_TRUE(options->tls_cert_pem.empty());
  EXPECT_TRUE(options->ldap_uris.empty());
  EXPECT_EQ(options->data_dir, "/var/lib/dtrust");
  EXPECT_EQ(options->base_dn, "o=dtrust");
}

TEST(DtrustdOptionsTest, GrpcLimits) {
  auto defaults = Parse({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->grpc_max_streams, 32);
  EXPECT_EQ(defaults->grpc_max_threads, 64);
  EXPECT_EQ(defaults->grpc_max_memory_mib, 32);
  EXPECT_EQ(defaults->health_max_watches, 16);

  auto options =
      Parse({"--grpc-max-streams", "8", "--grpc-max-threads", "200",
             "--grpc-max-memory", "256", "--health-max-watches", "100"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->grpc_max_streams, 8);
  EXPECT_EQ(options->grpc_max_threads, 200);
  EXPECT_EQ(options->grpc_max_memory_mib, 256);
  EXPECT_EQ(options->health_max_watches, 100);

  EXPECT_THAT(Parse({"--grpc-max-threads", "0"}).status().message(),
              HasSubstr("--grpc-max-threads: \"0\" is not a number from 1"));
  EXPECT_THAT(Parse({"--grpc-max-memory", "lots"}).status().message(),
              HasSubstr("--grpc-max-memory: \"lots\""));
  // Watchers must leave threads for other calls.
  EXPECT_THAT(Parse({"--grpc-max-threads", "20", "--health-max-watches", "16"})
                  .status()
                  .message(),
              HasSubstr("--health-max-watches (16) must be at most "
                        "--grpc-max-threads (20) minus 8"));
}

TEST(DtrustdOptionsTest, WatchBounds) {
  auto defaults = Parse({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->watch_max_watchers, 16);
  EXPECT_EQ(defaults->watch_max_message_bytes, 1 << 20);
  EXPECT_EQ(defaults->watch_send_deadline, absl::Seconds(5));
  EXPECT_EQ(defaults->watch_change_log, 10000);

  auto options =
      Parse({"--watch-max-watchers", "4", "--watch-max-message-bytes", "65536",
             "--watch-send-deadline", "500ms", "--watch-change-log", "100"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->watch_max_watchers, 4);
  EXPECT_EQ(options->watch_max_message_bytes, 65536);
  EXPECT_EQ(options->watch_send_deadline, absl::Milliseconds(500));
  EXPECT_EQ(options->watch_change_log, 100);

  EXPECT_THAT(
      Parse({"--watch-max-message-bytes", "5000000"}).status().message(),
      HasSubstr("--watch-max-message-bytes: \"5000000\""));
  EXPECT_THAT(Parse({"--watch-send-deadline", "0s"}).status().message(),
              HasSubstr("--watch-send-deadline: \"0s\""));
  EXPECT_THAT(Parse({"--watch-change-log", "0"}).status().message(),
              HasSubstr("--watch-change-log: \"0\""));
  // With Health's, watchers must leave threads for other calls.
  EXPECT_THAT(Parse({"--watch-max-watchers", "41"}).status().message(),
              HasSubstr("--watch-max-watchers (41) must be at most "
                        "--grpc-max-threads (64) minus 8"));
  EXPECT_TRUE(Parse({"--watch-max-watchers", "40"}).ok());
}

TEST(DtrustdOptionsTest, MetricsListenIsOffByDefaultAndLoopbackOnly) {
  EXPECT_EQ(Parse({})->metrics_listen, "");
  EXPECT_EQ(Parse({"--metrics-listen", "127.0.0.1:9750"})->metrics_listen,
            "127.0.0.1:9750");
  EXPECT_EQ(Parse({"--metrics-listen", "[::1]:9750"})->metrics_listen,
            "[::1]:9750");
  EXPECT_THAT(Parse({"--metrics-listen", "192.0.2.1:9750"}).status().message(),
              HasSubstr("--metrics-listen 192.0.2.1:9750: not a loopback "
                        "address"));
  EXPECT_EQ(
      Parse({"--metrics-listen", "192.0.2.1:9750", "--metrics-allow-remote"})
          ->metrics_listen,
      "192.0.2.1:9750");
  EXPECT_THAT(Parse({"--metrics-listen", "127.0.0.1"}).status().message(),
              HasSubstr("is not HOST:PORT"));
  EXPECT_THAT(Parse({"--metrics-allow-remote"}).status().message(),
              HasSubstr("--metrics-allow-remote needs --metrics-listen"));
}

TEST(DtrustdOptionsTest, ExternalDirectoryWithSimpleBind) {
  const std::string password_file = testing::WriteTempFile("pw", "s3cret\n");
  auto options =
      Parse({"--ldap-uri", "ldap://a:389", "--ldap-uri=ldap://b", "--base-dn",
             "dc=example,dc=org", "--bind-dn", "cn=dtrustd,dc=example,dc=org",
             "--bind-password-file", password_file, "--ldap-timeout", "1500ms",
             "--listen", "unix:/run/dtrust.sock"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->ldap_uris, ElementsAre("ldap://a:389", "ldap://b"));
  EXPECT_EQ(options->bind_password, "s3cret");
  EXPECT_EQ(options->ldap_timeout, absl::Milliseconds(1500));
  EXPECT_THAT(options->listen, ElementsAre("unix:/run/dtrust.sock"));
}

TEST(DtrustdOptionsTest, BadUsageNamesTheFlag) {
  EXPECT_THAT(Parse({"--bogus"}).status().message(),
              HasSubstr("unknown option \"--bogus\""));
  EXPECT_THAT(Parse({"--listen"}).status().message(),
              HasSubstr("--listen needs a value"));
  EXPECT_THAT(Parse({"--ldap-timeout", "soon"}).status().message(),
              HasSubstr("--ldap-timeout"));
  EXPECT_THAT(
      Parse({"--ldap-uri", "ldap://a", "--data-dir", "/x"}).status().message(),
      HasSubstr("exclude each other"));
  EXPECT_THAT(Parse({"--bind-dn", "cn=x"}).status().message(),
              HasSubstr("need --ldap-uri"));
  EXPECT_THAT(
      Parse({"--ldap-uri", "ldap://a", "--bind-dn", "cn=x"}).status().message(),
      HasSubstr("go together"));
  EXPECT_THAT(Parse({"--ldap-uri", "ldap://a", "--bind-dn", "cn=x",
                     "--bind-password-file", "/nonexistent/pw"})
                  .status()
                  .message(),
              HasSubstr("/nonexistent/pw: cannot be read"));
  EXPECT_THAT(Parse({"--log-level", "loud"}).status().message(),
              HasSubstr("--log-level"));
  EXPECT_THAT(Parse({"--log-format", "xml"}).status().message(),
              HasSubstr("--log-format: \"xml\" is not one of text, json"));
}

TEST(DtrustdOptionsTest, LdapTlsFlags) {
  const std::string ca =
      testing::WriteTempFile("ca.pem", testing::MakeTestCert().pem);
  auto options = Parse({"--ldap-uri", "ldaps://ds1", "--ldap-uri", "ldap://ds2",
                        "--ldap-ca", ca, "--ldap-starttls"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->ldap_ca_file, ca);
  EXPECT_TRUE(options->ldap_start_tls);
  // ldaps:// without --ldap-ca: the system store (LdapOptions decides).
  options = Parse({"--ldap-uri", "LDAPS://ds1"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->ldap_ca_file, "");
  EXPECT_FALSE(options->ldap_start_tls);
  // StartTLS alone, and next to a local socket that stays as it is.
  EXPECT_TRUE(Parse({"--ldap-uri", "ldapi://%2Frun%2Fslapd", "--ldap-uri",
                     "ldap://ds2", "--ldap-starttls"})
                  .ok());
}

TEST(DtrustdOptionsTest, BadLdapTlsFlagsSayWhatIsWrong) {
  const std::string ca =
      testing::WriteTempFile("ca.pem", testing::MakeTestCert().pem);
  const auto error = [](std::vector<std::string> args) {
    return std::string(Parse(std::move(args)).status().message());
  };
  EXPECT_THAT(error({"--ldap-ca", ca}), HasSubstr("need --ldap-uri"));
  EXPECT_THAT(error({"--ldap-starttls"}), HasSubstr("need --ldap-uri"));
  EXPECT_THAT(error({"--ldap-uri", "ldaps://ds", "--ldap-ca"}),
              HasSubstr("--ldap-ca needs a value"));
  EXPECT_THAT(
      error({"--ldap-uri", "ldaps://ds", "--ldap-ca", "/nonexistent/ca"}),
      HasSubstr("/nonexistent/ca"));
  EXPECT_THAT(error({"--ldap-uri", "ldaps://ds", "--ldap-ca", "/tmp"}),
              HasSubstr("--ldap-ca"));
  const std::string key =
      testing::WriteTempFile("key.pem", testing::MakeTestCert().key_pem);
  EXPECT_THAT(error({"--ldap-uri", "ldaps://ds", "--ldap-ca", key}),
              HasSubstr("holds no PEM certificate"));
  // A CA for an ldap:// URI that would stay plain.
  EXPECT_THAT(error({"--ldap-uri", "ldaps://ds1", "--ldap-uri", "ldap://ds2",
                     "--ldap-ca", ca}),
              HasSubstr("--ldap-uri ldap://ds2 would be a plain connection"));
  EXPECT_THAT(error({"--ldap-uri", "ldaps://ds", "--ldap-starttls"}),
              HasSubstr("applies to ldap:// URIs"));
  EXPECT_THAT(
      error({"--ldap-uri", "ldap://ds1 ldaps://ds2", "--ldap-starttls"}),
      HasSubstr("give each URI its own --ldap-uri"));
}

TEST(DtrustdOptionsTest, PostfixServicesAreOffByDefault) {
  auto options = Parse({});
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->policy_listen.empty());
  EXPECT_TRUE(options->socketmap_listen.empty());
  EXPECT_EQ(options->socketmap_name, "");
}

TEST(DtrustdOptionsTest, PostfixServiceAddressesAreRepeatable) {
  auto options =
      Parse({"--policy-listen", "inet:127.0.0.1:10040", "--policy-listen",
             "unix:/run/dtrust/policy.sock", "--socketmap-listen=inet:[::1]:0",
             "--socketmap-name", "dtrust_tls"});
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->policy_listen.size(), 2u);
  EXPECT_EQ(options->policy_listen[0].ToString(), "inet:127.0.0.1:10040");
  EXPECT_EQ(options->policy_listen[1].ToString(),
            "unix:/run/dtrust/policy.sock");
  ASSERT_EQ(options->socketmap_listen.size(), 1u);
  EXPECT_EQ(options->socketmap_listen[0].ToString(), "inet:[::1]:0");
  EXPECT_EQ(options->socketmap_name, "dtrust_tls");
}

TEST(DtrustdOptionsTest, BadPostfixServiceFlagsNameTheFlag) {
  EXPECT_THAT(Parse({"--policy-listen", "127.0.0.1:10040"}).status().message(),
              HasSubstr("--policy-listen: listen address \"127.0.0.1:10040\""));
  EXPECT_THAT(
      Parse({"--socketmap-listen", "inet:localhost:1"}).status().message(),
      HasSubstr("--socketmap-listen: listen address"));
  EXPECT_THAT(Parse({"--socketmap-listen"}).status().message(),
              HasSubstr("--socketmap-listen needs a value"));
  EXPECT_THAT(
      Parse({"--socketmap-listen", "unix:/s", "--socketmap-name", "two words"})
          .status()
          .message(),
      HasSubstr("--socketmap-name: \"two words\""));
  EXPECT_THAT(Parse({"--socketmap-name", "dtrust"}).status().message(),
              HasSubstr("--socketmap-name needs --socketmap-listen"));
}

TEST(DtrustdOptionsTest, PostfixSocketBoundsHaveDefaultsForBusyMailSystems) {
  auto options = Parse({});
  ASSERT_TRUE(options.ok());
  const PostfixLimits& limits = options->postfix_limits;
  EXPECT_EQ(limits.request_timeout, absl::Seconds(10));
  // Over Postfix's smtpd_policy_service_max_idle of 300 s.
  EXPECT_EQ(limits.policy_idle_timeout, absl::Seconds(330));
  EXPECT_EQ(limits.socketmap_idle_timeout, absl::Seconds(60));
  EXPECT_EQ(limits.max_connections, 20'000);
  EXPECT_EQ(limits.max_connections_per_client, 1'000);
  EXPECT_EQ(limits.decision_threads, 4);
}

TEST(DtrustdOptionsTest, PostfixSocketBoundsAreSetByFlags) {
  auto options =
      Parse({"--request-timeout=2s", "--policy-idle-timeout=10m",
             "--socketmap-idle-timeout", "15s", "--max-connections=20000",
             "--max-connections-per-client=500", "--decision-threads=8"});
  ASSERT_TRUE(options.ok()) << options.status();
  const PostfixLimits& limits = options->postfix_limits;
  EXPECT_EQ(limits.request_timeout, absl::Seconds(2));
  EXPECT_EQ(limits.policy_idle_timeout, absl::Minutes(10));
  EXPECT_EQ(limits.socketmap_idle_timeout, absl::Seconds(15));
  EXPECT_EQ(limits.max_connections, 20'000);
  EXPECT_EQ(limits.max_connections_per_client, 500);
  EXPECT_EQ(limits.decision_threads, 8);
}

TEST(DtrustdOptionsTest, BadPostfixSocketBoundsNameTheFlag) {
  EXPECT_THAT(Parse({"--request-timeout=0s"}).status().message(),
              HasSubstr("--request-timeout: \"0s\" is not a positive "
                        "duration"));
  EXPECT_THAT(Parse({"--policy-idle-timeout=soon"}).status().message(),
              HasSubstr("--policy-idle-timeout: \"soon\""));
  EXPECT_THAT(Parse({"--max-connections=0"}).status().message(),
              HasSubstr("--max-connections: \"0\" is not a number from 1"));
  EXPECT_THAT(Parse({"--max-connections-per-client=many"}).status().message(),
              HasSubstr("--max-connections-per-client: \"many\""));
  EXPECT_THAT(Parse({"--decision-threads=65"}).status().message(),
              HasSubstr("--decision-threads: \"65\" is not a number from 1 "
                        "to 64"));
}

TEST(DtrustdOptionsTest, RequireProofForIsRepeatableAndNormalized) {
  EXPECT_TRUE(Parse({})->require_proof_for.empty());
  auto options = Parse({"--require-proof-for", "Org-B.example.",
                        "--require-proof-for=org-a.example",
                        "--require-proof-for", "org-b.example"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->require_proof_for,
              ElementsAre("org-a.example", "org-b.example"));
  EXPECT_THAT(
      Parse({"--require-proof-for", "org b.example"}).status().message(),
      HasSubstr("--require-proof-for"));
  EXPECT_THAT(Parse({"--require-proof-for"}).status().message(),
              HasSubstr("--require-proof-for needs a value"));
}

TEST(DtrustdOptionsTest, MirrorFollowsTheDirectoryLiveByDefault) {
  auto options = Parse({});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->directory_sync, SyncMode::kRefreshAndPersist);
  EXPECT_EQ(options->max_staleness, absl::Minutes(5));

  options = Parse({"--directory-sync=poll", "--poll-interval", "10s",
                   "--max-staleness", "1m"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->directory_sync, SyncMode::kPoll);
  EXPECT_EQ(options->poll_interval, absl::Seconds(10));
  EXPECT_EQ(options->max_staleness, absl::Minutes(1));
  EXPECT_EQ(Parse({"--directory-sync", "none"})->directory_sync,
            SyncMode::kNone);
}

TEST(DtrustdOptionsTest, BadMirrorFlagsNameTheFlag) {
  EXPECT_THAT(Parse({"--directory-sync", "push"}).status().message(),
              HasSubstr("--directory-sync"));
  EXPECT_THAT(Parse({"--max-staleness", "0s"}).status().message(),
              HasSubstr("--max-staleness"));
  // Polling less often than the data may age would make it flap.
  EXPECT_THAT(Parse({"--directory-sync=poll", "--poll-interval", "10m"})
                  .status()
                  .message(),
              HasSubstr("--poll-interval"));
}

TEST(DtrustdOptionsTest, PollingReadsTheDtrustSchemaByDefault) {
  auto options = Parse({"--directory-sync=poll", "--poll-interval", "10s"});
  ASSERT_TRUE(options.ok()) << options.status();
  const DirectoryMapping& mapping = options->directory_mapping;
  EXPECT_EQ(mapping.id_attribute, "entryUUID");
  EXPECT_EQ(mapping.change_attribute, ChangeAttribute::kModifyTimestamp);
  EXPECT_EQ(mapping.full_load_every, 10);
  EXPECT_FALSE(mapping.foreign.has_value());

  options = Parse({"--directory-sync=poll", "--poll-change-attr", "usnchanged",
                   "--map-id-attr", "objectGUID", "--poll-full-every=3"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->directory_mapping.change_attribute,
            ChangeAttribute::kUsnChanged);
  EXPECT_EQ(options->directory_mapping.id_attribute, "objectGUID");
  EXPECT_EQ(options->directory_mapping.full_load_every, 3);
}

TEST(DtrustdOptionsTest, ForeignMappingOfAnActiveDirectory) {
  auto options =
      Parse({"--ldap-uri",
             "ldap://dc1.corp.example",
             "--base-dn",
             "DC=corp,DC=example",
             "--directory-sync=poll",
             "--poll-change-attr",
             "uSNChanged",
             "--map-id-attr",
             "objectGUID",
             "--map-server-filter",
             "(&(objectClass=computer)(userCertificate=*))",
             "--map-domain",
             "Org-A.example.",
             "--map-domain",
             "org-a.example",
             "--map-domain",
             "mail.org-a.example",
             "--map-domain-list-dn",
             "CN=Transport Settings,CN=Org,CN=Microsoft Exchange,CN=Services,"
             "CN=Configuration,DC=corp,DC=example",
             "--map-send-secure-attr",
             "msExchTLSSendDomainSecureList",
             "--map-receive-secure-attr",
             "msExchTLSReceiveDomainSecureList"});
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_TRUE(options->directory_mapping.foreign.has_value());
  const ForeignMapping& foreign = *options->directory_mapping.foreign;
  EXPECT_EQ(foreign.server_filter,
            "(&(objectClass=computer)(userCertificate=*))");
  EXPECT_EQ(foreign.server_name_attribute, "dNSHostName");
  EXPECT_EQ(foreign.certificate_attribute, "userCertificate;binary");
  EXPECT_EQ(foreign.domain_attribute, "");
  EXPECT_THAT(foreign.domains,
              ElementsAre("mail.org-a.example", "org-a.example"));
  EXPECT_THAT(foreign.domain_list_dn, ::testing::StartsWith("CN=Transport"));
  EXPECT_EQ(foreign.send_secure_attribute, "msExchTLSSendDomainSecureList");
  EXPECT_EQ(foreign.receive_secure_attribute,
            "msExchTLSReceiveDomainSecureList");

  options = Parse({"--ldap-uri", "ldap://ds", "--directory-sync=poll",
                   "--map-server-filter", "(objectClass=ipaHost)",
                   "--map-server-name-attr", "fqdn", "--map-certificate-attr",
                   "userCertificate", "--map-domain-attr", "associatedDomain"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->directory_mapping.foreign->server_name_attribute, "fqdn");
  EXPECT_EQ(options->directory_mapping.foreign->certificate_attribute,
            "userCertificate");
  EXPECT_EQ(options->directory_mapping.foreign->domain_attribute,
            "associatedDomain");
}

TEST(DtrustdOptionsTest, BadMappingFlagsSayWhatIsWrong) {
  const std::vector<std::string> poll = {"--ldap-uri", "ldap://ds",
                                         "--directory-sync=poll"};
  auto with_poll = [&poll](std::vector<std::string> args) {
    args.insert(args.begin(), poll.begin(), poll.end());
    return Parse(args).status();
  };
  EXPECT_THAT(Parse({"--poll-change-attr", "uSNChanged"}).status().message(),
              HasSubstr("--poll-change-attr needs --directory-sync=poll"));
  EXPECT_THAT(Parse({"--ldap-uri", "ldap://ds", "--map-server-filter",
                     "(objectClass=computer)"})
                  .status()
                  .message(),
              HasSubstr("--map-server-filter needs --directory-sync=poll"));
  EXPECT_THAT(with_poll({"--poll-change-attr", "whenChanged"}).message(),
              HasSubstr("--poll-change-attr: \"whenChanged\""));
  EXPECT_THAT(with_poll({"--poll-full-every", "0"}).message(),
              HasSubstr("--poll-full-every"));
  EXPECT_THAT(with_poll({"--map-id-attr", "entry UUID"}).message(),
              HasSubstr("--map-id-attr: \"entry UUID\" is not an LDAP "
                        "attribute name"));
  EXPECT_THAT(
      with_poll({"--map-server-filter", "objectClass=computer"}).message(),
      HasSubstr("not an LDAP filter in parentheses"));
  EXPECT_THAT(
      with_poll({"--map-certificate-attr", "userCertificate"}).message(),
      HasSubstr("--map-certificate-attr needs --map-server-filter"));
  EXPECT_THAT(with_poll({"--map-domain", "org a"}).message(),
              HasSubstr("--map-domain"));
  const std::vector<std::string> foreign = {"--map-server-filter",
                                            "(objectClass=computer)"};
  auto with_foreign = [&](std::vector<std::string> args) {
    args.insert(args.begin(), foreign.begin(), foreign.end());
    return with_poll(args);
  };
  EXPECT_TRUE(with_foreign({}).ok());
  EXPECT_THAT(with_foreign({"--map-domain-attr", "associatedDomain",
                            "--map-domain", "org-a.example"})
                  .message(),
              HasSubstr("exclude each other"));
  EXPECT_THAT(with_foreign({"--map-send-secure-attr", "ou"}).message(),
              HasSubstr("need --map-domain-list-dn"));
  EXPECT_THAT(with_foreign({"--map-domain-list-dn", "cn=lists"}).message(),
              HasSubstr("--map-domain-list-dn needs --map-send-secure-attr"));
  // The embedded directory has the dtrust schema; nothing to map.
  EXPECT_THAT(Parse({"--directory-sync=poll", "--map-server-filter",
                     "(objectClass=computer)"})
                  .status()
                  .message(),
              HasSubstr("needs --ldap-uri"));
}

TEST(DtrustdOptionsTest, HelpDocumentsEveryFlag) {
  const std::string usage = DtrustdUsage();
  for (const char* flag : {"--listen",
                           "--data-dir",
                           "--ldap-uri",
                           "--base-dn",
                           "--bind-dn",
                           "--bind-password-file",
                           "--sasl-external",
                           "--ldap-ca",
                           "--ldap-starttls",
                           "--ldap-timeout",
                           "--ldap-connections",
                           "--grpc-max-streams",
                           "--grpc-max-threads",
                           "--grpc-max-memory",
                           "--health-max-watches",
                           "--watch-max-watchers",
                           "--watch-max-message-bytes",
                           "--watch-send-deadline",
                           "--watch-change-log",
                           "--log-level",
                           "--log-format",
                           "--policy-listen",
                           "--socketmap-listen",
                           "--socketmap-name",
                           "--require-proof-for",
                           "--directory-sync",
                           "--max-staleness",
                           "--poll-interval",
                           "--poll-change-attr",
                           "--poll-full-every",
                           "--map-id-attr",
                           "--map-server-filter",
                           "--map-server-name-attr",
                           "--map-certificate-attr",
                           "--map-domain-attr",
                           "--map-domain ",
                           "--map-domain-list-dn",
                           "--map-send-secure-attr",
                           "--map-receive-secure-attr"}) {
    EXPECT_THAT(usage, HasSubstr(flag));
  }
  EXPECT_TRUE(Parse({"--help"})->help);
}

TEST(DtrustdOptionsTest, EveryListenIsKept) {
  absl::StatusOr<DtrustdOptions> options =
      Parse({"--listen", "unix:/run/a.sock", "--listen", "127.0.0.1:0",
             "--listen", "[::1]:7750", "--listen", "localhost:1"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->listen, ElementsAre("unix:/run/a.sock", "127.0.0.1:0",
                                           "[::1]:7750", "localhost:1"));
}

TEST(DtrustdOptionsTest, RepeatableFlagsKeepEveryValueOthersTheLast) {
  const std::string a(64, 'a');
  const std::string b(64, 'b');
  absl::StatusOr<DtrustdOptions> options =
      Parse({"--listen=unix:/run/a.sock", "--listen", "unix:/run/b.sock",
             "--ldap-uri=ldap://a", "--ldap-uri", "ldap://b",
             "--admin-client=sha256:" + a, "--admin-client", "sha256:" + b,
             "--base-dn", "o=first", "--base-dn=o=last", "--log-level=debug",
             "--log-level", "error", "--log-format=json"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_THAT(options->listen,
              ElementsAre("unix:/run/a.sock", "unix:/run/b.sock"));
  EXPECT_THAT(options->ldap_uris, ElementsAre("ldap://a", "ldap://b"));
  ASSERT_EQ(options->admin_clients.size(), 2u);
  EXPECT_EQ(options->admin_clients[1].ToHex(), b);
  EXPECT_EQ(options->base_dn, "o=last");
  EXPECT_EQ(options->log_level, LogLevel::kError);
  EXPECT_EQ(options->log_format, LogFormat::kJson);
  EXPECT_EQ(Parse({})->log_format, LogFormat::kText);
}

TEST(DtrustdOptionsTest, EveryStrayArgumentIsAnUnknownOption) {
  for (const std::string stray : {"extra", "-x", "--bogus=1"}) {
    EXPECT_THAT(Parse({"--data-dir", "/x", stray}).status().message(),
                HasSubstr("unknown option \"" + stray + "\""));
  }
  EXPECT_THAT(Parse({"--sasl-external", "yes"}).status().message(),
              HasSubstr("unknown option \"yes\""));
}

TEST(DtrustdOptionsTest, HelpIsGeneratedFromTheFlags) {
  EXPECT_TRUE(Parse({"-h"})->help);
  EXPECT_TRUE(Parse({"--data-dir", "/x", "--help"})->help);
  const std::string usage = DtrustdUsage();
  EXPECT_THAT(usage, HasSubstr("Usage: dtrustd [OPTIONS]"));
  EXPECT_THAT(usage, HasSubstr("--listen ADDR"));
  EXPECT_THAT(usage,
              HasSubstr("unix:/run/dtrust/dtrustd.sock and 127.0.0.1:7750)"));
  EXPECT_THAT(usage, HasSubstr("--admin-client CERT-FILE|sha256:HEX"));
  EXPECT_THAT(usage, HasSubstr("External directory (a slapd with"));
  EXPECT_THAT(usage, HasSubstr("2 on bad\nusage."));
}

TEST(DtrustdOptionsTest, PlainTcpMustStayOnLoopback) {
  for (const std::string address :
       {"0.0.0.0:7750", "192.0.2.1:7750", "[::]:7750", "mx.example:7750"}) {
    absl::StatusOr<DtrustdOptions> options = Parse({"--listen", address});
    ASSERT_FALSE(options.ok()) << address;
    EXPECT_THAT(options.status().message(), HasSubstr("--tls-cert"));
  }
}

TEST(DtrustdOptionsTest, AccessFlags) {
  EXPECT_THAT(Parse({"--tls-cert", "/nonexistent.pem"}).status().message(),
              HasSubstr("--tls-cert and --tls-key go together"));
  EXPECT_THAT(
      Parse({"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"})
          .status()
          .message(),
      HasSubstr("/nonexistent.pem"));
  EXPECT_THAT(Parse({"--anonymous", "admin"}).status().message(),
              HasSubstr("is not reader or none"));
  absl::StatusOr<DtrustdOptions> options =
      Parse({"--anonymous", "none", "--admin-client",
             "sha256:" + std::string(64, 'a')});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->anonymous_role, Role::kNone);
  ASSERT_EQ(options->admin_clients.size(), 1u);
  EXPECT_EQ(options->admin_clients[0].ToHex(), std::string(64, 'a'));
  EXPECT_THAT(Parse({"--admin-client", "sha256:abc"}).status().message(),
              HasSubstr("--admin-client sha256"));
}

// A config file holding `contents`, for --config.
std::string ConfigFile(const std::string& contents) {
  return testing::WriteTempFile("dtrustd.conf", contents);
}

TEST(DtrustdConfigFileTest, EveryLongOptionCanBeALine) {
  const std::string file = ConfigFile(
      "# comment\n"
      "log-level = debug\n"
      "listen = unix:/run/a.sock\n"
      "anonymous = none\n"
      "listen = unix:/run/b.sock\n"
      "require-proof-for = [b.example, a.example]\n");
  auto options = Parse({"--config", file});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->config_file, file);
  EXPECT_EQ(options->log_level, LogLevel::kDebug);
  EXPECT_EQ(options->anonymous_role, Role::kNone);
  EXPECT_THAT(options->listen,
              ElementsAre("unix:/run/a.sock", "unix:/run/b.sock"));
  EXPECT_THAT(options->require_proof_for,
              ElementsAre("a.example", "b.example"));
  EXPECT_THAT(options->given_values["--listen"],
              ElementsAre("unix:/run/a.sock", "unix:/run/b.sock"));
}

TEST(DtrustdConfigFileTest, TheCommandLineOverridesTheFile) {
  const std::string file = ConfigFile(
      "log-level = debug\n"
      "listen = unix:/run/a.sock\n"
      "listen = unix:/run/b.sock\n");
  auto options = Parse({"--config=" + file, "--log-level", "error", "--listen",
                        "unix:/run/c.sock"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->log_level, LogLevel::kError);
  EXPECT_THAT(options->listen, ElementsAre("unix:/run/c.sock"));
}

TEST(DtrustdConfigFileTest, ErrorsNameTheFileAndLine) {
  const std::string unknown = ConfigFile("log-level = info\n\nbogus = 1\n");
  EXPECT_THAT(Parse({"--config", unknown}).status().message(),
              HasSubstr(unknown + ":3: unknown option \"bogus\""));
  const std::string bad = ConfigFile("listen = unix:/a\nlog-level = loud\n");
  EXPECT_THAT(Parse({"--config", bad}).status().message(),
              HasSubstr(bad + ":2: --log-level: \"loud\" is not one of"));
  const std::string list = ConfigFile(
      "policy-listen = inet:127.0.0.1:1\npolicy-listen = [unix:/p, bad]\n");
  EXPECT_THAT(Parse({"--config", list}).status().message(),
              HasSubstr(list + ":2: --policy-listen: listen address \"bad\""));
  const std::string flag = ConfigFile("\nsasl-external = maybe\n");
  EXPECT_THAT(Parse({"--config", flag}).status().message(),
              HasSubstr(flag + ":2: "));
  // The same bad value on the command line is the command line's.
  EXPECT_TRUE(absl::StartsWith(
      Parse({"--config", bad, "--log-level", "loud"}).status().message(),
      "--log-level: \"loud\""));
  const std::string spaces = ConfigFile(
      "ldap-uri = ldap://a\ndirectory-sync = poll\n"
      "map-server-filter = (&(objectClass=computer) (cn=x))\n");
  EXPECT_THAT(Parse({"--config", spaces}).status().message(),
              HasSubstr(spaces + ":3: --map-server-filter takes one value"));
  const std::string quoted = ConfigFile(
      "ldap-uri = ldap://a\ndirectory-sync = poll\n"
      "map-server-filter = \"(&(objectClass=computer) (cn=x))\"\n");
  ASSERT_TRUE(Parse({"--config", quoted}).ok());
  EXPECT_EQ(
      Parse({"--config", quoted})->directory_mapping.foreign->server_filter,
      "(&(objectClass=computer) (cn=x))");
  const std::string section = ConfigFile("[dtrustd]\nlog-level = info\n");
  EXPECT_THAT(Parse({"--config", section}).status().message(),
              HasSubstr(section + ":1: sections are not supported"));
}

TEST(DtrustdConfigFileTest, AMissingExplicitFileIsAnError) {
  EXPECT_THAT(
      Parse({"--config", "/nonexistent/dtrustd.conf"}).status().message(),
      HasSubstr("--config: /nonexistent/dtrustd.conf"));
}

TEST(DtrustdConfigFileTest, FilesItNamesMustExistAndParse) {
  const std::string file = ConfigFile(
      "ldap-uri = ldaps://ldap.example\nldap-ca = /nonexistent/ca.pem\n");
  EXPECT_THAT(Parse({"--config", file}).status().message(),
              HasSubstr(file + ":2: --ldap-ca"));
}

TEST(DtrustdConfigFileTest, RefusesAFileOthersMayWriteOrOwn) {
  const std::string file = ConfigFile("log-level = info\n");
  ASSERT_EQ(chmod(file.c_str(), 0666), 0);
  EXPECT_THAT(Parse({"--config", file}).status().message(),
              HasSubstr("is writable by others"));
  ASSERT_EQ(chmod(file.c_str(), 0644), 0);
  EXPECT_TRUE(Parse({"--config", file}).ok());
  if (geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
  ASSERT_EQ(chown(file.c_str(), 65534, 65534), 0);
  EXPECT_THAT(Parse({"--config", file}).status().message(),
              HasSubstr("is owned by another user"));
}

}  // namespace
}  // namespace dtrust
