// The C API's client, verification and error functions (dtrust/dtrust.h).
#include <algorithm>
#include <cstdlib>
#include <new>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/grpc_dtrustd_client.h"
#include "client/lib/client.h"
#include "client/lib/watch_source.h"
#include "client/lib/watch_verifier.h"
#include "server/core/certificate.h"
#include "server/core/clock.h"

struct dtrust_result {
  dtrust::lib::CheckOutcome outcome;
};

namespace dtrust::lib {
namespace {

thread_local std::string last_error;

constexpr int64_t kMaxTimeoutMs = 60000;

dtrust_status SetTimeout(dtrust_client* client, absl::string_view value) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(value, &ms) || ms < 1 || ms > kMaxTimeoutMs) {
    return SetLastError(
        DTRUST_ERR_INVALID_ARGUMENT,
        absl::StrCat("timeout-ms: not a number of milliseconds in 1..",
                     kMaxTimeoutMs));
  }
  client->timeout = absl::Milliseconds(ms);
  return SetLastError(DTRUST_OK, "");
}

dtrust_status SetInProcess(dtrust_client* client, absl::string_view value) {
  if (value != "0" && value != "1") {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT, "in-process: not 0 or 1");
  }
  client->in_process = value == "1";
  return SetLastError(DTRUST_OK, "");
}

// The verifier `client` asks for: one Verify RPC per check, or the
// in-process copy fed by Watch, whose first checks wait up to the timeout
// for its first snapshot.
std::unique_ptr<Verifier> NewVerifier(const dtrust_client& client,
                                      cli::ChannelSecurity security) {
  if (!client.in_process) {
    return std::make_unique<RpcVerifier>(
        std::make_unique<cli::GrpcDtrustdClient>(
            client.endpoint, client.timeout, std::move(security)));
  }
  return std::make_unique<WatchVerifier>(
      NewGrpcWatchSource(client.endpoint, security), Clock::Real(),
      WatchVerifierOptions{.connect_timeout = client.timeout,
                           .first_snapshot_wait = client.timeout});
}

// The option's field in `client`, or null for an unknown option.
std::string* StringOption(dtrust_client* client, absl::string_view option) {
  if (option == "endpoint") return &client->endpoint;
  if (option == "tls-cert") return &client->security.cert_file;
  if (option == "tls-key") return &client->security.key_file;
  if (option == "server-sha256") return &client->security.server_sha256;
  if (option == "ca") return &client->security.ca_file;
  return nullptr;
}

}  // namespace

dtrust_status SetLastError(dtrust_status code, absl::string_view message) {
  last_error.assign(message.data(), message.size());
  return code;
}

CheckOutcome CheckCertificate(Verifier& verifier, absl::string_view der,
                              absl::string_view expected_server,
                              absl::string_view expected_domain) {
  if (expected_server.empty() && expected_domain.empty()) {
    return {.status = DTRUST_ERR_INVALID_ARGUMENT,
            .reason =
                "no expected server or mail domain was given for the "
                "peer (dtrust_ssl_expect)"};
  }
  absl::StatusOr<Certificate> certificate =
      Certificate::FromDer(der, "peer certificate");
  if (!certificate.ok()) {
    return {.status = DTRUST_ERR_INVALID_ARGUMENT,
            .reason = std::string(certificate.status().message())};
  }
  absl::StatusOr<VerifyAnswer> answer =
      verifier.Verify({.sha256 = certificate->sha256(),
                       .spki_sha256 = certificate->spki_sha256(),
                       .expected_server = std::string(expected_server),
                       .expected_domain = std::string(expected_domain)});
  if (!answer.ok()) {
    return {.status = DTRUST_ERR_UNAVAILABLE,
            .reason = absl::StrCat("dtrust could not answer for certificate ",
                                   certificate->sha256().ToHex(), ": ",
                                   answer.status().message())};
  }
  return {.verdict = answer->verdict, .reason = std::move(answer->reason)};
}

dtrust_client* NewConnectedClient(std::unique_ptr<Verifier> verifier) {
  auto* client = new dtrust_client();
  client->verifier = std::move(verifier);
  return client;
}

}  // namespace dtrust::lib

using dtrust::lib::SetLastError;

