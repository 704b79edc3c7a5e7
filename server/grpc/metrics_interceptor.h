// Reports every gRPC call to the process's Metrics (core/metrics.h): its
// latency by method, and its status code when it fails.
#ifndef DTRUST_SERVER_GRPC_METRICS_INTERCEPTOR_H_
#define DTRUST_SERVER_GRPC_METRICS_INTERCEPTOR_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace dtrust {

// For ServerBuilder::experimental().SetInterceptorCreators. Thread-safe;
// each call gets its own interceptor.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMetricsInterceptorFactory();

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_METRICS_INTERCEPTOR_H_
