#include "server/core/certificate.h"

#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::dtrust::testing::MakeTestCert;
using ::dtrust::testing::TestCert;
using ::testing::HasSubstr;

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[512];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    output.append(buffer, n);
  pclose(pipe);
  return output;
}

TEST(CertificateTest, DigestsMatchOpenSslCommandLine) {
  const TestCert made = MakeTestCert();
  const std::string path = testing::WriteTempFile("c.pem", made.pem);
  auto cert = Certificate::FromPemOrDer(made.pem, "c.pem");
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(RunCommand("openssl x509 -noout -fingerprint -sha256 -in " + path),
            "sha256 Fingerprint=" + cert->sha256().ToColonHex() + "\n");
  EXPECT_EQ(RunCommand("openssl x509 -in " + path +
                       " -pubkey -noout | openssl pkey -pubin -outform DER | "
                       "openssl dgst -sha256 -r"),
            cert->spki_sha256().ToHex() + " *stdin\n");
}

TEST(CertificateTest, PemAndDerGiveTheSameCertificate) {
  const TestCert made = MakeTestCert({.common_name = "mx1.org-b.example"});
  auto from_pem = Certificate::FromPemOrDer(made.pem, "f");
  auto from_der = Certificate::FromPemOrDer(made.der, "f");
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  ASSERT_TRUE(from_der.ok()) << from_der.status();
  EXPECT_EQ(from_pem->der(), made.der);
  EXPECT_EQ(from_pem->sha256(), from_der->sha256());
  EXPECT_EQ(from_pem->sha256(), Sha256Digest::Of(made.der));
  EXPECT_EQ(from_pem->subject(), "CN=mx1.org-b.example");
}

TEST(CertificateTest, ReadsValidityDates) {
  const absl::Time not_before = absl::FromUnixSeconds(1700000000);
  const absl::Time not_after = absl::FromUnixSeconds(4102444800);  // 2100.
  auto cert = Certificate::FromDer(
      MakeTestCert({.not_before = not_before, .not_after = not_after}).der);
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->not_before(), not_before);
  EXPECT_EQ(cert->not_after(), not_after);
}

TEST(CertificateTest, SameKeyMeansSameSpkiDigestOnly) {
  const TestCert first = MakeTestCert();
  const TestCert renewed = MakeTestCert({.key_pem = first.key_pem});
  auto a = Certificate::FromDer(first.der);
  auto b = Certificate::FromDer(renewed.der);
  EXPECT_NE(a->sha256(), b->sha256());
  EXPECT_EQ(a->spki_sha256(), b->spki_sha256());
}

TEST(CertificateTest, RejectsPemWithTrailingJunk) {
  const TestCert made = MakeTestCert();
  auto cert = Certificate::FromPemOrDer(made.pem + "junk\n", "mx1.pem");
  EXPECT_TRUE(absl::IsInvalidArgument(cert.status()));
  EXPECT_THAT(cert.status().message(), HasSubstr("mx1.pem"));
  EXPECT_THAT(cert.status().message(), HasSubstr("trailing data"));
  // Whitespace around is fine.
  EXPECT_TRUE(Certificate::FromPemOrDer("\n  " + made.pem + "\n\n", "f").ok());
}

TEST(CertificateTest, RejectsSeveralCertificates) {
  const std::string two = MakeTestCert().pem + MakeTestCert().pem;
  EXPECT_THAT(Certificate::FromPemOrDer(two, "f").status().message(),
              HasSubstr("more than one PEM block"));
  const TestCert made = MakeTestCert();
  EXPECT_THAT(Certificate::FromPemOrDer(made.pem + made.key_pem, "f")
                  .status()
                  .message(),
              HasSubstr("more than one PEM block"));
}

TEST(CertificateTest, RejectsPemOfAnotherKind) {
  const TestCert made = MakeTestCert();
  EXPECT_THAT(
      Certificate::FromPemOrDer(made.key_pem, "k.pem").status().message(),
      HasSubstr("\"PRIVATE KEY\", not a \"CERTIFICATE\""));
}

