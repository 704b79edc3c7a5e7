// dtrust request and dtrust selfsign through the real binary, checked with
// the real openssl: what it accepts, prints and parses.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/cli_test_util.h"
#include "tests/testing/scratch_dir.h"

namespace dtrust::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

constexpr char kDtrust[] = DTRUST_BINARY_DIR "/client/dtrust";
constexpr char kSubject[] =
    "CN=mx1.org-b.example,OU=Mail,O=Org B,L=Berlin,ST=Berlin,C=DE,DC=org-b,"
    "DC=example";

std::string Repeat(const std::string& text, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

// openssl's output, failing the test unless it exits 0.
std::string Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code(), 0) << absl::StrJoin(argv, " ") << "\n" << r.err;
  return r.out;
}

// SHA-256 of the DER public key in the PEM private key file `key_path`,
// computed by openssl: 64 lower-case hex digits.
std::string OpensslKeySpkiSha256(const std::string& key_path) {
  const CommandResult r =
      RunShell(absl::StrCat("openssl pkey -in '", key_path,
                            "' -pubout -outform DER | openssl dgst -sha256"));
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  absl::string_view line = absl::StripAsciiWhitespace(r.out);
  return std::string(
      absl::StripAsciiWhitespace(line.substr(line.find('=') + 1)));
}

// The name attributes in `asn1parse` output, in encoding order, as
// "attributeType STRINGTYPE:value".
std::vector<std::string> NameEncoding(const std::string& asn1parse) {
  static const std::set<std::string> kNameTypes = {
      "countryName",      "stateOrProvinceName",    "localityName",
      "organizationName", "organizationalUnitName", "commonName",
      "domainComponent"};
  std::vector<std::string> encoding;
  std::string object;
  for (absl::string_view line : absl::StrSplit(asn1parse, '\n')) {
    const size_t prim = line.find("prim: ");
    if (prim == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(prim + 6);
    const size_t colon = rest.find(':');
    const std::string type(absl::StripAsciiWhitespace(rest.substr(0, colon)));
    const std::string value(
        colon == absl::string_view::npos ? "" : rest.substr(colon + 1));
    if (type == "OBJECT") {
      object = value;
    } else if (kNameTypes.count(object) > 0) {
      encoding.push_back(absl::StrCat(object, " ", type, ":", value));
      object.clear();
    }
  }
  return encoding;
}

class KeygenTest : public ::testing::Test {
 protected:
  CommandResult Request(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"request", "--key", key_, "--out", csr_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunDtrust(args);
  }
  CommandResult Selfsign(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"selfsign", "--key", key_, "--out", cert_};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunDtrust(args);
  }

  ScratchDir scratch_;
  const std::string key_ = scratch_.Path("mx1.key");
  const std::string csr_ = scratch_.Path("mx1.csr");
  const std::string cert_ = scratch_.Path("mx1.pem");
};

