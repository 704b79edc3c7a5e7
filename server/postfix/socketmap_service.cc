#include "server/postfix/socketmap_service.h"

#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/core/log.h"
#include "server/core/metrics.h"
#include "server/postfix/socketmap_protocol.h"

namespace dtrust {
namespace {

// Reports one answer `reply` (a socketmap reply, before framing), given
// `latency` after the request, to the process's Metrics.
void ReportAnswer(absl::string_view reply, absl::Duration latency) {
  Metrics& metrics = ProcessMetrics();
  metrics.ObserveRequest(Protocol::kSocketmap, "socketmap", latency);
  if (absl::StartsWith(reply, "OK ")) {
    metrics.CountVerdict(Protocol::kSocketmap, "found");
  } else if (absl::StartsWith(reply, "NOTFOUND")) {
    metrics.CountVerdict(Protocol::kSocketmap, "not_found");
  } else if (absl::StartsWith(reply, "PERM")) {
    metrics.CountVerdict(Protocol::kSocketmap, "perm_fail");
    metrics.CountError(Protocol::kSocketmap, "invalid_argument");
  } else {
    metrics.CountVerdict(Protocol::kSocketmap, "temp_fail");
    metrics.CountError(Protocol::kSocketmap, "unavailable");
  }
}

}  // namespace

class SocketmapService::Session : public StreamSession {
 public:
  Session(SocketmapService* service, absl::string_view peer)
      : service_(service), peer_(peer) {}

  absl::Status Consume(absl::string_view data, std::string* reply) override {
    requests_.clear();
    const absl::Status read = reader_.Consume(data, &requests_);
    // Requests completed before a bad netstring are still answered.
    for (const std::string& request : requests_) {
      const absl::Time start = absl::Now();
      const std::string answer = service_->Answer(request, peer_);
      ReportAnswer(answer, absl::Now() - start);
      reply->append(FormatNetstring(answer));
    }
    return read;
  }

  absl::Status Finish() override {
    if (!reader_.mid_netstring()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "closed in the middle of a socketmap request");
  }

  bool MidRequest() const override { return reader_.mid_netstring(); }

 private:
  SocketmapService* const service_;
  const std::string peer_;
  NetstringReader reader_;
  std::vector<std::string> requests_;
};

std::unique_ptr<StreamSession> SocketmapService::NewSession(
    absl::string_view peer) {
  return std::make_unique<Session>(this, peer);
}

std::string SocketmapService::Answer(absl::string_view data,
                                     absl::string_view peer) {
  absl::StatusOr<SocketmapRequest> request = ParseSocketmapRequest(data);
  if (!request.ok()) {
    failure_lines_.LogIfAllowed(LogLevel::kWarning, "socketmap: ", peer, ": ",
                                request.status().message());
    return SocketmapPerm("dtrust: request is not \"NAME KEY\"");
  }
  if (!map_name_.empty() && request->name != map_name_) {
    const std::string name = absl::CHexEscape(request->name);
    failure_lines_.LogIfAllowed(LogLevel::kWarning, "socketmap: ", peer,
                                ": unknown map \"", name,
                                "\" (configured: ", map_name_, ")");
    return SocketmapPerm(absl::StrCat("unknown map ", name));
  }
  const TlsPolicyAnswer answer = policy_->Lookup(request->key);
  if (!answer.log.empty()) {
    if (answer.kind == TlsPolicyAnswer::Kind::kTempFail) {
      failure_lines_.LogIfAllowed(LogLevel::kWarning, answer.log);
    } else {
      answer_lines_.LogIfAllowed(LogLevel::kInfo, answer.log);
    }
  }
  absl::StatusOr<std::string> reply = FormatSocketmapAnswer(answer);
  if (!reply.ok()) {
    failure_lines_.LogIfAllowed(
        LogLevel::kWarning, "socketmap: ", absl::CHexEscape(request->key), ": ",
        reply.status().message(), "; answering TEMP");
    return SocketmapTemp(absl::StrCat("dtrust: ", reply.status().message()));
  }
  return *std::move(reply);
}

}  // namespace dtrust
