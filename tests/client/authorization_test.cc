// Who may change trust, end to end: the real dtrustd and dtrust, callers
// identified by their unix uid (SO_PEERCRED) or their TLS client
// certificate's digest, anonymous callers on plain loopback TCP.
#include <sys/stat.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A directory every local user can read, holding certificates and keys.
class SharedFiles {
 public:
  SharedFiles() {
    char pattern[] = "/tmp/dtrust-authz-XXXXXX";
    dir_ = mkdtemp(pattern);
    chmod(dir_.c_str(), 0755);
  }
  ~SharedFiles() { RunShell("rm -rf '" + dir_ + "'"); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // A self-signed P-256 certificate NAME.pem with key NAME.key, readable by
  // all (a test needs `nobody` to read them).
  void MakeCert(const std::string& name, const std::string& subject,
                const std::string& extra = "") const {
    const CommandResult r = RunShell(absl::StrCat(
        "cd '", dir_,
        "' && openssl req -x509 -newkey ec -pkeyopt "
        "ec_paramgen_curve:P-256 -nodes -days 30 -subj '",
        subject, "' ", extra, " -keyout ", name, ".key -out ", name,
        ".pem 2>/dev/null && chmod 644 ", name, ".key ", name, ".pem"));
    ASSERT_EQ(r.exit_code(), 0) << r.err;
  }

 private:
  std::string dir_;
};

// The TCP address dtrustd logged as ready ("127.0.0.1:PORT").
std::string TcpAddress(const DtrustdProcess& dtrustd) {
  const std::string log = dtrustd.Log();
  const size_t at = log.find("127.0.0.1:");
  if (at == std::string::npos) return "";
  const size_t end = log.find_first_not_of("0123456789.:", at);
  return log.substr(at, end - at);
}

// Every kind of write dtrust can ask for (none may change anything when
// refused), with certificate files from `files`.
std::vector<std::vector<std::string>> EveryWrite(const SharedFiles& files) {
  return {{"publish", "--server", "mx1.org-b.example", "--domain",
           "org-b.example", files.Path("evil.pem")},
          {"unpublish", "--server", "mx1.org-b.example", files.Path("mx1.pem")},
          {"unpublish", "--sha256", OpensslSha256(files.Path("mx1.pem"))},
          {"domain", "add", "bigprovider.example", "--send", "--receive"},
          {"domain", "remove", "org-b.example"},
          {"client", "grant", "--role", "admin", files.Path("evil.pem")},
          {"client", "revoke", "--unix-user", "root"}};
}

// Runs dtrust as the unprivileged user `nobody`.
CommandResult RunAsNobody(const std::string& endpoint,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"setpriv",
                                   "--reuid=nobody",
                                   "--regid=nogroup",
                                   "--clear-groups",
                                   DTRUST_BINARY_DIR "/client/dtrust",
                                   "--endpoint",
                                   endpoint};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

class AuthorizationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new SharedFiles();
    files_->MakeCert("server", "/CN=dtrustd.example");
    files_->MakeCert("admin", "/CN=dtrust admin");
    files_->MakeCert("client", "/CN=some client");
    files_->MakeCert("mx1", "/CN=mx1.org-b.example");
    files_->MakeCert("evil", "/CN=mx1.org-b.example");
    // Same subject, issuer and serial as the admin's, another key.
    const std::string serial =
        RunShell("openssl x509 -noout -serial -in '" +
                 files_->Path("admin.pem") + "' | cut -d= -f2")
            .out;
    files_->MakeCert("forged", "/CN=dtrust admin",
                     "-set_serial 0x" + serial.substr(0, serial.size() - 1));
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> started =
        DtrustdProcess::Start({"--data-dir", files_->Path("data"), "--listen",
                               "127.0.0.1:0", "--tls-cert",
                               files_->Path("server.pem"), "--tls-key",
                               files_->Path("server.key"), "--admin-client",
                               files_->Path("admin.pem")});
    ASSERT_TRUE(started.ok()) << started.status();
    dtrustd_ = started->release();
    const std::string socket = dtrustd_->endpoint().substr(5);
    chmod(socket.substr(0, socket.rfind('/')).c_str(), 0755);
    server_sha256_ = OpensslSha256(files_->Path("server.pem"));
  }
  static void TearDownTestSuite() {
    delete dtrustd_;
    delete files_;
  }

  // dtrust over TLS with client certificate NAME (none if empty).
  static CommandResult RunTls(const std::string& name,
                              std::vector<std::string> args,
                              const std::string& pin = server_sha256_) {
    std::vector<std::string> argv = {"--endpoint", TcpAddress(*dtrustd_),
                                     "--server-sha256", pin};
    if (!name.empty()) {
      argv.insert(argv.end(), {"--tls-cert", files_->Path(name + ".pem"),
                               "--tls-key", files_->Path(name + ".key")});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return RunDtrust(argv);
  }

  static std::string Listing() {
    return DtrustCli(dtrustd_->endpoint()).Run({"list", "--json"}).out;
  }

  static SharedFiles* files_;
  static DtrustdProcess* dtrustd_;
  static std::string server_sha256_;
};

