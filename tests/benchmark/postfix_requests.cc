#include "tests/benchmark/postfix_requests.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/core/certificate.h"
#include "server/postfix/socketmap_protocol.h"
#include "tests/testing/test_certs.h"

namespace dtrust::bench {

std::string Domain(int i) { return absl::StrCat("org-", i, ".example"); }

absl::StatusOr<std::vector<Published>> Populate(const std::string& endpoint,
                                                int domains) {
  auto stub = v1::DirectTrust::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  std::vector<Published> published;
  for (int i = 0; i < domains; ++i) {
    const testing::TestCert cert =
        testing::MakeTestCert({.common_name = "mx1." + Domain(i)});
    v1::PublishRequest publish;
    publish.set_server("mx1." + Domain(i));
    publish.add_domains(Domain(i));
    publish.set_certificate_der(cert.der);
    v1::PublishResponse published_response;
    grpc::ClientContext publish_context;
    if (!stub->Publish(&publish_context, publish, &published_response).ok()) {
      return absl::InternalError("publish failed");
    }
    v1::SetDomainPolicyRequest policy;
    policy.set_domain(Domain(i));
    policy.set_send(v1::SECURE_MODE_ENFORCE);
    policy.set_receive(v1::SECURE_MODE_ENFORCE);
    v1::DomainPolicy policy_response;
    grpc::ClientContext policy_context;
    if (!stub->SetDomainPolicy(&policy_context, policy, &policy_response)
             .ok()) {
      return absl::InternalError("SetDomainPolicy failed");
    }
    const Certificate parsed = *Certificate::FromDer(cert.der);
    published.push_back(
        {parsed.sha256().ToColonHex(), parsed.spki_sha256().ToColonHex()});
  }
  return published;
}

size_t NetstringLength(const std::string& buffer) {
  const size_t colon = buffer.find(':');
  if (colon == std::string::npos) return 0;
  size_t length = 0;
  if (!absl::SimpleAtoi(buffer.substr(0, colon), &length)) {
    return buffer.size();
  }
  const size_t total = colon + 1 + length + 1;
  return buffer.size() >= total ? total : 0;
}

size_t PolicyReplyLength(const std::string& buffer) {
  const size_t end = buffer.find("\n\n");
  return end == std::string::npos ? 0 : end + 2;
}

std::string SocketmapRequest(int64_t i, int domains) {
  return FormatNetstring(
      absl::StrCat("dtrust ", Domain(static_cast<int>(i % domains))));
}

bool IsSocketmapPin(const std::string& reply) {
  return reply.find(":OK fingerprint match=") != std::string::npos;
}

std::string PolicyRequest(int64_t i, int connection,
                          const std::vector<Published>& published) {
  const int d = static_cast<int>(i % static_cast<int64_t>(published.size()));
  return absl::StrCat(
      "request=smtpd_access_policy\nprotocol_state=RCPT\n"
      "protocol_name=ESMTP\nclient_address=127.0.0.1\n"
      "client_name=mx1.",
      Domain(d), "\nhelo_name=mx1.", Domain(d), "\nsender=alice@", Domain(d),
      "\nrecipient=bob@example.net\ninstance=", connection, ".", i,
      "\nencryption_protocol=TLSv1.3\nccert_fingerprint=",
      published[d].cert_fingerprint,
      "\nccert_pubkey_fingerprint=", published[d].spki_fingerprint, "\n\n");
}

bool IsDomainSecured(const std::string& reply) {
  return reply.rfind("action=PREPEND X-DirectTrust: domain-secured", 0) == 0;
}

LoadSpec SocketmapLoad(int domains) {
  LoadSpec spec;
  spec.request = [domains](int64_t i) { return SocketmapRequest(i, domains); };
  spec.reply_length = NetstringLength;
  spec.reply_ok = IsSocketmapPin;
  return spec;
}

LoadSpec PolicyLoad(const std::vector<Published>* published, int tag) {
  LoadSpec spec;
  spec.request = [published, tag](int64_t i) {
    return PolicyRequest(i, tag, *published);
  };
  spec.reply_length = PolicyReplyLength;
  spec.reply_ok = IsDomainSecured;
  return spec;
}

}  // namespace dtrust::bench
