// The OpenSSL hook of the C API (dtrust/dtrust.h): a certificate verify
// callback on the SSL_CTX, expectations and outcome in the SSL's ex_data.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <new>
#include <string>

#include "client/lib/client.h"
#include "server/base/openssl_types.h"

namespace dtrust::lib {
namespace {

// What install configured on an SSL_CTX; owned by the SSL_CTX's ex_data.
struct CtxHook {
  dtrust_client* client;
  unsigned flags;
};

// One connection's expectations and outcome; owned by the SSL's ex_data.
struct SslState {
  std::string expected_server;
  std::string expected_domain;
  CheckOutcome outcome;
};

void FreeCtxHook(void*, void* hook, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<CtxHook*>(hook);
}

void FreeSslState(void*, void* state, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<SslState*>(state);
}

int CtxIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeCtxHook);
  return index;
}

int SslIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreeSslState);
  return index;
}

SslState* FindState(const SSL* ssl) {
  return ssl == nullptr
             ? nullptr
             : static_cast<SslState*>(SSL_get_ex_data(ssl, SslIndex()));
}

// The SSL's state, created on first use; null when out of memory.
SslState* StateOf(SSL* ssl) {
  if (SslState* state = FindState(ssl)) return state;
  auto* state = new (std::nothrow) SslState();
  if (state != nullptr && SSL_set_ex_data(ssl, SslIndex(), state) != 1) {
    delete state;
    return nullptr;
  }
  return state;
}

// The X509 verify error (hence the alert the peer gets) for a refusal.
int VerifyErrorFor(const CheckOutcome& outcome) {
  switch (outcome.verdict) {
    case DTRUST_VERDICT_NONE:
      // One OpenSSL 3.0 maps to no particular alert, hence
      // certificate_unknown; the reason is in dtrust_ssl_reason.
      return X509_V_ERR_NO_EXPLICIT_POLICY;
    case DTRUST_VERDICT_EXPIRED:  // certificate_expired.
      return X509_V_ERR_CERT_HAS_EXPIRED;
    default:  // bad_certificate.
      return X509_V_ERR_CERT_REJECTED;
  }
}

CheckOutcome CheckLeaf(const CtxHook& hook, X509* leaf, const SslState& state) {
  if (leaf == nullptr) {
    return {.status = DTRUST_ERR_INVALID_ARGUMENT,
            .reason = "the peer presented no certificate"};
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(leaf, &der);
  if (der_len <= 0) {
    return {.status = DTRUST_ERR_INVALID_ARGUMENT,
            .reason = "the peer's certificate cannot be encoded"};
  }
  const OpenSslBytes owned_der(der);
  return CheckCertificate(
      *hook.client->verifier,
      absl::string_view(reinterpret_cast<const char*>(der), der_len),
      state.expected_server, state.expected_domain);
}

// SSL_CTX_set_cert_verify_callback's callback: 1 lets the handshake go on.
int VerifyWithDtrust(X509_STORE_CTX* store, void* arg) {
  const auto& hook = *static_cast<const CtxHook*>(arg);
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  SslState* state = StateOf(ssl);
  if (state == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_OUT_OF_MEM);
    return 0;
  }
  state->outcome = CheckLeaf(hook, X509_STORE_CTX_get0_cert(store), *state);
  const CheckOutcome& outcome = state->outcome;
  const bool accept = outcome.verdict == DTRUST_VERDICT_TRUSTED ||
                      (outcome.status == DTRUST_ERR_UNAVAILABLE &&
                       (hook.flags & DTRUST_SSL_FAIL_OPEN) != 0);
  X509_STORE_CTX_set_error(store, accept ? X509_V_OK : VerifyErrorFor(outcome));
  return accept ? 1 : 0;
}

}  // namespace
}  // namespace dtrust::lib

using dtrust::lib::SetLastError;

extern "C" {

dtrust_status dtrust_ssl_ctx_install(SSL_CTX* ctx, dtrust_client* client,
                                     unsigned flags) {
  if (ctx == nullptr || client == nullptr) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT,
                        "dtrust_ssl_ctx_install: a NULL argument");
  }
  if (client->verifier == nullptr) {
    return SetLastError(DTRUST_ERR_STATE,
                        "dtrust_ssl_ctx_install: the client is not connected "
                        "(dtrust_client_connect)");
  }
  if ((flags & ~DTRUST_SSL_FAIL_OPEN) != 0) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT,
                        "dtrust_ssl_ctx_install: unknown flags");
  }
  auto* hook = new (std::nothrow) dtrust::lib::CtxHook{client, flags};
  auto* previous = static_cast<dtrust::lib::CtxHook*>(
      SSL_CTX_get_ex_data(ctx, dtrust::lib::CtxIndex()));
  if (hook == nullptr ||
      SSL_CTX_set_ex_data(ctx, dtrust::lib::CtxIndex(), hook) != 1) {
    delete hook;
    return SetLastError(DTRUST_ERR_STATE,
                        "dtrust_ssl_ctx_install: out of memory");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, dtrust::lib::VerifyWithDtrust, hook);
  delete previous;  // Installed again: the new settings replace it.
  return SetLastError(DTRUST_OK, "");
}

dtrust_status dtrust_ssl_expect(SSL* ssl, const char* expected_server,
                                const char* expected_domain) {
  const std::string server = expected_server == nullptr ? "" : expected_server;
  const std::string domain = expected_domain == nullptr ? "" : expected_domain;
  if (ssl == nullptr || (server.empty() && domain.empty())) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT,
                        "dtrust_ssl_expect: needs an SSL and an expected "
                        "server or mail domain");
  }
  dtrust::lib::SslState* state = dtrust::lib::StateOf(ssl);
  if (state == nullptr) {
    return SetLastError(DTRUST_ERR_STATE, "dtrust_ssl_expect: out of memory");
  }
  state->expected_server = server;
  state->expected_domain = domain;
  return SetLastError(DTRUST_OK, "");
}

dtrust_status dtrust_ssl_status(const SSL* ssl) {
  const dtrust::lib::SslState* state = dtrust::lib::FindState(ssl);
  return state == nullptr ? DTRUST_OK : state->outcome.status;
}

dtrust_verdict dtrust_ssl_verdict(const SSL* ssl) {
  const dtrust::lib::SslState* state = dtrust::lib::FindState(ssl);
  return state == nullptr ? DTRUST_VERDICT_NONE : state->outcome.verdict;
}

const char* dtrust_ssl_reason(const SSL* ssl) {
  const dtrust::lib::SslState* state = dtrust::lib::FindState(ssl);
  return state == nullptr ? "" : state->outcome.reason.c_str();
}

const char* dtrust_ssl_outcome(const SSL* ssl) {
  return dtrust_ssl_status(ssl) == DTRUST_ERR_UNAVAILABLE
             ? "UNAVAILABLE"
             : dtrust_verdict_name(dtrust_ssl_verdict(ssl));
}

}  // extern "C"