extern "C" {

const char* dtrust_verdict_name(dtrust_verdict verdict) {
  static constexpr const char* kNames[] = {
      "NONE",          "TRUSTED",      "NOT_PUBLISHED",
      "WRONG_SERVER",  "WRONG_DOMAIN", "EXPIRED",
      "NOT_YET_VALID", "PIN_EXPIRED",  "PIN_NOT_YET_ACTIVE"};
  const int index = static_cast<int>(verdict);
  if (index < 0 || index >= static_cast<int>(std::size(kNames))) {
    return kNames[0];
  }
  return kNames[index];
}

const char* dtrust_last_error(void) { return dtrust::lib::last_error.c_str(); }

dtrust_client* dtrust_client_new(void) {
  return new (std::nothrow) dtrust_client();
}

dtrust_status dtrust_client_set(dtrust_client* client, const char* option,
                                const char* value) {
  if (client == nullptr || option == nullptr || value == nullptr) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT,
                        "dtrust_client_set: a NULL argument");
  }
  if (client->verifier != nullptr) {
    return SetLastError(DTRUST_ERR_STATE,
                        "dtrust_client_set: the client is already connected");
  }
  if (absl::string_view(option) == "timeout-ms") {
    return dtrust::lib::SetTimeout(client, value);
  }
  if (absl::string_view(option) == "in-process") {
    return dtrust::lib::SetInProcess(client, value);
  }
  std::string* field = dtrust::lib::StringOption(client, option);
  if (field == nullptr) {
    return SetLastError(
        DTRUST_ERR_INVALID_ARGUMENT,
        absl::StrCat("dtrust_client_set: unknown option \"",
                     absl::CHexEscape(option),
                     "\" (endpoint, timeout-ms, in-process, tls-cert, "
                     "tls-key, server-sha256, ca)"));
  }
  *field = value;
  return SetLastError(DTRUST_OK, "");
}

dtrust_status dtrust_client_set_from_environment(dtrust_client* client) {
  static constexpr const char* kVariables[][2] = {
      {"DTRUST_ENDPOINT", "endpoint"},
      {"DTRUST_CERT", "tls-cert"},
      {"DTRUST_KEY", "tls-key"},
      {"DTRUST_SERVER_SHA256", "server-sha256"}};
  for (const auto& [variable, option] : kVariables) {
    const char* value = std::getenv(variable);
    if (value == nullptr) continue;
    if (dtrust_status status = dtrust_client_set(client, option, value);
        status != DTRUST_OK) {
      return status;
    }
  }
  return SetLastError(DTRUST_OK, "");
}

dtrust_status dtrust_client_connect(dtrust_client* client) {
  if (client == nullptr) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT,
                        "dtrust_client_connect: a NULL client");
  }
  if (client->verifier != nullptr) {
    return SetLastError(DTRUST_ERR_STATE,
                        "dtrust_client_connect: already connected");
  }
  if (client->endpoint.empty()) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT, "the endpoint is empty");
  }
  absl::StatusOr<dtrust::cli::ChannelSecurity> security =
      dtrust::cli::MakeChannelSecurity(client->security);
  if (!security.ok()) {
    return SetLastError(DTRUST_ERR_INVALID_ARGUMENT,
                        security.status().message());
  }
  client->verifier = dtrust::lib::NewVerifier(*client, *std::move(security));
  return SetLastError(DTRUST_OK, "");
}

dtrust_status dtrust_client_wait_ready(dtrust_client* client, int timeout_ms) {
  if (client == nullptr || client->verifier == nullptr) {
    return SetLastError(DTRUST_ERR_STATE,
                        "dtrust_client_wait_ready: no connected client");
  }
  absl::Status ready = client->verifier->WaitReady(
      absl::Milliseconds(std::clamp(timeout_ms, 0, 3'600'000)));
  if (!ready.ok()) {
    return SetLastError(DTRUST_ERR_UNAVAILABLE, ready.message());
  }
  return SetLastError(DTRUST_OK, "");
}

void dtrust_client_free(dtrust_client* client) { delete client; }

dtrust_result* dtrust_verify(dtrust_client* client, const unsigned char* der,
                             size_t der_len, const char* expected_server,
                             const char* expected_domain) {
  auto* result = new (std::nothrow) dtrust_result();
  if (result == nullptr) return nullptr;
  if (client == nullptr || client->verifier == nullptr || der == nullptr) {
    result->outcome = {.status = DTRUST_ERR_STATE,
                       .reason =
                           "dtrust_verify: no connected client or no "
                           "certificate"};
    return result;
  }
  result->outcome = dtrust::lib::CheckCertificate(
      *client->verifier,
      absl::string_view(reinterpret_cast<const char*>(der), der_len),
      expected_server == nullptr ? "" : expected_server,
      expected_domain == nullptr ? "" : expected_domain);
  return result;
}

dtrust_status dtrust_result_status(const dtrust_result* result) {
  return result->outcome.status;
}

dtrust_verdict dtrust_result_verdict(const dtrust_result* result) {
  return result->outcome.verdict;
}

const char* dtrust_result_reason(const dtrust_result* result) {
  return result->outcome.reason.c_str();
}

void dtrust_result_free(dtrust_result* result) { delete result; }

}  // extern "C"