SharedFiles* AuthorizationTest::files_ = nullptr;
DtrustdProcess* AuthorizationTest::dtrustd_ = nullptr;
std::string AuthorizationTest::server_sha256_;

TEST_F(AuthorizationTest, RootOverTheUnixSocketIsAdmin) {
  const CommandResult r =
      DtrustCli(dtrustd_->endpoint())
          .Run({"publish", "--server", "mx1.org-b.example", "--domain",
                "org-b.example", files_->Path("mx1.pem")});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("asserted by unix user root (uid 0)"));
}

TEST_F(AuthorizationTest, AnUnprivilegedUserCannotChangeTrust) {
  const std::string before = Listing();
  const std::string& endpoint = dtrustd_->endpoint();
  std::vector<std::vector<std::string>> writes = EveryWrite(*files_);
  writes.push_back({"list"});
  writes.push_back({"history"});
  for (const std::vector<std::string>& write : writes) {
    const CommandResult r = RunAsNobody(endpoint, write);
    EXPECT_EQ(r.exit_code(), 4) << write[0] << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("unix user nobody (uid 65534)"));
    EXPECT_THAT(r.err, HasSubstr("role reader"));
  }
  EXPECT_EQ(Listing(), before);
  // Reading is what a reader may do.
  const CommandResult verify =
      RunAsNobody(endpoint, {"verify", files_->Path("evil.pem")});
  EXPECT_EQ(verify.exit_code(), 1) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("NOT_PUBLISHED"));
}

TEST_F(AuthorizationTest, AnonymousLoopbackCallersOnlyRead) {
  // A second dtrustd with plain TCP on loopback.
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> plain = DtrustdProcess::Start(
      {"--data-dir", files_->Path("plain-data"), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  const DtrustCli tcp(TcpAddress(**plain));
  const std::string before = DtrustCli((*plain)->endpoint()).Run({"list"}).out;
  CommandResult r;
  for (const std::vector<std::string>& write : EveryWrite(*files_)) {
    r = tcp.Run(write);
    EXPECT_EQ(r.exit_code(), 4) << write[0] << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("anonymous client"));
  }
  EXPECT_EQ(DtrustCli((*plain)->endpoint()).Run({"list"}).out, before);
  r = tcp.Run({"verify", files_->Path("evil.pem")});
  EXPECT_EQ(r.exit_code(), 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NOT_PUBLISHED"));
}

TEST_F(AuthorizationTest, AnonymousNoneRefusesEvenReads) {
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> closed =
      DtrustdProcess::Start({"--data-dir", files_->Path("closed-data"),
                             "--listen", "127.0.0.1:0", "--anonymous", "none"});
  ASSERT_TRUE(closed.ok()) << closed.status();
  const CommandResult r =
      DtrustCli(TcpAddress(**closed)).Run({"verify", files_->Path("mx1.pem")});
  EXPECT_EQ(r.exit_code(), 4) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("NOT_PUBLISHED")));
}

TEST_F(AuthorizationTest, TheBootstrapAdminCertificatePublishesOverTls) {
  CommandResult r =
      RunTls("admin", {"publish", "--server", "mx2.org-b.example", "--domain",
                       "org-b.example", files_->Path("client.pem")});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("client certificate sha256 " +
                               OpensslSha256(files_->Path("admin.pem"))));
  r = RunTls("admin", {"unpublish", "--server", "mx2.org-b.example",
                       files_->Path("client.pem")});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
}

TEST_F(AuthorizationTest, OtherCertificatesAreReadersOnly) {
  const std::string before = Listing();
  for (const std::string name : {"client", "forged"}) {
    CommandResult r;
    for (const std::vector<std::string>& write : EveryWrite(*files_)) {
      r = RunTls(name, write);
      EXPECT_EQ(r.exit_code(), 4)
          << name << " " << write[0] << ": " << r.out << r.err;
      EXPECT_THAT(r.err, HasSubstr("client certificate sha256 " +
                                   OpensslSha256(files_->Path(name + ".pem"))));
    }
    r = RunTls(name, {"verify", files_->Path("mx1.pem")});
    EXPECT_EQ(r.exit_code(), 0) << name << ": " << r.err;
  }
  EXPECT_EQ(Listing(), before);
}

