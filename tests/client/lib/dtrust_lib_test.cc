// libdtrust with a fake verifier behind its Verifier interface: the C API
// and real in-memory TLS handshakes through the OpenSSL hook (no dtrustd).
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/lib/client.h"
#include "dtrust/dtrust.h"
#include "dtrust/dtrust.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/openssl_types.h"
#include "server/core/certificate.h"
#include "tests/testing/test_certs.h"

namespace dtrust::lib {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Answers every query with `answer` (or `error`), recording the queries.
class FakeVerifier : public Verifier {
 public:
  absl::StatusOr<VerifyAnswer> Verify(const VerifyQuery& query) override {
    absl::MutexLock lock(&mu_);
    queries_.push_back(query);
    if (!error_.ok()) return error_;
    return answer_;
  }
  void Answer(dtrust_verdict verdict, std::string reason) {
    absl::MutexLock lock(&mu_);
    answer_ = {.verdict = verdict, .reason = std::move(reason)};
    error_ = absl::OkStatus();
  }
  void Fail(absl::Status error) {
    absl::MutexLock lock(&mu_);
    error_ = std::move(error);
  }
  std::vector<VerifyQuery> queries() {
    absl::MutexLock lock(&mu_);
    return queries_;
  }

 private:
  absl::Mutex mu_;
  VerifyAnswer answer_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  std::vector<VerifyQuery> queries_ ABSL_GUARDED_BY(mu_);
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;

SslCtxPtr MakeCtx(const SSL_METHOD* method, const testing::TestCert* cert) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (cert != nullptr) {
    BioPtr cert_bio(BIO_new_mem_buf(cert->pem.data(), cert->pem.size()));
    X509Ptr x509(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    BioPtr key_bio(BIO_new_mem_buf(cert->key_pem.data(), cert->key_pem.size()));
    EvpPkeyPtr key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), x509.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key.get()), 1);
  }
  return ctx;
}

// The last alert `ssl` received (TLS alert description), or -1.
void RecordAlert(const SSL* ssl, int where, int value) {
  if ((where & SSL_CB_READ_ALERT) != 0) {
    *static_cast<int*>(SSL_get_app_data(ssl)) = value & 0xff;
  }
}

// An outbound (the client checks the server) or inbound (the server checks
// the client, mutual TLS) handshake in memory, with the hook on the checking
// side deciding through `verifier`.
class HandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = std::make_unique<FakeVerifier>();
    verifier_ = fake.get();
    client_.reset(NewConnectedClient(std::move(fake)));
    verifier_->Answer(DTRUST_VERDICT_TRUSTED, "published");
  }

  // Runs one handshake; the checking side expects `server`/`domain` unless
  // both are null. True when it completed (application data got through).
  bool Run(bool inbound, unsigned flags, const char* server,
           const char* domain) {
    client_ctx_ = MakeCtx(TLS_client_method(), inbound ? &peer_cert_ : nullptr);
    server_ctx_ =
        MakeCtx(TLS_server_method(), inbound ? &own_cert_ : &peer_cert_);
    SSL_CTX* checking = inbound ? server_ctx_.get() : client_ctx_.get();
    EXPECT_EQ(dtrust_ssl_ctx_install(checking, client_.get(), flags), DTRUST_OK)
        << dtrust_last_error();
    client_ssl_.reset(SSL_new(client_ctx_.get()));
    server_ssl_.reset(SSL_new(server_ctx_.get()));
    checking_ssl_ = inbound ? server_ssl_.get() : client_ssl_.get();
    peer_ssl_ = inbound ? client_ssl_.get() : server_ssl_.get();
    if (server != nullptr || domain != nullptr) {
      EXPECT_EQ(dtrust_ssl_expect(checking_ssl_, server, domain), DTRUST_OK);
    }
    SSL_set_app_data(peer_ssl_, &alert_received_by_peer_);
    SSL_set_info_callback(peer_ssl_, RecordAlert);
    return Drive();
  }

  testing::TestCert peer_cert_ = testing::MakeTestCert();
  testing::TestCert own_cert_ =
      testing::MakeTestCert({.common_name = "mx.org-a.example"});
  FakeVerifier* verifier_ = nullptr;
  std::unique_ptr<dtrust_client, Deleter<dtrust_client_free>> client_;
  SslCtxPtr client_ctx_, server_ctx_;
  SslPtr client_ssl_, server_ssl_;
  SSL* checking_ssl_ = nullptr;
  SSL* peer_ssl_ = nullptr;
  int alert_received_by_peer_ = -1;

 private:
  bool Drive() {
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
    SSL* client = client_ssl_.get();
    SSL* server = server_ssl_.get();
    SSL_set_bio(client, client_bio, client_bio);
    SSL_set_bio(server, server_bio, server_bio);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    int c = 0;
    int s = 0;
    for (int round = 0; round < 10 && (c != 1 || s != 1); ++round) {
      c = SSL_do_handshake(client);
      s = SSL_do_handshake(server);
      if ((c <= 0 && SSL_get_error(client, c) == SSL_ERROR_SSL) ||
          (s <= 0 && SSL_get_error(server, s) == SSL_ERROR_SSL)) {
        break;
      }
    }
    // Under TLS 1.3 the client finishes before the server has judged its
    // certificate: only data going both ways proves both accepted.
    char byte = 0;
    bool completed = c == 1 && s == 1 && SSL_write(client, "x", 1) == 1 &&
                     SSL_read(server, &byte, 1) == 1 &&
                     SSL_write(server, "y", 1) == 1 &&
                     SSL_read(client, &byte, 1) == 1;
    if (!completed && c == 1) SSL_read(client, &byte, 1);  // Reads the alert.
    return completed;
  }
};