TEST(CertificateTest, RejectsTextBeforePem) {
  const TestCert made = MakeTestCert();
  EXPECT_THAT(Certificate::FromPemOrDer("Subject: x\n" + made.pem, "f")
                  .status()
                  .message(),
              HasSubstr("text before"));
}

TEST(CertificateTest, RejectsDerWithTrailingBytes) {
  const TestCert made = MakeTestCert();
  auto cert = Certificate::FromDer(made.der + "xyz");
  EXPECT_THAT(cert.status().message(), HasSubstr("3 trailing bytes"));
  EXPECT_THAT(
      Certificate::FromPemOrDer(made.der + "xyz", "f.der").status().message(),
      HasSubstr("f.der: 3 trailing bytes"));
}

TEST(CertificateTest, RejectsNonCertificates) {
  EXPECT_THAT(
      Certificate::FromPemOrDer("hello world\n", "f").status().message(),
      HasSubstr("not a DER or PEM X.509 certificate"));
  EXPECT_THAT(Certificate::FromDer("").status().message(), HasSubstr("empty"));
  const TestCert made = MakeTestCert();
  EXPECT_FALSE(
      Certificate::FromDer(made.der.substr(0, made.der.size() - 1)).ok());
}

TEST(CertificateTest, RejectsInputOver64KiB) {
  const std::string big(kMaxCertificateBytes + 1, '\x30');
  auto cert = Certificate::FromPemOrDer(big, "big.der");
  EXPECT_THAT(cert.status().message(), HasSubstr("larger than the 64 KiB"));
  EXPECT_THAT(Certificate::FromDer(big).status().message(),
              HasSubstr("larger than the 64 KiB"));
}

}  // namespace
}  // namespace dtrust

namespace dtrust {
namespace {

// `openssl` output for `command` (a shell pipeline writing DER to stdout).
std::string OpenSslDer(const std::string& command) {
  std::string der;
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    der.append(buffer, n);
  }
  EXPECT_EQ(pclose(pipe), 0) << command;
  return der;
}

TEST(CertificateMatchingFactsTest, EqualWhatFullParsingGives) {
  const std::string dir = ::testing::TempDir();
  std::vector<std::string> ders = {
      testing::MakeTestCert().der,
      testing::MakeTestCert({.issuer_common_name = "Some CA"}).der,
      // RSA, made by openssl x509 -req: version 1 (no version field).
      OpenSslDer("openssl genrsa -out " + dir +
                 "/rsa.key 2048 2>/dev/null && "
                 "openssl req -new -key " +
                 dir +
                 "/rsa.key -subj "
                 "/CN=mx9.example | openssl x509 -req -signkey " +
                 dir + "/rsa.key -days 3 -outform DER 2>/dev/null")};
  for (const std::string& der : ders) {
    absl::StatusOr<Certificate> full = Certificate::FromDer(der);
    absl::StatusOr<CertificateFacts> facts = Certificate::MatchingFacts(der);
    ASSERT_TRUE(full.ok()) << full.status();
    ASSERT_TRUE(facts.ok()) << facts.status();
    EXPECT_EQ(facts->sha256, full->sha256());
    EXPECT_EQ(facts->spki_sha256, full->spki_sha256());
    EXPECT_EQ(facts->not_before, full->not_before());
    EXPECT_EQ(facts->not_after, full->not_after());
  }
}

TEST(CertificateMatchingFactsTest, RefusesWhatItCannotFollow) {
  const std::string der = testing::MakeTestCert().der;
  for (const std::string& bad :
       {std::string(), std::string("not a certificate"),
        der.substr(0, der.size() / 2), der + std::string(1, '\0'),
        std::string("\x30\x80\x00\x00", 4)}) {
    const absl::Status status = Certificate::MatchingFacts(bad).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  }
}

}  // namespace
}  // namespace dtrust
