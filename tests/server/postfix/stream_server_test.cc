#include "server/postfix/stream_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/fd_limit.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_metrics.h"

namespace dtrust {
namespace {

using ::dtrust::testing::FakeClock;
using ::dtrust::testing::LinesWith;
using ::dtrust::testing::OnlyLineWith;
using ::dtrust::testing::StderrDuring;
using ::dtrust::testing::TempDir;
using ::dtrust::testing::TestClient;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// Upper-cases each line; the line "bad" is a protocol error (after replying
// "ERR"); the line "slowN" takes N ms to decide. Counts live sessions.
class ShoutSession : public StreamSession {
 public:
  explicit ShoutSession(std::atomic<int>* alive) : alive_(alive) { ++*alive_; }
  ~ShoutSession() override { --*alive_; }

  absl::Status Consume(absl::string_view data, std::string* reply) override {
    line_.append(data.data(), data.size());
    size_t newline;
    while ((newline = line_.find('\n')) != std::string::npos) {
      const std::string line = line_.substr(0, newline);
      line_.erase(0, newline + 1);
      if (line == "bad") {
        reply->append("ERR\n");
        return absl::InvalidArgumentError("the peer said bad");
      }
      if (int ms = 0; absl::StartsWith(line, "slow") &&
                      absl::SimpleAtoi(absl::StripPrefix(line, "slow"), &ms)) {
        absl::SleepFor(absl::Milliseconds(ms));
      }
      absl::StrAppend(reply, absl::AsciiStrToUpper(line), "\n");
    }
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    return line_.empty() ? absl::OkStatus()
                         : absl::InvalidArgumentError("unfinished line");
  }
  bool MidRequest() const override { return !line_.empty(); }