TEST_F(HandshakeTest, OutboundTrustedCompletesAndAskedWithDigests) {
  verifier_->Answer(DTRUST_VERDICT_TRUSTED, "certificate abc is published");
  EXPECT_TRUE(Run(/*inbound=*/false, 0, "mx1.org-b.example", "org-b.example"));
  EXPECT_EQ(dtrust_ssl_status(checking_ssl_), DTRUST_OK);
  EXPECT_EQ(dtrust_ssl_verdict(checking_ssl_), DTRUST_VERDICT_TRUSTED);
  EXPECT_STREQ(dtrust_ssl_reason(checking_ssl_),
               "certificate abc is published");
  const absl::StatusOr<Certificate> cert = Certificate::FromDer(peer_cert_.der);
  ASSERT_TRUE(cert.ok());
  ASSERT_EQ(verifier_->queries().size(), 1u);
  const VerifyQuery query = verifier_->queries()[0];
  EXPECT_EQ(query.sha256, cert->sha256());
  EXPECT_EQ(query.spki_sha256, cert->spki_sha256());
  EXPECT_EQ(query.expected_server, "mx1.org-b.example");
  EXPECT_EQ(query.expected_domain, "org-b.example");
}

TEST_F(HandshakeTest, InboundMutualTlsTrustedCompletes) {
  EXPECT_TRUE(Run(/*inbound=*/true, 0, nullptr, "org-b.example"));
  EXPECT_EQ(dtrust_ssl_verdict(checking_ssl_), DTRUST_VERDICT_TRUSTED);
  EXPECT_EQ(verifier_->queries().at(0).expected_domain, "org-b.example");
}

TEST_F(HandshakeTest, NotPublishedFailsWithBadCertificateInBothDirections) {
  for (bool inbound : {false, true}) {
    verifier_->Answer(DTRUST_VERDICT_NOT_PUBLISHED, "certificate abc: none");
    EXPECT_FALSE(Run(inbound, 0, "mx1.org-b.example", nullptr)) << inbound;
    EXPECT_EQ(dtrust_ssl_verdict(checking_ssl_), DTRUST_VERDICT_NOT_PUBLISHED);
    EXPECT_STREQ(dtrust_ssl_reason(checking_ssl_), "certificate abc: none");
    EXPECT_STREQ(dtrust_ssl_outcome(checking_ssl_), "NOT_PUBLISHED");
    EXPECT_EQ(alert_received_by_peer_, SSL_AD_BAD_CERTIFICATE) << inbound;
  }
}

TEST_F(HandshakeTest, ExpiredFailsWithCertificateExpired) {
  verifier_->Answer(DTRUST_VERDICT_EXPIRED, "expired");
  EXPECT_FALSE(Run(/*inbound=*/false, 0, "mx1.org-b.example", nullptr));
  EXPECT_EQ(alert_received_by_peer_, SSL_AD_CERTIFICATE_EXPIRED);
}

TEST_F(HandshakeTest, UnavailableFailsClosedWithCertificateUnknown) {
  verifier_->Fail(absl::UnavailableError("no answer within 2s"));
  EXPECT_FALSE(Run(/*inbound=*/false, 0, "mx1.org-b.example", nullptr));
  EXPECT_EQ(dtrust_ssl_status(checking_ssl_), DTRUST_ERR_UNAVAILABLE);
  EXPECT_STREQ(dtrust_ssl_outcome(checking_ssl_), "UNAVAILABLE");
  EXPECT_EQ(dtrust_ssl_verdict(checking_ssl_), DTRUST_VERDICT_NONE);
  EXPECT_THAT(dtrust_ssl_reason(checking_ssl_),
              HasSubstr("dtrust could not answer"));
  EXPECT_EQ(alert_received_by_peer_, SSL_AD_CERTIFICATE_UNKNOWN);
}

