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
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/fake_clock.h"

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
// "ERR"). Counts live sessions.
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

}  // namespace
}  // namespace dtrust
