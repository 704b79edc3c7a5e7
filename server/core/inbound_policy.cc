#include "server/core/inbound_policy.h"

#include "absl/strings/str_cat.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

using Action = InboundDecision::Action;

constexpr absl::string_view kHeaderName = "X-DirectTrust";

// The domain of an envelope sender, or empty when there is none usable.
std::string SenderDomain(absl::string_view sender) {
  const size_t at = sender.rfind('@');
  if (at == absl::string_view::npos) return "";
  absl::StatusOr<std::string> domain =
      NormalizeDnsName(sender.substr(at + 1), "sender domain");
  return domain.ok() ? *domain : "";
}

std::string Client(const InboundQuery& query) {
  return absl::StrCat(query.client_name.empty() ? "unknown" : query.client_name,
                      "[", query.client_address, "]");
}

InboundDecision Defer(const InboundQuery& query, absl::string_view domain,
                      const absl::Status& status) {
  InboundDecision decision;
  decision.action = Action::kDefer;
  decision.reply =
      "451 4.3.0 dtrust: cannot check Domain Security right now; try again "
      "later";
  decision.log = absl::StrCat(
      "inbound: deferred mail from ", domain.empty() ? "?" : domain, " by ",
      Client(query), ": directory unavailable: ", status.message());
  return decision;
}

// Why a receive-secure domain's mail is not domain-secured, in words short
// enough for an SMTP reply; empty if it is.
std::string ShortFailure(const VerifyResult& result) {
  switch (result.verdict) {
    case Verdict::kTrusted:
      return "";
    case Verdict::kNotPublished:
      return "client certificate is not published";
    case Verdict::kWrongServer:
    case Verdict::kWrongDomain:
      return absl::StrCat("client certificate is published for ", result.server,
                          ", a server of another domain");
    case Verdict::kExpired:
      return "client certificate has expired";
    case Verdict::kNotYetValid:
      return "client certificate is not valid yet";
    case Verdict::kPinExpired:
      return "client certificate's pin has expired";
    case Verdict::kPinNotYetActive:
      return "client certificate's pin is not active yet";
  }
  return "client certificate is not trusted";
}

}  // namespace

InboundDecision InboundPolicy::Decide(const InboundQuery& query) {
  const std::string domain = SenderDomain(query.sender);
  if (domain.empty()) return {};
  absl::StatusOr<std::optional<DomainPolicy>> policy =
      directory_->GetDomainPolicy(domain);
  if (!policy.ok()) return Defer(query, domain, policy.status());
  if (!*policy || (*policy)->receive == SecureMode::kOff) return {};
  const bool testing = (*policy)->receive == SecureMode::kTesting;

  std::string failure;  // Short, for replies and headers.
  std::string detail;   // Long, for the log.
  std::string server;
  std::string digest = "none";
  if (!query.tls) {
    failure = "no TLS";
  } else if (!query.cert_sha256 && !query.spki_sha256) {
    failure = "no client certificate";
  } else {
    digest = query.cert_sha256 ? query.cert_sha256->ToHex()
                               : query.spki_sha256->ToHex();
    absl::StatusOr<VerifyResult> verified =
        trust_service_->Verify({.cert_sha256 = query.cert_sha256,
                                .spki_sha256 = query.spki_sha256,
                                .expected_domain = domain});
    if (!verified.ok()) return Defer(query, domain, verified.status());
    failure = ShortFailure(*verified);
    detail = verified->reason;
    server = verified->server;
  }
  if (detail.empty()) detail = failure;

  InboundDecision decision;
  const std::string about =
      absl::StrCat("mail from ", domain, " by ", Client(query), " (helo ",
                   query.helo_name, "), cert-sha256 ", digest);
  if (failure.empty()) {
    decision.log =
        absl::StrCat("inbound: domain-secured ", about, ", server ", server);
    if (query.header_added) return decision;
    decision.action = Action::kPrepend;
    decision.header =
        absl::StrCat(kHeaderName, ": domain-secured; domain=", domain,
                     "; server=", server, "; cert-sha256=", digest);
    return decision;
  }
  if (testing) {
    decision.log = absl::StrCat("inbound: testing mode, would reject ", about,
                                ": ", detail);
    if (query.header_added) return decision;
    decision.action = Action::kPrepend;
    decision.header = absl::StrCat(kHeaderName, ": testing; domain=", domain,
                                   "; result=fail; reason=", failure);
    return decision;
  }
  decision.action = Action::kReject;
  decision.reply = absl::StrCat("550 5.7.1 dtrust: ", domain,
                                " requires domain-secured mail: ", failure);
  decision.log = absl::StrCat("inbound: rejected ", about, ": ", detail);
  return decision;
}

}  // namespace dtrust