TEST_F(HandshakeTest, UnavailableCompletesWhenFailOpen) {
  verifier_->Fail(absl::UnavailableError("no answer within 2s"));
  EXPECT_TRUE(Run(/*inbound=*/false, DTRUST_SSL_FAIL_OPEN, "mx1.org-b.example",
                  nullptr));
  EXPECT_EQ(dtrust_ssl_status(checking_ssl_), DTRUST_ERR_UNAVAILABLE);
}

TEST_F(HandshakeTest, UntrustedFailsEvenWhenFailOpen) {
  verifier_->Answer(DTRUST_VERDICT_WRONG_DOMAIN, "wrong domain");
  EXPECT_FALSE(
      Run(/*inbound=*/true, DTRUST_SSL_FAIL_OPEN, nullptr, "x.example"));
  EXPECT_EQ(alert_received_by_peer_, SSL_AD_BAD_CERTIFICATE);
}

TEST_F(HandshakeTest, NoExpectationsFailsWithoutAsking) {
  EXPECT_FALSE(Run(/*inbound=*/false, DTRUST_SSL_FAIL_OPEN, nullptr, nullptr));
  EXPECT_EQ(dtrust_ssl_status(checking_ssl_), DTRUST_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(dtrust_ssl_reason(checking_ssl_), HasSubstr("dtrust_ssl_expect"));
  EXPECT_THAT(verifier_->queries(), IsEmpty());
}

TEST_F(HandshakeTest, InstallRequiresAPeerCertificate) {
  client_ctx_ = MakeCtx(TLS_client_method(), nullptr);
  server_ctx_ = MakeCtx(TLS_server_method(), &own_cert_);
  ASSERT_EQ(dtrust_ssl_ctx_install(server_ctx_.get(), client_.get(), 0),
            DTRUST_OK);
  SslPtr server(SSL_new(server_ctx_.get()));
  EXPECT_EQ(SSL_get_verify_mode(server.get()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

// The first install's state is freed (LeakSanitizer checks it in the
// sanitizer build); the context stays usable.
TEST_F(HandshakeTest, InstallingAgainReplacesTheFirst) {
  EXPECT_TRUE(Run(/*inbound=*/false, 0, "mx1.org-b.example", nullptr));
  ASSERT_EQ(dtrust_ssl_ctx_install(client_ctx_.get(), client_.get(),
                                   DTRUST_SSL_FAIL_OPEN),
            DTRUST_OK);
  SslPtr again(SSL_new(client_ctx_.get()));
  EXPECT_EQ(SSL_get_verify_mode(again.get()),
            SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
}

TEST(CApiTest, VerifyReturnsVerdictAndReason) {
  auto fake = std::make_unique<FakeVerifier>();
  fake->Answer(DTRUST_VERDICT_PIN_EXPIRED, "pin window ended");
  std::unique_ptr<dtrust_client, Deleter<dtrust_client_free>> client(
      NewConnectedClient(std::move(fake)));
  const testing::TestCert cert = testing::MakeTestCert();
  std::unique_ptr<dtrust_result, Deleter<dtrust_result_free>> result(
      dtrust_verify(client.get(),
                    reinterpret_cast<const unsigned char*>(cert.der.data()),
                    cert.der.size(), "mx1.org-b.example", nullptr));
  EXPECT_EQ(dtrust_result_status(result.get()), DTRUST_OK);
  EXPECT_EQ(dtrust_result_verdict(result.get()), DTRUST_VERDICT_PIN_EXPIRED);
  EXPECT_STREQ(dtrust_result_reason(result.get()), "pin window ended");
  EXPECT_STREQ(dtrust_verdict_name(DTRUST_VERDICT_PIN_EXPIRED), "PIN_EXPIRED");
  // 15: past every verdict, yet inside the enum's range (a larger value is
  // undefined behaviour in C++, which UBSan reports).
  EXPECT_STREQ(dtrust_verdict_name(static_cast<dtrust_verdict>(15)), "NONE");
}

TEST(CApiTest, VerifyRejectsGarbageCertificate) {
  std::unique_ptr<dtrust_client, Deleter<dtrust_client_free>> client(
      NewConnectedClient(std::make_unique<FakeVerifier>()));
  const unsigned char garbage[] = {0x30, 0x03, 0x01};
  std::unique_ptr<dtrust_result, Deleter<dtrust_result_free>> result(
      dtrust_verify(client.get(), garbage, sizeof garbage, "", "a.example"));
  EXPECT_EQ(dtrust_result_status(result.get()), DTRUST_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(dtrust_result_reason(result.get()),
              HasSubstr("peer certificate"));
}

TEST(CApiTest, OptionsAreCheckedAndFrozenByConnect) {
  std::unique_ptr<dtrust_client, Deleter<dtrust_client_free>> client(
      dtrust_client_new());
  EXPECT_EQ(dtrust_client_set(client.get(), "colour", "red"),
            DTRUST_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(dtrust_last_error(), HasSubstr("unknown option \"colour\""));
  EXPECT_EQ(dtrust_client_set(client.get(), "timeout-ms", "0"),
            DTRUST_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(dtrust_last_error(), HasSubstr("timeout-ms"));
  EXPECT_EQ(dtrust_client_set(client.get(), "tls-cert", "/nonexistent"),
            DTRUST_OK);
  EXPECT_EQ(dtrust_client_connect(client.get()), DTRUST_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(dtrust_last_error(), HasSubstr("--tls-key"));
  EXPECT_EQ(dtrust_client_set(client.get(), "tls-cert", ""), DTRUST_OK);
  EXPECT_EQ(dtrust_client_connect(client.get()), DTRUST_OK);
  EXPECT_EQ(dtrust_client_set(client.get(), "endpoint", "unix:/x"),
            DTRUST_ERR_STATE);
  EXPECT_EQ(dtrust_ssl_ctx_install(nullptr, client.get(), 0),
            DTRUST_ERR_INVALID_ARGUMENT);
}

// The RPC path without a dtrustd: no answer within the deadline is
// "unavailable", never a verdict, and the call does not hang.
TEST(CApiTest, RpcVerifierWithoutDtrustdIsUnavailableWithinDeadline) {
  Client client;
  client.Set("endpoint", "unix:/nonexistent/dtrustd.sock")
      .Set("timeout-ms", "300")
      .Connect();
  const testing::TestCert cert = testing::MakeTestCert();
  const absl::Time start = absl::Now();
  const Result result = client.Verify(cert.der, "mx1.org-b.example", "");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(result.status, DTRUST_ERR_UNAVAILABLE);
  EXPECT_EQ(result.verdict, DTRUST_VERDICT_NONE);
  EXPECT_FALSE(result.trusted());
  EXPECT_THAT(result.reason, HasSubstr("dtrust could not answer"));
}

TEST(CApiTest, InProcessIsZeroOrOneAndWaitReadyNeedsAConnectedClient) {
  std::unique_ptr<dtrust_client, Deleter<dtrust_client_free>> client(
      dtrust_client_new());
  EXPECT_EQ(dtrust_client_set(client.get(), "in-process", "yes"),
            DTRUST_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(dtrust_last_error(), HasSubstr("in-process: not 0 or 1"));
  EXPECT_EQ(dtrust_client_wait_ready(client.get(), 10), DTRUST_ERR_STATE);
  EXPECT_EQ(dtrust_client_wait_ready(nullptr, 10), DTRUST_ERR_STATE);
  EXPECT_EQ(dtrust_client_set(client.get(), "in-process", "0"), DTRUST_OK);
  EXPECT_EQ(dtrust_client_connect(client.get()), DTRUST_OK);
  EXPECT_EQ(dtrust_client_wait_ready(client.get(), 10), DTRUST_OK);  // RPC.
}

// The in-process path without a dtrustd: never ready, and a check fails
// closed within the deadline (it waits that long for a first snapshot).
TEST(CApiTest, InProcessWithoutDtrustdIsUnavailableWithinDeadline) {
  Client client;
  client.Set("endpoint", "unix:/nonexistent/dtrustd.sock")
      .Set("timeout-ms", "300")
      .Set("in-process", "1")
      .Connect();
  EXPECT_EQ(dtrust_client_wait_ready(client.get(), 100),
            DTRUST_ERR_UNAVAILABLE);
  EXPECT_THAT(dtrust_last_error(), HasSubstr("no complete snapshot"));
  const testing::TestCert cert = testing::MakeTestCert();
  const absl::Time start = absl::Now();
  const Result result = client.Verify(cert.der, "mx1.org-b.example", "");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(result.status, DTRUST_ERR_UNAVAILABLE);
  EXPECT_THAT(result.reason, HasSubstr("no complete snapshot"));
}

}  // namespace
}  // namespace dtrust::lib
