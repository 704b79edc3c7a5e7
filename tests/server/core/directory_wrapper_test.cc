#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/directory.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Field;
using ::testing::Pointee;
using ::testing::Return;

class MockDirectory : public Directory {
 public:
  MOCK_METHOD(absl::StatusOr<std::vector<ServerRecord>>, FindByDigest,
              (const Sha256Digest*, const Sha256Digest*), (override));
  MOCK_METHOD(absl::StatusOr<std::optional<ServerRecord>>, GetServer,
              (absl::string_view), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<ServerRecord>>, ListServers,
              (const ServerFilter&), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<ServerRecord>>, FindServers,
              (const ServerFilter&), (override));
  MOCK_METHOD(absl::Status, CreateServer,
              (absl::string_view, const std::vector<std::string>&), (override));
  MOCK_METHOD(absl::Status, AddDomains,
              (absl::string_view, const std::vector<std::string>&), (override));
  MOCK_METHOD(absl::Status, AddPin, (absl::string_view, const PinRecord&),
              (override));
  MOCK_METHOD(absl::Status, UpdatePin, (absl::string_view, const PinRecord&),
              (override));
  MOCK_METHOD(absl::Status, RemovePin, (absl::string_view, const Sha256Digest&),
              (override));
  MOCK_METHOD(absl::Status, RemoveServer, (absl::string_view), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<DomainPolicy>>, ListDomainPolicies, (),
              (override));
  MOCK_METHOD(absl::StatusOr<std::optional<DomainPolicy>>, GetDomainPolicy,
              (absl::string_view), (override));
  MOCK_METHOD(absl::Status, PutDomainPolicy, (const DomainPolicy&), (override));
  MOCK_METHOD(absl::Status, RemoveDomainPolicy, (absl::string_view),
              (override));
};

ServerRecord Server(const std::string& name) {
  ServerRecord server;
  server.name = name;
  return server;
}

std::vector<ServerRecord> Servers(const std::string& name) {
  return {Server(name)};
}

TEST(DirectoryWrapperTest, ForwardsEveryReadWithItsArgumentsAndAnswer) {
  MockDirectory target;
  DirectoryWrapper wrapper(&target);
  const Sha256Digest digest = Sha256Digest::Of("a certificate");
  const ServerFilter filter{.server = "mx1.b.example"};

  EXPECT_CALL(target, FindByDigest(Pointee(digest), nullptr))
      .WillOnce(Return(Servers("by-digest")));
  EXPECT_CALL(target, GetServer(Eq("mx1.b.example")))
      .WillOnce(Return(Server("get")));
  EXPECT_CALL(target, ListServers(Field(&ServerFilter::server, filter.server)))
      .WillOnce(Return(Servers("list")));
  EXPECT_CALL(target, FindServers(Field(&ServerFilter::server, filter.server)))
      .WillOnce(Return(Servers("find")));
  EXPECT_CALL(target, ListDomainPolicies())
      .WillOnce(Return(std::vector<DomainPolicy>{{.domain = "listed"}}));
  EXPECT_CALL(target, GetDomainPolicy(Eq("b.example")))
      .WillOnce(Return(DomainPolicy{.domain = "b.example"}));

  EXPECT_EQ(wrapper.FindByDigest(&digest, nullptr)->front().name, "by-digest");
  EXPECT_EQ((*wrapper.GetServer("mx1.b.example"))->name, "get");
  EXPECT_EQ(wrapper.ListServers(filter)->front().name, "list");
  EXPECT_EQ(wrapper.FindServers(filter)->front().name, "find");
  EXPECT_EQ(wrapper.ListDomainPolicies()->front().domain, "listed");
  EXPECT_EQ((*wrapper.GetDomainPolicy("b.example"))->domain, "b.example");
}