 private:
  std::atomic<int>* const alive_;
  std::string line_;
};

class StreamServerTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<StreamServer>> Start(
      const std::string& address, StreamServerOptions options = {}) {
    absl::StatusOr<ListenAddress> parsed = ParseListenAddress(address);
    if (!parsed.ok()) return parsed.status();
    options.name = "test";
    return StreamServer::Start(*parsed, options, [this](absl::string_view) {
      return std::make_unique<ShoutSession>(&alive_);
    });
  }
  static std::unique_ptr<TestClient> Connect(const StreamServer& server) {
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect(server.address());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  std::string UnixAddress(const std::string& name) const {
    return absl::StrCat("unix:", dir_.path(), "/", name);
  }

  std::atomic<int> alive_{0};
  TempDir dir_;
};

TEST_F(StreamServerTest, ServesTcpOnTheKernelsPort) {
  auto server = Start("inet:127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_NE((*server)->address().port, 0);
  EXPECT_EQ((*server)->address().host, "127.0.0.1");
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("hello\nwor"));
  EXPECT_EQ(client->ReadUntil("\n"), "HELLO\n");
  ASSERT_TRUE(client->Send("ld\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "WORLD\n");
}

TEST_F(StreamServerTest, ServesIpv6Loopback) {
  auto server = Start("inet:[::1]:0");
  if (!server.ok() &&
      (absl::StrContains(server.status().message(), "assign requested") ||
       absl::StrContains(server.status().message(), "not supported"))) {
    GTEST_SKIP() << "no IPv6 loopback here: " << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("v6\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "V6\n");
}

TEST_F(StreamServerTest, TcpPortInUseIsAnErrorNamingTheAddress) {
  auto first = Start("inet:127.0.0.1:0");
  ASSERT_TRUE(first.ok());
  auto second = Start((*first)->address().ToString());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr((*first)->address().ToString()));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
}

TEST_F(StreamServerTest, UnixSocketIsMode0660AndRemovedOnStop) {
  const std::string address = UnixAddress("s.sock");
  const std::string path = address.substr(5);
  auto server = Start(address);
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("unix\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "UNIX\n");
  (*server)->Stop();
  EXPECT_NE(access(path.c_str(), F_OK), 0) << path << " was not removed";
}

TEST_F(StreamServerTest, ReplacesAStaleSocketButNotALiveOne) {
  const std::string address = UnixAddress("s.sock");
  const std::string path = address.substr(5);
  {  // A socket file whose server is gone.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  auto server = Start(address);
  ASSERT_TRUE(server.ok()) << server.status();

  auto second = Start(address);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("already listening"));
  // The refused second server left the first one's socket alone.
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("still\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "STILL\n");
}

TEST_F(StreamServerTest, RefusesAPathThatIsNotASocket) {
  const std::string address = UnixAddress("file");
  const std::string path = address.substr(5);
  std::ofstream(path) << "precious";
  auto server = Start(address);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("is not a socket"));
  std::ifstream in(path);
  std::string contents;
  in >> contents;
  EXPECT_EQ(contents, "precious");
}

TEST_F(StreamServerTest, ProtocolErrorSendsTheReplyThenCloses) {
  auto server = Start("inet:127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  auto bad = Connect(**server);
  auto good = Connect(**server);
  ASSERT_TRUE(bad && good);
  ASSERT_TRUE(bad->Send("fine\nbad\nnever answered\n"));
  EXPECT_EQ(bad->ReadUntil("\n"), "FINE\n");
  EXPECT_EQ(bad->ReadUntil("\n"), "ERR\n");
  EXPECT_TRUE(bad->WaitClosed());
  ASSERT_TRUE(good->Send("unaffected\n"));
  EXPECT_EQ(good->ReadUntil("\n"), "UNAFFECTED\n");
}

TEST_F(StreamServerTest, ManyConcurrentClients) {
  auto server = Start("inet:127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto client = TestClient::Connect((*server)->address());
      if (!client.ok()) return;
      for (int i = 0; i < 50; ++i) {
        const std::string line = absl::StrCat("c", t, "r", i);
        if (!(*client)->Send(line + "\n")) return;
        if ((*client)->ReadUntil("\n") == absl::AsciiStrToUpper(line) + "\n") {
          ++answered;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(answered.load(), 8 * 50);
}

TEST_F(StreamServerTest, ConnectionsBeyondTheLimitAreClosed) {
  auto server = Start("inet:127.0.0.1:0", {.max_connections = 2});
  ASSERT_TRUE(server.ok());
  auto first = Connect(**server);
  auto second = Connect(**server);
  ASSERT_TRUE(first && second);
  // Both are registered once they answered.
  ASSERT_TRUE(first->Send("1\n") && second->Send("2\n"));
  ASSERT_EQ(first->ReadUntil("\n"), "1\n");
  ASSERT_EQ(second->ReadUntil("\n"), "2\n");
  auto third = Connect(**server);
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->WaitClosed());
  // A slot frees up when a client leaves.
  first.reset();
  std::unique_ptr<TestClient> fourth;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fourth = Connect(**server);
    ASSERT_NE(fourth, nullptr);
    if (fourth->Send("4\n") && fourth->ReadUntil("\n") == "4\n") break;
    fourth.reset();
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_NE(fourth, nullptr) << "no slot freed after a client left";
}

TEST_F(StreamServerTest, ConnectionLinesAreLimitedAcrossTheServersOfAService) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  StreamServerOptions options;
  options.connection_lines =
      std::make_shared<LogRateLimiter>(kClientLogLinesPerSecond, &clock);
  auto tcp = Start("inet:127.0.0.1:0", options);
  auto unix_socket = Start(UnixAddress("shared.sock"), options);
  ASSERT_TRUE(tcp.ok() && unix_socket.ok());
  // A client breaking the protocol on a new connection.
  const auto misbehave = [](const StreamServer& server) {
    auto client = Connect(server);
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Send("bad\n"));
    EXPECT_EQ(client->ReadUntil("\n"), "ERR\n");
    EXPECT_TRUE(client->WaitClosed());
  };
  std::string log = StderrDuring([&] {
    for (int i = 0; i < 15; ++i) {
      misbehave(**tcp);
      misbehave(**unix_socket);
    }
  });
  EXPECT_THAT(LinesWith(log, "test: closing connection from"), SizeIs(20))
      << log;

  clock.Set(clock.Now() + absl::Seconds(1));
  log = StderrDuring([&] { misbehave(**unix_socket); });
  EXPECT_THAT(OnlyLineWith(log, "test: closing connection from"),
              EndsWith(": the peer said bad (10 more such lines suppressed "
                       "before this one, over 20/s)"));
}

TEST_F(StreamServerTest, ConnectionsOpenedRefusedAndClosedAreCounted) {
  testing::FakeMetrics metrics;
  auto server = Start("inet:127.0.0.1:0", {.max_connections = 1});
  ASSERT_TRUE(server.ok());
  auto held = Connect(**server);
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(held->Send("hold\n"));
  ASSERT_EQ(held->ReadUntil("\n"), "HOLD\n");  // Registered.
  StderrDuring([&] {
    auto refused = Connect(**server);
    EXPECT_TRUE(refused != nullptr && refused->WaitClosed());
  });
  EXPECT_EQ(metrics.Count("connection test opened"), 1);
  // The server may count the refusal just after the client saw the close.
  EXPECT_TRUE(testing::Eventually(
      [&] { return metrics.Count("connection test refused") == 1; }));
  EXPECT_EQ(metrics.Count("connection test refused"), 1);
  held.reset();
  EXPECT_TRUE(testing::Eventually(
      [&] { return metrics.Count("connection test closed") == 1; }));
}

TEST_F(StreamServerTest, RefusalsOverTheConnectionLimitAreLimitedToo) {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  StreamServerOptions options{.max_connections = 1};
  options.connection_lines =
      std::make_shared<LogRateLimiter>(kClientLogLinesPerSecond, &clock);
  auto server = Start("inet:127.0.0.1:0", options);
  ASSERT_TRUE(server.ok());
  auto held = Connect(**server);
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(held->Send("hold\n"));
  ASSERT_EQ(held->ReadUntil("\n"), "HOLD\n");  // Registered.
  const std::string log = StderrDuring([&] {
    for (int i = 0; i < 30; ++i) {
      auto refused = Connect(**server);
      EXPECT_TRUE(refused != nullptr && refused->WaitClosed()) << i;
    }
  });
  EXPECT_THAT(LinesWith(log, "test: refusing connection from"), SizeIs(20))
      << log;
}

TEST_F(StreamServerTest, IdleConnectionsAreClosed) {
  auto server =
      Start("inet:127.0.0.1:0", {.idle_timeout = absl::Milliseconds(200)});
  ASSERT_TRUE(server.ok());
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("x\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "X\n");
  const absl::Time start = absl::Now();
  EXPECT_TRUE(client->WaitClosed());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST_F(StreamServerTest, StopClosesIdleConnectionsAndEndsEverySession) {
  auto server = Start(UnixAddress("s.sock"));
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(Connect(**server));
    ASSERT_TRUE(clients.back()->Send("hi\n"));
    ASSERT_EQ(clients.back()->ReadUntil("\n"), "HI\n");
  }
  ASSERT_TRUE(clients[0]->Send("half a li"));  // Mid-request.
  EXPECT_EQ(alive_.load(), 5);
  const absl::Time start = absl::Now();
  (*server)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(alive_.load(), 0);
  for (auto& client : clients) EXPECT_TRUE(client->WaitClosed());
  (*server)->Stop();  // Idempotent.
  EXPECT_FALSE(TestClient::Connect((*server)->address()).ok());
}

TEST_F(StreamServerTest, HoldsThousandsOfConnectionsAndAnswersEach) {
  // Far over the old cap of 256 a socket; dtrust's benchmark holds 10,000.
  constexpr int kClients = 4000;
  absl::StatusOr<uint64_t> fd_limit = RaiseOpenFileLimit();
  ASSERT_TRUE(fd_limit.ok()) << fd_limit.status();
  if (*fd_limit < 2 * kClients + 100) {
    GTEST_SKIP() << "RLIMIT_NOFILE " << *fd_limit << " is too low";
  }
  auto server =
      Start("inet:127.0.0.1:0", {.max_connections_per_client = kClients});
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(Connect(**server));
    ASSERT_NE(clients.back(), nullptr) << i;
  }
  int answered = 0;
  for (int i = 0; i < kClients; ++i) {
    const std::string line = absl::StrCat("c", i, "\n");
    if (clients[i]->Send(line) &&
        clients[i]->ReadUntil("\n") == absl::AsciiStrToUpper(line)) {
      ++answered;
    }
  }
  EXPECT_EQ(answered, kClients);
  EXPECT_EQ(alive_.load(), kClients);
}

TEST_F(StreamServerTest, ConnectionsBeyondThePerClientLimitAreClosed) {
  auto tcp = Start("inet:127.0.0.1:0", {.max_connections_per_client = 2});
  auto unix_socket =
      Start(UnixAddress("s.sock"), {.max_connections_per_client = 2});
  ASSERT_TRUE(tcp.ok() && unix_socket.ok());
  for (const auto& server_and_client :
       {std::pair(tcp->get(), std::string("127.0.0.1")),
        std::pair(unix_socket->get(), absl::StrCat("uid ", getuid()))}) {
    StreamServer* const server = server_and_client.first;
    const std::string& client = server_and_client.second;
    auto first = Connect(*server);
    auto second = Connect(*server);
    ASSERT_TRUE(first && second);
    ASSERT_TRUE(first->Send("1\n") && second->Send("2\n"));
    ASSERT_EQ(first->ReadUntil("\n"), "1\n");
    ASSERT_EQ(second->ReadUntil("\n"), "2\n");
    const std::string log = StderrDuring([&] {
      auto third = Connect(*server);
      ASSERT_NE(third, nullptr);
      EXPECT_TRUE(third->WaitClosed());
    });
    EXPECT_THAT(OnlyLineWith(log, "test: refusing connection from"),
                HasSubstr(absl::StrCat("2 connections from ", client,
                                       " already open (the limit per "
                                       "client)")));
  }
  // Another address is another client.
  auto other =
      TestClient::Connect((*tcp)->address(), absl::Seconds(5), "127.0.0.2");
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->Send("other\n"));
  EXPECT_EQ((*other)->ReadUntil("\n"), "OTHER\n");
}

TEST_F(StreamServerTest, ATrickledRequestEndsAtItsDeadline) {
  auto server =
      Start("inet:127.0.0.1:0", {.idle_timeout = absl::Seconds(30),
                                 .request_timeout = absl::Milliseconds(300)});
  ASSERT_TRUE(server.ok());
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  absl::Duration open_for;
  const std::string log = StderrDuring([&] {
    const absl::Time start = absl::Now();
    // One byte every 50 ms, never a whole line: each byte arrives well
    // within any idle timeout, yet the request never ends.
    while (client->Send("t") && absl::Now() - start < absl::Seconds(5)) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    open_for = absl::Now() - start;
  });
  EXPECT_GE(open_for, absl::Milliseconds(300));
  EXPECT_LT(open_for, absl::Seconds(2));
  EXPECT_THAT(OnlyLineWith(log, "test: closing connection from"),
              HasSubstr(": the request did not end within 300ms"));
}

TEST_F(StreamServerTest, TheRequestDeadlineSparesIdleAndPromptClients) {
  auto server =
      Start("inet:127.0.0.1:0", {.idle_timeout = absl::Seconds(30),
                                 .request_timeout = absl::Milliseconds(300)});
  ASSERT_TRUE(server.ok());
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  // Idle between requests for longer than the request deadline.
  ASSERT_TRUE(client->Send("x\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "X\n");
  absl::SleepFor(absl::Milliseconds(500));
  // Split requests, each within its deadline, several times over.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->Send("ab"));
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(client->Send("cd\nef"));  // Ends one, starts the next.
    EXPECT_EQ(client->ReadUntil("\n"), "ABCD\n");
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_TRUE(client->Send("\n"));
    EXPECT_EQ(client->ReadUntil("\n"), "EF\n");
  }
  // A whole request whose decision takes longer than the deadline.
  ASSERT_TRUE(client->Send("slow500\n"));
  EXPECT_EQ(client->ReadUntil("\n"), "SLOW500\n");
}

TEST_F(StreamServerTest, RepliesKeepTheOrderOfTheRequests) {
  auto server = Start(UnixAddress("s.sock"));
  ASSERT_TRUE(server.ok());
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  std::string requests;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    const std::string line =
        i % 50 == 0 ? absl::StrCat("slow", 20 + i / 50) : absl::StrCat("r", i);
    absl::StrAppend(&requests, line, "\n");
    absl::StrAppend(&expected, absl::AsciiStrToUpper(line), "\n");
  }
  // Pipelined, in pieces that split lines anywhere.
  for (size_t at = 0; at < requests.size(); at += 97) {
    ASSERT_TRUE(client->Send(absl::string_view(requests).substr(at, 97)));
  }
  std::string replies;
  while (replies.size() < expected.size()) {
    const std::string line = client->ReadUntil("\n");
    ASSERT_FALSE(line.empty()) << "after " << replies.size() << " bytes";
    replies += line;
  }
  EXPECT_EQ(replies, expected);
}

TEST_F(StreamServerTest, ASlowDecisionDoesNotStallOtherConnections) {
  auto server = Start("inet:127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  auto slow = Connect(**server);
  auto quick = Connect(**server);
  ASSERT_TRUE(slow && quick);
  ASSERT_TRUE(slow->Send("slow1500\n"));
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(quick->Send("quick\n"));
  EXPECT_EQ(quick->ReadUntil("\n"), "QUICK\n");
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1000));
  EXPECT_EQ(slow->ReadUntil("\n"), "SLOW1500\n");
}

TEST_F(StreamServerTest, StopWaitsForTheDecisionsUnderWay) {
  auto server = Start("inet:127.0.0.1:0");
  ASSERT_TRUE(server.ok());
  auto client = Connect(**server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("slow300\n"));
  absl::SleepFor(absl::Milliseconds(50));
  (*server)->Stop();
  EXPECT_EQ(alive_.load(), 0);
  EXPECT_TRUE(client->WaitClosed());
}

}  // namespace
}  // namespace dtrust