TEST_F(KeygenTest, RequestMakesAKeyAndARequestOpensslAccepts) {
  const CommandResult r =
      Request({"--subject", kSubject, "--dns-name", "mx1.org-b.example",
               "--dns-name", "Mail.Org-B.example."});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(FirstLine(r.out),
            absl::StrCat("wrote ", key_, " (private key, ec-p256, mode 0600)"));
  EXPECT_EQ(DetailValue(r.out, "subject"), kSubject);
  EXPECT_EQ(DetailValue(r.out, "dns names"),
            "mx1.org-b.example, mail.org-b.example");
  EXPECT_EQ(ScratchDir::Mode(key_), 0600u);
  EXPECT_EQ(ScratchDir::Mode(csr_), 0644u);
  EXPECT_THAT(scratch_.Listing(), ElementsAre("mx1.csr", "mx1.key"));

  // `openssl req -verify` checks the request's signature.
  const CommandResult verify =
      RunCommand({"openssl", "req", "-verify", "-noout", "-text", "-in", csr_});
  ASSERT_EQ(verify.exit_code(), 0) << verify.err;
  EXPECT_THAT(verify.err, HasSubstr("verify OK"));
  EXPECT_THAT(verify.out,
              HasSubstr("DNS:mx1.org-b.example, DNS:mail.org-b.example"));
  EXPECT_THAT(verify.out, HasSubstr("ecdsa-with-SHA256"));
  EXPECT_THAT(verify.out, HasSubstr("NIST CURVE: P-256"));

  // RFC 4514 round trip; openssl's default (X.500) order is the reverse,
  // as `openssl req -subj /DC=example/DC=org-b/C=DE/.../CN=mx1` writes it.
  EXPECT_EQ(Openssl({"req", "-noout", "-subject", "-nameopt", "rfc2253", "-in",
                     csr_}),
            absl::StrCat("subject=", kSubject, "\n"));
  EXPECT_EQ(Openssl({"req", "-noout", "-subject", "-in", csr_}),
            "subject=DC = example, DC = org-b, C = DE, ST = Berlin, L = "
            "Berlin, O = Org B, OU = Mail, CN = mx1.org-b.example\n");

  // The request is for the key written, and the digest shown is its SPKI's.
  EXPECT_EQ(Openssl({"req", "-in", csr_, "-pubkey", "-noout"}),
            Openssl({"pkey", "-in", key_, "-pubout"}));
  EXPECT_EQ(ColonHexToLower(DetailValue(r.out, "spki-sha256")),
            OpensslKeySpkiSha256(key_));
}

TEST_F(KeygenTest, EncodesTheNameWithTable1StringTypes) {
  ASSERT_EQ(Request({"--subject", kSubject}).exit_code(), 0);
  EXPECT_THAT(NameEncoding(Openssl({"asn1parse", "-in", csr_})),
              ElementsAre("domainComponent IA5STRING:example",
                          "domainComponent IA5STRING:org-b",
                          "countryName PRINTABLESTRING:DE",
                          "stateOrProvinceName UTF8STRING:Berlin",
                          "localityName UTF8STRING:Berlin",
                          "organizationName UTF8STRING:Org B",
                          "organizationalUnitName UTF8STRING:Mail",
                          "commonName UTF8STRING:mx1.org-b.example"));
}