TEST_F(AuthorizationTest, TlsNeedsAClientCertificate) {
  const CommandResult r = RunTls("", {"verify", files_->Path("mx1.pem")});
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("TRUSTED")));
}

TEST_F(AuthorizationTest, AWrongServerPinFailsBeforeAnyRequest) {
  const std::string wrong = OpensslSha256(files_->Path("client.pem"));
  const CommandResult r =
      RunTls("admin",
             {"publish", "--server", "mx3.org-b.example", "--domain",
              "org-b.example", files_->Path("client.pem")},
             wrong);
  EXPECT_EQ(r.exit_code(), 3) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("did not match --server-sha256"));
  EXPECT_THAT(Listing(), Not(HasSubstr("mx3.org-b.example")));
}

TEST_F(AuthorizationTest, AScopedPublisherStaysInItsScopes) {
  const DtrustCli root(dtrustd_->endpoint());
  CommandResult r = root.Run({"client", "grant", "--role", "publisher",
                              "--scope", "org-b.example", "--unix-user",
                              "nobody", "--label", "org-b admins"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("scopes:     org-b.example"));
  const std::string& endpoint = dtrustd_->endpoint();
  const std::string cert = files_->Path("client.pem");
  r = RunAsNobody(endpoint, {"publish", "--server", "mx9.org-b.example",
                             "--domain", "org-b.example", cert});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("unix user nobody (uid 65534), granted "
                               "publisher \"org-b admins\""));
  const std::string before = Listing();
  for (const std::vector<std::string>& write :
       std::vector<std::vector<std::string>>{
           {"publish", "--server", "mx1.org-c.example", "--domain",
            "org-c.example", cert},
           {"publish", "--server", "mx9.org-b.example", "--domain",
            "org-c.example", cert},
           {"unpublish", cert},
           {"domain", "add", "org-b.example", "--send"}}) {
    r = RunAsNobody(endpoint, write);
    EXPECT_EQ(r.exit_code(), 4) << write[0] << ": " << r.out << r.err;
  }
  EXPECT_EQ(Listing(), before);
  r = RunAsNobody(endpoint,
                  {"unpublish", "--server", "mx9.org-b.example", cert});
  EXPECT_EQ(r.exit_code(), 0) << r.err;

  r = root.Run({"client", "revoke", "--unix-user", "nobody"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  r = RunAsNobody(endpoint, {"publish", "--server", "mx9.org-b.example",
                             "--domain", "org-b.example", cert});
  EXPECT_EQ(r.exit_code(), 4) << r.out << r.err;
  r = root.Run({"client", "revoke", "--unix-user", "nobody"});
  EXPECT_EQ(r.exit_code(), 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("has no grant"));
}

TEST_F(AuthorizationTest, AGrantedCertificateIsAdmin) {
  const DtrustCli root(dtrustd_->endpoint());
  CommandResult r = root.Run(
      {"client", "grant", "--role", "admin", files_->Path("client.pem")});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  r = RunTls("client", {"domain", "add", "org-z.example", "--send"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  r = RunTls("client", {"client", "list", "--json"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"role\":\"admin\""));
  // The forged twin of the granted certificate is still nobody.
  r = RunTls("forged", {"domain", "remove", "org-z.example"});
  EXPECT_EQ(r.exit_code(), 4) << r.err;
  r = root.Run({"client", "revoke", files_->Path("client.pem")});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  r = RunTls("client", {"domain", "remove", "org-z.example"});
  EXPECT_EQ(r.exit_code(), 4) << r.err;
  EXPECT_EQ(root.Run({"domain", "remove", "org-z.example"}).exit_code(), 0);
}

TEST_F(AuthorizationTest, BadGrantsAreRefused) {
  const DtrustCli root(dtrustd_->endpoint());
  const std::vector<std::vector<std::string>> bad = {
      {"client", "grant", "--role", "root", "--unix-user", "nobody"},
      {"client", "grant", "--role", "admin", "--scope", "org-b.example",
       "--unix-user", "nobody"},
      {"client", "grant", "--role", "publisher", "--scope", "bad scope",
       "--unix-user", "nobody"},
      {"client", "grant", "--role", "reader", "--unix-user", "no body"},
      {"client", "grant", "--role", "reader"},
      {"client", "grant", "--role", "reader", "--unix-user", "a",
       "--unix-group", "b"},
      {"client", "grant", "--role", "reader", "--sha256", "abcd"}};
  for (const std::vector<std::string>& args : bad) {
    const CommandResult r = root.Run(args);
    EXPECT_EQ(r.exit_code(), 2) << args[3] << ": " << r.out << r.err;
  }
  EXPECT_THAT(root.Run({"client", "list"}).out, HasSubstr("no grants"));
}

TEST_F(AuthorizationTest, HistoryShowsEveryWriteAndRefusalWithItsIdentity) {
  const DtrustCli root(dtrustd_->endpoint());
  const std::string cert = files_->Path("client.pem");
  ASSERT_EQ(root.Run({"publish", "--server", "mx7.org-b.example", "--domain",
                      "org-b.example", cert})
                .exit_code(),
            0);
  EXPECT_EQ(RunAsNobody(dtrustd_->endpoint(),
                        {"unpublish", "--server", "mx7.org-b.example", cert})
                .exit_code(),
            4);
  ASSERT_EQ(root.Run({"unpublish", "--server", "mx7.org-b.example", cert})
                .exit_code(),
            0);
  const CommandResult history = root.Run(
      {"history", "--server", "mx7.org-b.example", "--since", "1h", "--json"});
  ASSERT_EQ(history.exit_code(), 0) << history.err;
  const google::protobuf::Value json = ParseJson(history.out);
  const auto& events = Field(json, "events").list_value().values();
  ASSERT_EQ(events.size(), 3) << history.out;
  const std::string sha256 = OpensslSha256(cert);
  EXPECT_EQ(Field(events[0], "action").string_value(), "Publish");
  EXPECT_EQ(Field(events[0], "actor").string_value(), "unix user root (uid 0)");
  EXPECT_THAT(Field(events[0], "detail").string_value(),
              HasSubstr("not published -> sha256 " + sha256));
  EXPECT_EQ(Field(events[0], "outcome").string_value(), "ok: published");
  EXPECT_EQ(Field(events[1], "action").string_value(), "Unpublish");
  EXPECT_THAT(Field(events[1], "actor").string_value(),
              HasSubstr("unix user nobody (uid 65534)"));
  EXPECT_THAT(Field(events[1], "outcome").string_value(),
              HasSubstr("refused: PERMISSION_DENIED"));
  EXPECT_THAT(Field(events[1], "from").string_value(), HasSubstr("unix:pid"));
  EXPECT_EQ(Field(events[2], "outcome").string_value(), "ok: unpublished");
  EXPECT_THAT(dtrustd_->Log(), HasSubstr("audit: {\"time\":"));
  // Only admins read the history.
  const CommandResult refused = RunAsNobody(dtrustd_->endpoint(), {"history"});
  EXPECT_EQ(refused.exit_code(), 4) << refused.err;
}

TEST_F(AuthorizationTest, PlainTcpOffLoopbackIsRefusedAtStart) {
  const CommandResult r = RunCommand(
      {DTRUST_BINARY_DIR "/server/dtrustd", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code(), 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--tls-cert"));
}

TEST(SharedDirectoryTest, ARevocationReachesTheOtherDtrustdWithinTwoSeconds) {
  absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
  ASSERT_TRUE(slapd.ok()) << slapd.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> first =
      DtrustdProcess::StartWithLdap(**slapd);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<DtrustdProcess>> second =
      DtrustdProcess::StartWithLdap(**slapd);
  ASSERT_TRUE(second.ok()) << second.status();
  for (const DtrustdProcess* dtrustd : {first->get(), second->get()}) {
    const std::string socket = dtrustd->endpoint().substr(5);
    chmod(socket.substr(0, socket.rfind('/')).c_str(), 0755);
  }
  // `list` needs the publisher role and changes nothing: the probe.
  const std::string other = (*second)->endpoint();
  CommandResult r = DtrustCli((*first)->endpoint())
                        .Run({"client", "grant", "--role", "publisher",
                              "--unix-user", "nobody"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  absl::Time deadline = absl::Now() + absl::Seconds(2);
  while ((r = RunAsNobody(other, {"list"})).exit_code() != 0) {
    ASSERT_EQ(r.exit_code(), 4) << r.err;
    ASSERT_LT(absl::Now(), deadline) << "the grant did not reach the other";
    absl::SleepFor(absl::Milliseconds(50));
  }

  r = DtrustCli((*first)->endpoint())
          .Run({"client", "revoke", "--unix-user", "nobody"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  const absl::Time revoked = absl::Now();
  deadline = revoked + absl::Seconds(2);
  while ((r = RunAsNobody(other, {"list"})).exit_code() != 4) {
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    ASSERT_LT(absl::Now(), deadline) << "the revocation did not arrive";
    absl::SleepFor(absl::Milliseconds(50));
  }
  // Both changes are in the shared audit trail, whichever dtrustd shows it.
  r = DtrustCli(other).Run({"history", "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"action\":\"GrantClient\""));
  EXPECT_THAT(r.out, HasSubstr("\"action\":\"RevokeClient\""));
  std::cout << "revocation applied on the other dtrustd after "
            << absl::Now() - revoked << "\n";
}

}  // namespace
}  // namespace dtrust::testing
