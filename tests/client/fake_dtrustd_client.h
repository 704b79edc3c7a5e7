// A fake dtrustd for unit tests of the dtrust commands: records each request
// and answers with what the test set, no gRPC, no dtrustd, no slapd.
#ifndef DTRUST_TESTS_CLIENT_FAKE_DTRUSTD_CLIENT_H_
#define DTRUST_TESTS_CLIENT_FAKE_DTRUSTD_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli.h"
#include "client/dtrustd_client.h"
#include "client/exit_code.h"
#include "gtest/gtest.h"

namespace dtrust::testing {

// One RPC of the fake: the requests it got, in order, and its next answer
// (by default an empty OK answer).
template <typename Request, typename Response>
struct FakeRpc {
  absl::StatusOr<Response> Call(const Request& request) {
    requests.push_back(request);
    return answer;
  }

  absl::StatusOr<Response> answer = Response();
  std::vector<Request> requests;
};

// Answers every DtrustdClient call from its FakeRpc. Not thread-safe.
class FakeDtrustdClient : public cli::DtrustdClient {
 public:
  absl::StatusOr<v1::PublishResponse> Publish(
      const v1::PublishRequest& request) override {
    return publish.Call(request);
  }
  absl::StatusOr<v1::PublishChallenge> GetPublishChallenge(
      const v1::PublishChallengeRequest& request) override {
    return challenge.Call(request);
  }
  absl::StatusOr<v1::UnpublishResponse> Unpublish(
      const v1::UnpublishRequest& request) override {
    return unpublish.Call(request);
  }
  absl::StatusOr<std::vector<v1::ServerEntry>> List(
      const v1::ListRequest& request) override {
    return list.Call(request);
  }
  absl::StatusOr<v1::VerifyResponse> Verify(
      const v1::VerifyRequest& request) override {
    return verify.Call(request);
  }
  absl::StatusOr<v1::DomainPolicy> SetDomainPolicy(
      const v1::SetDomainPolicyRequest& request) override {
    return set_domain_policy.Call(request);
  }
  absl::StatusOr<v1::ListDomainPoliciesResponse> ListDomainPolicies(
      const v1::ListDomainPoliciesRequest& request) override {
    return list_domain_policies.Call(request);
  }
  absl::StatusOr<v1::ServiceStatus> GetStatus() override {
    return status.Call(v1::GetStatusRequest());
  }
  absl::StatusOr<v1::ClientGrant> GrantClient(
      const v1::GrantClientRequest& request) override {
    return grant_client.Call(request);
  }
  absl::StatusOr<v1::ClientGrant> RevokeClient(
      const v1::RevokeClientRequest& request) override {
    return revoke_client.Call(request);
  }
  absl::StatusOr<v1::ListClientsResponse> ListClients() override {
    return list_clients.Call(v1::ListClientsRequest());
  }
  absl::StatusOr<v1::HistoryResponse> GetHistory(
      const v1::HistoryRequest& request) override {
    return history.Call(request);
  }

  // How many calls the fake got, over all RPCs.
  size_t calls() const;

  FakeRpc<v1::PublishRequest, v1::PublishResponse> publish;
  FakeRpc<v1::PublishChallengeRequest, v1::PublishChallenge> challenge;
  FakeRpc<v1::UnpublishRequest, v1::UnpublishResponse> unpublish;
  FakeRpc<v1::ListRequest, std::vector<v1::ServerEntry>> list;
  FakeRpc<v1::VerifyRequest, v1::VerifyResponse> verify;
  FakeRpc<v1::SetDomainPolicyRequest, v1::DomainPolicy> set_domain_policy;
  FakeRpc<v1::ListDomainPoliciesRequest, v1::ListDomainPoliciesResponse>
      list_domain_policies;
  FakeRpc<v1::GetStatusRequest, v1::ServiceStatus> status;
  FakeRpc<v1::GrantClientRequest, v1::ClientGrant> grant_client;
  FakeRpc<v1::RevokeClientRequest, v1::ClientGrant> revoke_client;
  FakeRpc<v1::ListClientsRequest, v1::ListClientsResponse> list_clients;
  FakeRpc<v1::HistoryRequest, v1::HistoryResponse> history;
};

// One in-process run of the dtrust CLI.
struct CliRun {
  cli::ExitCode code = cli::ExitCode::kOk;
  std::string out;
  std::string err;
  // What the CLI would have connected with; nullopt if it did not connect.
  std::optional<cli::DtrustdConnection> connection;
};

// Runs `dtrust ARGS...` in process (cli::RunCli) with `fake` as dtrustd and
// `env` as the whole environment.
CliRun RunWithFake(const std::shared_ptr<FakeDtrustdClient>& fake,
                   const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {});

// A test running dtrust commands against a fresh FakeDtrustdClient.
class FakeDtrustdTest : public ::testing::Test {
 protected:
  CliRun Run(const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env = {}) {
    return RunWithFake(fake_, args, env);
  }

  // Expects `args` to fail with exit code 2 and an error containing
  // `message`, without any call to dtrustd.
  void ExpectRejectedBeforeAnyCall(const std::vector<std::string>& args,
                                   const std::string& message);

  std::shared_ptr<FakeDtrustdClient> fake_ =
      std::make_shared<FakeDtrustdClient>();
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_CLIENT_FAKE_DTRUSTD_CLIENT_H_