TEST(DirectoryWrapperTest, ForwardsEveryWriteWithItsArgumentsAndAnswer) {
  MockDirectory target;
  DirectoryWrapper wrapper(&target);
  PinRecord pin;
  pin.cert_sha256 = Sha256Digest::Of("a certificate");
  const DomainPolicy policy{.domain = "b.example",
                            .send = SecureMode::kEnforce};
  const auto has_pin = Field(&PinRecord::cert_sha256, pin.cert_sha256);

  EXPECT_CALL(target, CreateServer(Eq("mx1"), ElementsAre("b.example")))
      .WillOnce(Return(absl::AlreadyExistsError("create")));
  EXPECT_CALL(target, AddDomains(Eq("mx2"), ElementsAre("c.example")))
      .WillOnce(Return(absl::NotFoundError("domains")));
  EXPECT_CALL(target, AddPin(Eq("mx3"), has_pin))
      .WillOnce(Return(absl::UnavailableError("add")));
  EXPECT_CALL(target, UpdatePin(Eq("mx4"), has_pin))
      .WillOnce(Return(absl::InternalError("update")));
  EXPECT_CALL(target, RemovePin(Eq("mx5"), pin.cert_sha256))
      .WillOnce(Return(absl::NotFoundError("remove pin")));
  EXPECT_CALL(target, RemoveServer(Eq("mx6")))
      .WillOnce(Return(absl::FailedPreconditionError("remove server")));
  EXPECT_CALL(target,
              PutDomainPolicy(Field(&DomainPolicy::domain, "b.example")))
      .WillOnce(Return(absl::PermissionDeniedError("put")));
  EXPECT_CALL(target, RemoveDomainPolicy(Eq("c.example")))
      .WillOnce(Return(absl::OkStatus()));

  EXPECT_EQ(wrapper.CreateServer("mx1", {"b.example"}),
            absl::AlreadyExistsError("create"));
  EXPECT_EQ(wrapper.AddDomains("mx2", {"c.example"}),
            absl::NotFoundError("domains"));
  EXPECT_EQ(wrapper.AddPin("mx3", pin), absl::UnavailableError("add"));
  EXPECT_EQ(wrapper.UpdatePin("mx4", pin), absl::InternalError("update"));
  EXPECT_EQ(wrapper.RemovePin("mx5", pin.cert_sha256),
            absl::NotFoundError("remove pin"));
  EXPECT_EQ(wrapper.RemoveServer("mx6"),
            absl::FailedPreconditionError("remove server"));
  EXPECT_EQ(wrapper.PutDomainPolicy(policy),
            absl::PermissionDeniedError("put"));
  EXPECT_TRUE(wrapper.RemoveDomainPolicy("c.example").ok());
}

// A wrapper whose target cannot be had: every call answers with that error
// and nothing reaches a directory.
class UnreachableWrapper : public DirectoryWrapper {
 public:
  UnreachableWrapper() : DirectoryWrapper(nullptr) {}

 protected:
  absl::StatusOr<Directory*> Target() override {
    return absl::UnavailableError("not connected");
  }
};

TEST(DirectoryWrapperTest, AFailingTargetIsEveryCallsAnswer) {
  UnreachableWrapper wrapper;
  const Sha256Digest digest = Sha256Digest::Of("a certificate");
  const absl::Status expected = absl::UnavailableError("not connected");
  EXPECT_EQ(wrapper.FindByDigest(&digest, nullptr).status(), expected);
  EXPECT_EQ(wrapper.GetServer("mx1").status(), expected);
  EXPECT_EQ(wrapper.ListServers({}).status(), expected);
  EXPECT_EQ(wrapper.FindServers({}).status(), expected);
  EXPECT_EQ(wrapper.CreateServer("mx1", {"b.example"}), expected);
  EXPECT_EQ(wrapper.AddDomains("mx1", {"b.example"}), expected);
  EXPECT_EQ(wrapper.AddPin("mx1", PinRecord{}), expected);
  EXPECT_EQ(wrapper.UpdatePin("mx1", PinRecord{}), expected);
  EXPECT_EQ(wrapper.RemovePin("mx1", digest), expected);
  EXPECT_EQ(wrapper.RemoveServer("mx1"), expected);
  EXPECT_EQ(wrapper.ListDomainPolicies().status(), expected);
  EXPECT_EQ(wrapper.GetDomainPolicy("b.example").status(), expected);
  EXPECT_EQ(wrapper.PutDomainPolicy({.domain = "b.example"}), expected);
  EXPECT_EQ(wrapper.RemoveDomainPolicy("b.example"), expected);
}

}  // namespace
}  // namespace dtrust
