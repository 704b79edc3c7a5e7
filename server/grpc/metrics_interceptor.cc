#include "server/grpc/metrics_interceptor.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/core/metrics.h"

namespace dtrust {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Times one call from its start to the status it sends.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(absl::string_view method)
      : method_(MethodName(method)), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      Metrics& metrics = ProcessMetrics();
      metrics.ObserveRequest(Protocol::kGrpc, method_, absl::Now() - start_);
      const grpc::Status status = methods->GetSendStatus();
      if (!status.ok()) {
        // gRPC's codes are absl's.
        metrics.CountError(
            Protocol::kGrpc,
            absl::AsciiStrToLower(absl::StatusCodeToString(
                static_cast<absl::StatusCode>(status.error_code()))));
      }
    }
    methods->Proceed();
  }

 private:
  // "Verify" of "/dtrust.v1.DirectTrust/Verify"; "other" for a method of
  // no service dtrustd serves (the name is the client's, so it is no
  // label).
  static std::string MethodName(absl::string_view method) {
    const size_t slash = method.rfind('/');
    if (slash == absl::string_view::npos ||
        !(absl::StartsWith(method, "/dtrust.v1.") ||
          absl::StartsWith(method, "/grpc.health.v1.") ||
          absl::StartsWith(method, "/grpc.reflection."))) {
      return "other";
    }
    return std::string(method.substr(slash + 1));
  }

  const std::string method_;
  const absl::Time start_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info->method());
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMetricsInterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>();
}

}  // namespace dtrust