TEST_F(KeygenTest, CountsUnicodeInCharacters) {
  const std::string cn = Repeat("ä", 64);  // 128 bytes.
  const CommandResult r = Request({"--subject", "CN=" + cn + ",O=Zürich AG"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(Openssl({"req", "-noout", "-subject", "-nameopt",
                     "rfc2253,-esc_msb", "-in", csr_}),
            absl::StrCat("subject=CN=", cn, ",O=Zürich AG\n"));
  EXPECT_THAT(NameEncoding(Openssl({"asn1parse", "-in", csr_})),
              ElementsAre("organizationName UTF8STRING:Zürich AG",
                          absl::StrCat("commonName UTF8STRING:", cn)));
}

TEST_F(KeygenTest, ABoundViolationWritesNothing) {
  struct Case {
    std::string subject;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"CN=" + Repeat("ä", 65), "--subject: CN is 65 characters; at most 64"},
      {"CN=mx1,O=" + Repeat("o", 65),
       "--subject: O is 65 characters; at most 64"},
      {"CN=mx1,L=" + Repeat("l", 129),
       "--subject: L is 129 characters; at most 128"},
      {"CN=mx1,C=DEU",
       "--subject: C is 3 characters; exactly 2 ASCII letters (an ISO 3166 "
       "country code)"},
      {"CN=mx1,DC=" + Repeat("d", 256),
       "--subject: DC is 256 characters; at most 255"},
      {"CN=a,CN=b",
       "--subject: CN appears 2 times; at most once (only OU and DC may "
       "repeat)"},
  };
  for (const Case& c : cases) {
    for (const std::string command : {"request", "selfsign"}) {
      const CommandResult r = RunDtrust(
          {command, "--subject", c.subject, "--key", key_, "--out", csr_});
      EXPECT_EQ(r.exit_code(), 2) << command << " " << c.subject;
      EXPECT_EQ(r.err, absl::StrCat("dtrust: ", c.error, "\n"));
      EXPECT_EQ(r.out, "");
      EXPECT_THAT(scratch_.Listing(), IsEmpty()) << c.subject;
    }
  }
}

TEST_F(KeygenTest, EscapedCommasStayInTheValue) {
  const std::string subject = R"(CN=mx1,O=Org\, B \"Mail\" \+ more,C=DE)";
  ASSERT_EQ(Request({"--subject", subject}).exit_code(), 0);
  EXPECT_THAT(NameEncoding(Openssl({"asn1parse", "-in", csr_})),
              ElementsAre("countryName PRINTABLESTRING:DE",
                          "organizationName UTF8STRING:Org, B \"Mail\" + more",
                          "commonName UTF8STRING:mx1"));
  EXPECT_EQ(Openssl({"req", "-noout", "-subject", "-nameopt", "rfc2253", "-in",
                     csr_}),
            absl::StrCat("subject=", subject, "\n"));
}

TEST_F(KeygenTest, RsaKeyTypes) {
  for (const std::string bits : {"2048", "3072"}) {
    const CommandResult r = Selfsign(
        {"--subject", "CN=mx1", "--key-type", "rsa-" + bits, "--force"});
    ASSERT_EQ(r.exit_code(), 0) << r.err;
    EXPECT_EQ(FirstLine(r.out),
              absl::StrCat("wrote ", key_, " (private key, rsa-", bits,
                           ", mode 0600)"));
    EXPECT_THAT(Openssl({"pkey", "-in", key_, "-noout", "-text"}),
                HasSubstr("Private-Key: (" + bits + " bit"));
    const std::string text = Openssl({"x509", "-in", cert_, "-noout", "-text"});
    EXPECT_THAT(text, HasSubstr("sha256WithRSAEncryption"));
    EXPECT_THAT(text, HasSubstr("Digital Signature, Key Encipherment"));
  }
  const CommandResult r =
      Request({"--subject", "CN=mx1", "--key-type", "rsa-1024"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err,
            "dtrust: --key-type rsa-1024: must be ec-p256, rsa-2048, rsa-3072 "
            "or rsa-4096\n");
}

TEST_F(KeygenTest, NeverOverwritesWithoutForce) {
  scratch_.Write("mx1.key", "old key");
  CommandResult r = Request({"--subject", "CN=mx1"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err,
            absl::StrCat("dtrust: ", key_,
                         ": already exists; use --force to replace it\n"));
  EXPECT_EQ(ScratchDir::Read(key_), "old key");
  EXPECT_THAT(scratch_.Listing(), ElementsAre("mx1.key"));

  std::filesystem::remove(key_);
  scratch_.Write("mx1.csr", "old request");
  r = Request({"--subject", "CN=mx1"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_EQ(r.err,
            absl::StrCat("dtrust: ", csr_,
                         ": already exists; use --force to replace it\n"));
  EXPECT_EQ(ScratchDir::Read(csr_), "old request");
  EXPECT_THAT(scratch_.Listing(), ElementsAre("mx1.csr"));  // No key made.

  scratch_.Write("mx1.key", "old key");
  ASSERT_EQ(chmod(key_.c_str(), 0644), 0);
  r = Request({"--subject", "CN=mx1", "--force"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_THAT(ScratchDir::Read(key_),
              StartsWith("-----BEGIN PRIVATE KEY-----"));
  EXPECT_EQ(ScratchDir::Mode(key_), 0600u);
  EXPECT_THAT(ScratchDir::Read(csr_),
              StartsWith("-----BEGIN CERTIFICATE REQUEST-----"));
  EXPECT_THAT(scratch_.Listing(), ElementsAre("mx1.csr", "mx1.key"));
}

TEST_F(KeygenTest, KeyIsPrivateWhateverTheUmask) {
  const CommandResult r = RunShell(
      absl::StrCat("umask 000 && exec ", kDtrust, " selfsign --subject CN=mx1 ",
                   "--key ", key_, " --out ", cert_));
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ScratchDir::Mode(key_), 0600u);
  EXPECT_EQ(ScratchDir::Mode(cert_), 0644u);
}

TEST_F(KeygenTest, SelfsignMakesACertificateOpensslParses) {
  const CommandResult r =
      Selfsign({"--subject", kSubject, "--dns-name", "mx1.org-b.example",
                "--dns-name", "*.org-b.example", "--days", "30"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ScratchDir::Mode(key_), 0600u);
  EXPECT_EQ(Openssl({"x509", "-in", cert_, "-noout", "-subject", "-ext",
                     "subjectAltName", "-nameopt", "rfc2253"}),
            absl::StrCat("subject=", kSubject,
                         "\nX509v3 Subject Alternative Name: \n"
                         "    DNS:mx1.org-b.example, DNS:*.org-b.example\n"));
  // Self-signed: issuer = subject.
  EXPECT_EQ(Openssl({"x509", "-in", cert_, "-noout", "-issuer", "-nameopt",
                     "rfc2253"}),
            absl::StrCat("issuer=", kSubject, "\n"));
  const std::string text = Openssl({"x509", "-in", cert_, "-noout", "-text"});
  EXPECT_THAT(text, HasSubstr("Version: 3 (0x2)"));
  EXPECT_THAT(text, HasSubstr("X509v3 Basic Constraints: critical\n"
                              "                CA:FALSE"));
  EXPECT_THAT(text, HasSubstr("X509v3 Key Usage: critical\n"
                              "                Digital Signature\n"));
  EXPECT_THAT(text, HasSubstr("TLS Web Server Authentication, TLS Web Client "
                              "Authentication"));
  EXPECT_THAT(text, HasSubstr("X509v3 Subject Key Identifier"));
  EXPECT_THAT(text, HasSubstr("ecdsa-with-SHA256"));
  // A positive 16-byte serial number.
  EXPECT_THAT(Openssl({"x509", "-in", cert_, "-noout", "-serial"}),
              MatchesRegex("serial=[4-7][0-9A-F]{31}\n"));
  // Valid for 30 days from now.
  EXPECT_EQ(RunCommand({"openssl", "x509", "-in", cert_, "-noout", "-checkend",
                        std::to_string(29 * 86400)})
                .exit_code(),
            0);
  EXPECT_EQ(RunCommand({"openssl", "x509", "-in", cert_, "-noout", "-checkend",
                        std::to_string(31 * 86400)})
                .exit_code(),
            1);
  // What dtrust shows is what openssl computes.
  EXPECT_EQ(DetailValue(r.out, "sha256"), OpensslSha256(cert_));
  EXPECT_EQ(ColonHexToLower(DetailValue(r.out, "spki-sha256")),
            OpensslSpkiSha256(cert_));
  EXPECT_EQ(DetailValue(r.out, "subject"), kSubject);
}

TEST_F(KeygenTest, TwoSelfsignedCertificatesDiffer) {
  ASSERT_EQ(Selfsign({"--subject", "CN=mx1"}).exit_code(), 0);
  const std::string first_serial =
      Openssl({"x509", "-in", cert_, "-noout", "-serial"});
  ASSERT_EQ(Selfsign({"--subject", "CN=mx1", "--force"}).exit_code(), 0);
  EXPECT_NE(Openssl({"x509", "-in", cert_, "-noout", "-serial"}), first_serial);
}

TEST_F(KeygenTest, ReuseKeyCertifiesTheSameKeyAgain) {
  CommandResult r = Selfsign({"--subject", "CN=mx1"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  const std::string key_pem = ScratchDir::Read(key_);
  const std::string first_sha256 = DetailValue(r.out, "sha256");
  const std::string first_spki = DetailValue(r.out, "spki-sha256");

  const std::string renewed = scratch_.Path("renewed.pem");
  r = RunDtrust({"selfsign", "--reuse-key", "--key", key_, "--out", renewed,
                 "--subject", "CN=mx1"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(FirstLine(r.out),
            absl::StrCat("used the private key in ", key_, " (ec-p256)"));
  EXPECT_EQ(DetailValue(r.out, "spki-sha256"), first_spki);
  EXPECT_NE(DetailValue(r.out, "sha256"), first_sha256);
  EXPECT_EQ(ScratchDir::Read(key_), key_pem);  // Untouched.
  EXPECT_EQ(OpensslSpkiSha256(renewed), ColonHexToLower(first_spki));

  r = RunDtrust({"request", "--reuse-key", "--key", scratch_.Path("none.key"),
                 "--out", csr_, "--subject", "CN=mx1"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("none.key: cannot open"));
  r = RunDtrust({"request", "--reuse-key", "--key", key_, "--key-type",
                 "rsa-2048", "--out", csr_, "--subject", "CN=mx1"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_THAT(r.err, HasSubstr("--key-type makes a new key"));
}

TEST_F(KeygenTest, JsonOutput) {
  CommandResult r = Request({"--subject", "CN=mx1,O=Org B", "--dns-name",
                             "mx1.org-b.example", "--json"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  google::protobuf::Value json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "key_file").string_value(), key_);
  EXPECT_EQ(Field(json, "key_source").string_value(), "generated");
  EXPECT_EQ(Field(json, "key_type").string_value(), "ec-p256");
  EXPECT_EQ(Field(json, "request_file").string_value(), csr_);
  EXPECT_EQ(Field(json, "subject").string_value(), "CN=mx1,O=Org B");
  EXPECT_EQ(Field(json, "spki_sha256").string_value(),
            OpensslKeySpkiSha256(key_));
  EXPECT_THAT(StringList(Field(json, "dns_names")),
              ElementsAre("mx1.org-b.example"));

  r = Selfsign({"--subject", "CN=mx1", "--json", "--force"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  json = ParseJson(r.out);
  EXPECT_EQ(Field(json, "certificate_file").string_value(), cert_);
  EXPECT_EQ(Field(json, "sha256").string_value(),
            ColonHexToLower(OpensslSha256(cert_)));
  EXPECT_THAT(Field(json, "not_after").string_value(),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
}

TEST_F(KeygenTest, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"request", "--key", key_, "--out", csr_},
       "request needs --subject (see 'dtrust help request')"},
      {{"selfsign", "--subject", "CN=a", "--out", csr_},
       "selfsign needs --key (see 'dtrust help selfsign')"},
      {{"request", "--subject", "CN=a", "--key", key_, "--out", key_},
       "--key and --out name the same file (see 'dtrust help request')"},
      {{"request", "--subject", "CN=a", "--key", key_, "--out", csr_, "x"},
       "unexpected argument x (all inputs are options) (see 'dtrust help "
       "request')"},
      {{"request", "--subject", "CN=a", "--key", key_, "--out", csr_, "--days",
        "3"},
       "unknown option --days (see 'dtrust help request')"},
      {{"selfsign", "--subject", "CN=a", "--key", key_, "--out", cert_,
        "--days", "0"},
       "--days 0: must be a whole number from 1 to 3650"},
      {{"selfsign", "--subject", "CN=a", "--key", key_, "--out", cert_,
        "--days", "3651"},
       "--days 3651: must be a whole number from 1 to 3650"},
      {{"request", "--subject", "CN=a", "--key", key_, "--out", csr_,
        "--dns-name", "mx_1.example"},
       "--dns-name \"mx_1.example\": '_' at position 3 is not allowed in a "
       "DNS name (letters, digits, '-' and '.')"},
  };
  for (const Case& c : cases) {
    const CommandResult r = RunDtrust(c.args);
    EXPECT_EQ(r.exit_code(), 2) << absl::StrJoin(c.args, " ");
    EXPECT_EQ(r.err, absl::StrCat("dtrust: ", c.error, "\n"));
    EXPECT_THAT(scratch_.Listing(), IsEmpty());
  }
}

}  // namespace
}  // namespace dtrust::testing
