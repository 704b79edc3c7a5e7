// absl::Status -> grpc::Status, at the edge only.
#ifndef DTRUST_SERVER_GRPC_STATUS_CONVERSION_H_
#define DTRUST_SERVER_GRPC_STATUS_CONVERSION_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace dtrust {

// Same code (the enums share values), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_STATUS_CONVERSION_H_
