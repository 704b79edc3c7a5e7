#include "tests/client/fake_dtrustd_client.h"

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"

namespace dtrust::testing {

size_t FakeDtrustdClient::calls() const {
  return publish.requests.size() + challenge.requests.size() +
         unpublish.requests.size() + list.requests.size() +
         verify.requests.size() + set_domain_policy.requests.size() +
         list_domain_policies.requests.size() + status.requests.size() +
         grant_client.requests.size() + revoke_client.requests.size() +
         list_clients.requests.size() + history.requests.size();
}

CliRun RunWithFake(const std::shared_ptr<FakeDtrustdClient>& fake,
                   const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env) {
  CliRun run;
  const auto getenv = [&env](const char* name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  const auto connect = [&](const cli::DtrustdConnection& connection)
      -> absl::StatusOr<std::shared_ptr<cli::DtrustdClient>> {
    run.connection = connection;
    return fake;
  };
  run.code = cli::RunCli(args, getenv, connect, &run.out, &run.err);
  return run;
}

void FakeDtrustdTest::ExpectRejectedBeforeAnyCall(
    const std::vector<std::string>& args, const std::string& message) {
  const size_t calls_before = fake_->calls();
  const CliRun run = Run(args);
  const std::string command = absl::StrJoin(args, " ");
  EXPECT_EQ(run.code, cli::ExitCode::kBadInput) << command;
  EXPECT_THAT(run.err, ::testing::HasSubstr(message)) << command;
  EXPECT_EQ(run.out, "") << command;
  EXPECT_EQ(fake_->calls(), calls_before) << command;
}

}  // namespace dtrust::testing
