#include "server/core/metrics.h"

#include <atomic>

namespace dtrust {
namespace {

std::atomic<Metrics*> installed{nullptr};

}  // namespace

absl::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kPolicy:
      return "policy";
    case Protocol::kSocketmap:
      return "socketmap";
  }
  return "unknown";
}

Metrics& ProcessMetrics() {
  static Metrics none;
  Metrics* metrics = installed.load(std::memory_order_acquire);
  return metrics != nullptr ? *metrics : none;
}

void SetProcessMetrics(Metrics* metrics) {
  installed.store(metrics, std::memory_order_release);
}

}  // namespace dtrust
