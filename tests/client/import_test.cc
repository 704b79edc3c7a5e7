// dtrust import through the real binary: PEM, DER and PKCS#12 fixtures made
// with the real openssl, key checks, and --enable smtp publishing through a
// real dtrustd (embedded directory), checked with dtrust verify.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/scratch_dir.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// openssl ARGS..., failing the test unless it exits 0.
void Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code(), 0) << absl::StrJoin(argv, " ") << "\n" << r.err;
}

// "abcd..." -> "AB:CD:...".
std::string LowerToColonHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i > 0) out += ':';
    out += absl::AsciiStrToUpper(hex.substr(i, 2));
  }
  return out;
}

class ImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> dtrustd =
        DtrustdProcess::StartEmbedded();
    ASSERT_TRUE(dtrustd.ok()) << dtrustd.status();
    dtrustd_ = dtrustd->release();
  }
  static void TearDownTestSuite() {
    delete dtrustd_;
    dtrustd_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(dtrustd_, nullptr); }

  static CommandResult Dtrust(const std::vector<std::string>& args) {
    return DtrustCli(dtrustd_->endpoint()).Run(args);
  }

  // A CA (ca.pem, ca.key) and a certificate it issued for a key made with
  // dtrust request (leaf.pem, leaf.key), in the scratch directory.
  void MakeIssuedCertificate() {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=Org B CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign", "-keyout", ca_key_, "-out", ca_,
             "-days", "30"});
    const CommandResult r = RunDtrust(
        {"request", "--subject", "CN=mx1.org-b.example,O=Org B,C=DE",
         "--dns-name", "mx1.org-b.example", "--key", leaf_key_, "--out", csr_});
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    Openssl({"x509", "-req", "-in", csr_, "-CA", ca_, "-CAkey", ca_key_,
             "-set_serial", "4096", "-days", "30", "-copy_extensions", "copy",
             "-out", leaf_});
  }

  // `openssl pkcs12 -export` of `cert` and `key` (and `chain`, if given)
  // with `password`.
  std::string MakePkcs12(const std::string& name, const std::string& cert,
                         const std::string& key, const std::string& password,
                         const std::string& chain = "") {
    const std::string path = scratch_.Path(name);
    std::vector<std::string> args = {
        "pkcs12", "-export", "-in", cert,       "-inkey",
        key,      "-out",    path,  "-passout", "pass:" + password};
    if (!chain.empty()) {
      args.push_back("-certfile");
      args.push_back(chain);
    }
    Openssl(args);
    return path;
  }

  static DtrustdProcess* dtrustd_;
  ScratchDir scratch_;
  const std::string ca_ = scratch_.Path("ca.pem");
  const std::string ca_key_ = scratch_.Path("ca.key");
  const std::string csr_ = scratch_.Path("leaf.csr");
  const std::string leaf_ = scratch_.Path("leaf.pem");
  const std::string leaf_key_ = scratch_.Path("leaf.key");
};

DtrustdProcess* ImportTest::dtrustd_ = nullptr;

TEST_F(ImportTest, ShowsWhatAPemCertificateHolds) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  CommandResult r = RunDtrust({"import", cert.cert_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(FirstLine(r.out), cert.cert_path + ": certificate (PEM)");
  EXPECT_EQ(DetailValue(r.out, "subject"), "CN=mx1.org-b.example");
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(cert.cert_path));
  EXPECT_EQ(ColonHexToLower(DetailValue(r.out, "spki-sha256")),
            OpensslSpkiSha256(cert.cert_path));
  EXPECT_EQ(DetailValue(r.out, "validity"), "valid");
  EXPECT_EQ(DetailValue(r.out, "key type"), "ec-p256");
  EXPECT_EQ(DetailValue(r.out, "private key"), "none");
  EXPECT_EQ(DetailValue(r.out, "chain"), "-");

  r = RunDtrust({"import", cert.cert_path, "--key", cert.key_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            cert.cert_path + ": certificate (PEM), with its private key");
  EXPECT_EQ(DetailValue(r.out, "private key"),
            "matches (" + cert.key_path + ")");

  r = RunDtrust({"import", cert.cert_path, "--key", cert.key_path, "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  const google::protobuf::Value json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "format").string_value(), "PEM");
  EXPECT_EQ(Field(json, "sha256").string_value(),
            ColonHexToLower(OpensslSha256(cert.cert_path)));
  EXPECT_EQ(Field(json, "private_key").string_value(), cert.key_path);
  EXPECT_EQ(Field(json, "validity").string_value(), "valid");
}

TEST_F(ImportTest, ReadsDer) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  const std::string der = scratch_.Path("cert.der");
  Openssl({"x509", "-in", cert.cert_path, "-outform", "DER", "-out", der});
  const CommandResult r = RunDtrust({"import", der, "--key", cert.key_path});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            der + ": certificate (DER), with its private key");
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(cert.cert_path));
}

