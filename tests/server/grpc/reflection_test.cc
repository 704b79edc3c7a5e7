// dtrustd serves gRPC server reflection: a generic client, knowing only the
// reflection protocol, finds the DirectTrust service and its schema.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/dtrustd_process.h"

namespace dtrust {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::DtrustdProcess>> started =
        testing::DtrustdProcess::StartEmbedded();
    ASSERT_TRUE(started.ok()) << started.status();
    dtrustd_ = *std::move(started);
    stub_ = ServerReflection::NewStub(grpc::CreateChannel(
        dtrustd_->endpoint(), grpc::InsecureChannelCredentials()));
  }

  // Sends each request on one stream; the answers, in order.
  std::vector<ServerReflectionResponse> Ask(
      const std::vector<ServerReflectionRequest>& requests) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    auto stream = stub_->ServerReflectionInfo(&context);
    std::vector<ServerReflectionResponse> responses;
    for (const ServerReflectionRequest& request : requests) {
      EXPECT_TRUE(stream->Write(request));
      ServerReflectionResponse response;
      EXPECT_TRUE(stream->Read(&response));
      responses.push_back(response);
    }
    stream->WritesDone();
    const grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return responses;
  }

  std::unique_ptr<testing::DtrustdProcess> dtrustd_;
  std::unique_ptr<ServerReflection::Stub> stub_;
};

TEST_F(ReflectionTest, ListsTheServicesAndDescribesDirectTrust) {
  ServerReflectionRequest list;
  list.set_list_services("");
  ServerReflectionRequest describe;
  describe.set_file_containing_symbol("dtrust.v1.DirectTrust");
  ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("dtrust.v1.NoSuchService");
  const std::vector<ServerReflectionResponse> responses =
      Ask({list, describe, unknown});
  ASSERT_EQ(responses.size(), 3u);

  std::vector<std::string> services;
  for (const auto& service : responses[0].list_services_response().service()) {
    services.push_back(service.name());
  }
  EXPECT_NE(
      std::find(services.begin(), services.end(), "dtrust.v1.DirectTrust"),
      services.end());
  EXPECT_NE(
      std::find(services.begin(), services.end(), "grpc.health.v1.Health"),
      services.end());

  google::protobuf::FileDescriptorProto file;
  ASSERT_GT(
      responses[1].file_descriptor_response().file_descriptor_proto_size(), 0);
  ASSERT_TRUE(file.ParseFromString(
      responses[1].file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "dtrust/v1/dtrust.proto");
  ASSERT_GT(file.service_size(), 0);
  std::vector<std::string> methods;
  for (const auto& method : file.service(0).method()) {
    methods.push_back(method.name());
  }
  EXPECT_NE(std::find(methods.begin(), methods.end(), "Verify"), methods.end());
  EXPECT_NE(std::find(methods.begin(), methods.end(), "Publish"),
            methods.end());

  EXPECT_EQ(responses[2].error_response().error_code(),
            static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

}  // namespace
}  // namespace dtrust
