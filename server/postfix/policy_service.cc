#include "server/postfix/policy_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/core/log.h"
#include "server/core/metrics.h"

namespace dtrust {
namespace {

// "dunno", "prepend", "reject", "defer": the verdict label of `action`.
absl::string_view ActionLabel(InboundDecision::Action action) {
  switch (action) {
    case InboundDecision::Action::kDunno:
      return "dunno";
    case InboundDecision::Action::kPrepend:
      return "prepend";
    case InboundDecision::Action::kReject:
      return "reject";
    case InboundDecision::Action::kDefer:
      return "defer";
  }
  return "dunno";
}

// Reports one decision, made `latency` after the request, to the process's
// Metrics; a deferral is the directory's unavailability.
void ReportDecision(InboundDecision::Action action, absl::Duration latency) {
  Metrics& metrics = ProcessMetrics();
  metrics.ObserveRequest(Protocol::kPolicy, "policy", latency);
  metrics.CountVerdict(Protocol::kPolicy, ActionLabel(action));
  if (action == InboundDecision::Action::kDefer) {
    metrics.CountError(Protocol::kPolicy, "unavailable");
  }
}

}  // namespace

class PolicyService::Session : public StreamSession {
 public:
  Session(PolicyService* service, absl::string_view peer)
      : service_(service), peer_(peer) {}

  absl::Status Consume(absl::string_view data, std::string* reply) override {
    requests_.clear();
    const absl::Status read = reader_.Consume(data, &requests_);
    // Requests completed before a malformed line are still answered.
    for (const PolicyAttributes& attributes : requests_) {
      absl::StatusOr<PolicyQuery> query = PolicyQueryFromAttributes(attributes);
      if (!query.ok()) {
        ProcessMetrics().CountError(Protocol::kPolicy, "invalid_argument");
        return query.status();
      }
      reply->append(service_->Answer(*query, peer_, &header_instance_));
    }
    return read;
  }

  absl::Status Finish() override {
    if (!reader_.mid_request()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "closed in the middle of a policy request (no empty line)");
  }

  bool MidRequest() const override { return reader_.mid_request(); }

 private:
  PolicyService* const service_;
  const std::string peer_;
  PolicyRequestReader reader_;
  std::vector<PolicyAttributes> requests_;
  // The message (instance) that already got the X-DirectTrust header.
  std::string header_instance_;
};

std::unique_ptr<StreamSession> PolicyService::NewSession(
    absl::string_view peer) {
  return std::make_unique<Session>(this, peer);
}

std::string PolicyService::Answer(const PolicyQuery& request,
                                  absl::string_view peer,
                                  std::string* header_instance) {
  const absl::Time start = absl::Now();
  if (!request.unusable_fingerprints.empty() &&
      !warned_unusable_fingerprint_.exchange(true)) {
    LogWarning("policy: ", peer,
               " sent client certificate fingerprints "
               "that are not SHA-256 (",
               absl::StrJoin(request.unusable_fingerprints, ", "),
               "); treating them as absent. Postfix uses MD5 below "
               "compatibility_level 3.6: set compatibility_level = 3.7 or "
               "smtpd_tls_fingerprint_digest = sha256 in main.cf (logged "
               "once)");
  }
  InboundQuery query = request.query;
  query.header_added =
      !request.instance.empty() && request.instance == *header_instance;
  InboundDecision decision = policy_->Decide(query);
  if (!decision.log.empty()) {
    if (decision.action == InboundDecision::Action::kDefer) {
      failure_lines_.LogIfAllowed(LogLevel::kWarning, decision.log);
    } else {
      decision_lines_.LogIfAllowed(LogLevel::kInfo, decision.log);
    }
  }
  if (decision.action == InboundDecision::Action::kPrepend) {
    if (request.protocol_state == "END-OF-MESSAGE") {
      failure_lines_.LogIfAllowed(
          LogLevel::kWarning, "policy: cannot add \"", decision.header,
          "\" at END-OF-MESSAGE; call check_policy_service from "
          "smtpd_recipient_restrictions to get the header");
      decision = InboundDecision{};
    } else {
      *header_instance = request.instance;
    }
  }
  ReportDecision(decision.action, absl::Now() - start);
  return FormatPolicyReply(decision);
}

}  // namespace dtrust