TEST_F(ImportTest, RefusesAKeyThatIsNotTheCertificates) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  const OpensslCert other = MakeOpensslCert("mx1.org-b.example");
  const std::string other_spki =
      LowerToColonHex(OpensslSpkiSha256(other.cert_path));
  CommandResult r =
      RunDtrust({"import", cert.cert_path, "--key", other.key_path});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err, absl::StrCat("dtrust: the private key in ", other.key_path,
                                " (spki-sha256 ", other_spki,
                                ") does not belong to the certificate in ",
                                cert.cert_path, " (CN=mx1.org-b.example)\n"));
  EXPECT_EQ(r.out, "");

  // The same with the key in the file, as Postfix's combined files have it.
  const std::string combined =
      scratch_.Write("combined.pem", ScratchDir::Read(other.key_path) +
                                         ScratchDir::Read(cert.cert_path));
  r = RunDtrust({"import", combined});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, StartsWith(absl::StrCat("dtrust: the private key in ",
                                             combined, " (spki-sha256 ",
                                             other_spki, ") does not belong")));

  // A key in the file and another one given.
  r = RunDtrust({"import", combined, "--key", cert.key_path});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err, absl::StrCat("dtrust: ", combined, " and ", cert.key_path,
                                " hold different private keys\n"));
}

TEST_F(ImportTest, ReadsPkcs12WithItsPassword) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  const std::string p12 =
      MakePkcs12("mx1.p12", cert.cert_path, cert.key_path, "s3cret");
  const std::string password = scratch_.Write("pw", "s3cret\n");
  const std::string wrong = scratch_.Write("wrong", "secret\n");

  CommandResult r = RunDtrust({"import", p12, "--password-file", password});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            p12 + ": certificate (PKCS#12), with its private key");
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(cert.cert_path));
  EXPECT_EQ(DetailValue(r.out, "private key"), "matches (" + p12 + ")");

  r = RunDtrust({"import", p12});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err, absl::StrCat("dtrust: ", p12,
                                ": the PKCS#12 file is password-protected; "
                                "give its password with --password-file\n"));
  r = RunDtrust({"import", p12, "--password-file", wrong});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err, absl::StrCat("dtrust: ", p12,
                                ": wrong password for the PKCS#12 file "
                                "(--password-file)\n"));
  // The key in the file must agree with --key, too.
  const OpensslCert other = MakeOpensslCert("mx9.org-b.example");
  r = RunDtrust(
      {"import", p12, "--password-file", password, "--key", other.key_path});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("hold different private keys"));
}

TEST_F(ImportTest, ReadsPkcs12WithoutPassword) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  const std::string p12 =
      MakePkcs12("nopass.p12", cert.cert_path, cert.key_path, "");
  const CommandResult r = RunDtrust({"import", p12});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(cert.cert_path));
  EXPECT_EQ(DetailValue(r.out, "private key"), "matches (" + p12 + ")");
}

TEST_F(ImportTest, TakesTheLeafOfAChain) {
  MakeIssuedCertificate();
  const std::string leaf_sha256 = OpensslSha256(leaf_);

  // PKCS#12 with the CA certificate: the leaf is the key's certificate.
  const std::string p12 = MakePkcs12("chain.p12", leaf_, leaf_key_, "pw", ca_);
  const std::string password = scratch_.Write("pw", "pw");
  CommandResult r = RunDtrust({"import", p12, "--password-file", password});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "sha256"), leaf_sha256);
  EXPECT_EQ(DetailValue(r.out, "subject"), "CN=mx1.org-b.example,O=Org B,C=DE");
  EXPECT_EQ(DetailValue(r.out, "chain"), "1 more, ignored: CN=Org B CA");

  // A PEM chain file, leaf first.
  const std::string chain = scratch_.Write(
      "chain.pem", ScratchDir::Read(leaf_) + ScratchDir::Read(ca_));
  r = RunDtrust({"import", chain});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "sha256"), leaf_sha256);
  EXPECT_EQ(DetailValue(r.out, "chain"), "1 more, ignored: CN=Org B CA");

  // CA first: not taken for the leaf, unless the key says which one it is.
  const std::string reversed = scratch_.Write(
      "reversed.pem", ScratchDir::Read(ca_) + ScratchDir::Read(leaf_));
  r = RunDtrust({"import", reversed});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err,
            absl::StrCat("dtrust: ", reversed,
                         ": its first certificate (CN=Org B CA) issued another "
                         "one in the file, so it is not the server's; put the "
                         "server's certificate first or give its key with "
                         "--key\n"));
  r = RunDtrust({"import", reversed, "--key", leaf_key_});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "sha256"), leaf_sha256);
}

TEST_F(ImportTest, DecryptsAnEncryptedKeyWithThePasswordFile) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  const std::string encrypted = scratch_.Path("enc.key");
  Openssl({"pkey", "-in", cert.key_path, "-aes256", "-passout", "pass:k3y",
           "-out", encrypted});
  const std::string password = scratch_.Write("pw", "k3y\n");
  const std::string wrong = scratch_.Write("wrong", "key\n");

  CommandResult r = RunDtrust({"import", cert.cert_path, "--key", encrypted});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err, absl::StrCat("dtrust: ", encrypted,
                                ": the private key is encrypted; give its "
                                "password with --password-file\n"));
  r = RunDtrust(
      {"import", cert.cert_path, "--key", encrypted, "--password-file", wrong});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err, absl::StrCat("dtrust: ", encrypted,
                                ": cannot decrypt the private key: wrong "
                                "password (--password-file)\n"));
  r = RunDtrust({"import", cert.cert_path, "--key", encrypted,
                 "--password-file", password});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "private key"), "matches (" + encrypted + ")");
}

TEST_F(ImportTest, RefusesWhatIsNotACertificate) {
  const OpensslCert cert = MakeOpensslCert("mx1.org-b.example");
  ASSERT_EQ(RunDtrust({"request", "--subject", "CN=mx1", "--key", leaf_key_,
                       "--out", csr_})
                .exit_code(),
            0);
  struct Case {
    std::string path;
    std::string error;
  };
  const std::string junk = scratch_.Write("junk.bin", "not a certificate");
  const std::string empty = scratch_.Write("empty", "");
  const std::vector<Case> cases = {
      {csr_, csr_ + ": holds a certificate request, not a certificate: have "
                    "it issued by a CA, or make one with dtrust selfsign"},
      {cert.key_path,
       cert.key_path + ": holds no certificate, only a private key"},
      {junk, junk + ": not a certificate or private key in PEM or DER, nor a "
                    "PKCS#12 file"},
      {empty, empty + ": is empty"},
  };
  for (const Case& c : cases) {
    const CommandResult r = RunDtrust({"import", c.path});
    EXPECT_EQ(r.exit_code(), 2) << c.path;
    EXPECT_EQ(r.err, "dtrust: " + c.error + "\n");
  }
}

// The seed's procedure: request, a CA issues, import and enable for SMTP.
TEST_F(ImportTest, RequestIssueImportEnableVerify) {
  MakeIssuedCertificate();
  CommandResult r =
      Dtrust({"import", leaf_, "--key", leaf_key_, "--enable", "smtp",
              "--server", "mx1.org-b.example", "--domain", "org-b.example"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            absl::StrCat("published ", leaf_, " for mx1.org-b.example"));
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(leaf_));
  EXPECT_EQ(DetailValue(r.out, "pin"), "certificate");
  EXPECT_EQ(DetailValue(r.out, "domains added"), "org-b.example");

  r = Dtrust({"verify", leaf_});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(FirstLine(r.out), "TRUSTED (mx1.org-b.example, org-b.example)");
}

TEST_F(ImportTest, EnableGivesPublishsRequestAndOutput) {
  const OpensslCert cert = MakeOpensslCert("mx2.org-b.example");
  const std::string p12 =
      MakePkcs12("mx2.p12", cert.cert_path, cert.key_path, "pw");
  const std::string password = scratch_.Write("pw", "pw");
  CommandResult r = Dtrust({"import", p12, "--password-file", password,
                            "--enable", "smtp", "--server", "mx2.org-b.example",
                            "--domain", "org-b.example", "--pin", "key"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(DetailValue(r.out, "pin"), "public-key");
  r = Dtrust({"verify", "--spki-sha256", OpensslSpkiSha256(cert.cert_path)});
  EXPECT_EQ(r.exit_code(), 0) << r.out << r.err;
  EXPECT_EQ(FirstLine(r.out), "TRUSTED (mx2.org-b.example, org-b.example)");

  // Again, now already published: the same JSON as publish prints.
  const std::vector<std::string> target = {"--server", "mx2.org-b.example",
                                           "--pin", "key", "--json"};
  std::vector<std::string> import_args = {
      "import", p12, "--password-file", password, "--enable", "smtp"};
  import_args.insert(import_args.end(), target.begin(), target.end());
  std::vector<std::string> publish_args = {"publish", cert.cert_path};
  publish_args.insert(publish_args.end(), target.begin(), target.end());
  const CommandResult imported = Dtrust(import_args);
  const CommandResult published = Dtrust(publish_args);
  ASSERT_EQ(imported.exit_code(), 0) << imported.err;
  ASSERT_EQ(published.exit_code(), 0) << published.err;
  EXPECT_EQ(imported.out, published.out);
  EXPECT_EQ(Field(ParseJson(imported.out), "outcome").string_value(),
            "ALREADY_PUBLISHED");
}

TEST_F(ImportTest, EnableChecksBeforePublishing) {
  const OpensslCert cert = MakeOpensslCert("mx3.org-b.example");
  const OpensslCert other = MakeOpensslCert("mx3.org-b.example");
  // A key that is not the certificate's: nothing is published.
  CommandResult r = Dtrust({"import", cert.cert_path, "--key", other.key_path,
                            "--enable", "smtp", "--server", "mx3.org-b.example",
                            "--domain", "org-b.example"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("does not belong to the certificate"));
  r = Dtrust({"verify", cert.cert_path});
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(FirstLine(r.out), "NOT_PUBLISHED");

  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::string missing = scratch_.Path("missing.pem");
  const std::vector<Case> cases = {
      {{"import", missing, "--enable", "imap"},
       "--enable imap: only smtp can be enabled (see 'dtrust help import')"},
      {{"import", missing, "--server", "mx3.org-b.example"},
       "--server is for --enable smtp (see 'dtrust help import')"},
      {{"import", missing, "--pin", "key"},
       "--pin is for --enable smtp (see 'dtrust help import')"},
      {{"import", missing, "--enable", "smtp"},
       "--enable smtp needs --server FQDN (see 'dtrust help import')"},
      {{"import", missing, "--enable", "smtp", "--server", "mx3.org-b.example",
        "--pin", "spki"},
       "--pin spki: must be cert or key (see 'dtrust help import')"},
      {{"import"}, "import needs exactly one file (see 'dtrust help import')"},
  };
  for (const Case& c : cases) {
    r = Dtrust(c.args);
    EXPECT_EQ(r.exit_code(), 2) << absl::StrJoin(c.args, " ");
    EXPECT_EQ(r.err, "dtrust: " + c.error + "\n");
  }
}

TEST_F(ImportTest, EnableWithDtrustdUnavailableExits3) {
  const OpensslCert cert = MakeOpensslCert("mx4.org-b.example");
  const std::string endpoint = "unix:" + scratch_.Path("no-dtrustd.sock");
  const CommandResult r =
      RunDtrust({"import", cert.cert_path, "--enable", "smtp", "--server",
                 "mx4.org-b.example", "--domain", "org-b.example", "--endpoint",
                 endpoint, "--timeout", "2s"});
  EXPECT_EQ(r.exit_code(), 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr(endpoint));
}

}  // namespace
}  // namespace dtrust::testing
