// The real dtrustd's gRPC server within its bounds (issue 12 §2): many
// streams on one connection, many idle connections, a huge request body,
// and running out of file descriptors, each while a legitimate Verify is
// still answered. (How fast it is answered is tests/benchmark's business.)
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "dtrust/v1/dtrust.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/base/owned_fd.h"
#include "server/grpc/listener_watchdog.h"
#include "tests/testing/dtrustd_process.h"
#include "tests/testing/eventually.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust {
namespace {

using ::dtrust::testing::DtrustdProcess;
using ::dtrust::testing::Eventually;
using ::dtrust::testing::SlapdFixture;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

// dtrustd's defaults (GrpcLimits, HealthOptions).
constexpr int kMaxThreads = 64;
constexpr int kMaxWatches = 16;
constexpr int64_t kMaxMemoryKb = 32 * 1024;

// A number from /proc/PID/status ("Threads", "VmRSS", "VmHWM": kB); -1 if
// absent.
int64_t ProcStatus(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field + ":")) continue;
    rest = absl::StripLeadingAsciiWhitespace(rest);
    int64_t value = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &value)) return value;
  }
  return -1;
}

// How many descriptors process `pid` has open.
int OpenDescriptors(pid_t pid) {
  std::error_code error;
  int count = 0;
  for (std::filesystem::directory_iterator it(
           "/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator();
       it.increment(error)) {
    ++count;
  }
  return count;
}

// Whether child `pid` has exited (a zombie, not yet waited for).
bool HasExited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t state = line.rfind(") ");
  return state == std::string::npos || line.substr(state + 2, 1) == "Z";
}

// Sets process `pid`'s RLIMIT_NOFILE, soft and hard, to `limit` (prlimit(2):
// dtrustd raised its soft limit to the hard one at start).
void LimitDescriptors(pid_t pid, rlim_t limit) {
  const rlimit changed{.rlim_cur = limit, .rlim_max = limit};
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &changed, nullptr), 0)
      << std::strerror(errno);
}

// Raises this process's soft RLIMIT_NOFILE to the hard limit.
void RaiseDescriptorLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// `count` plain TCP connections to 127.0.0.1:`port`, each having sent the
// HTTP/2 preface and a SETTINGS frame, then idle. Fewer if this process
// runs out of descriptors.
std::vector<OwnedFd> IdleConnections(int port, int count) {
  static constexpr char kHello[] =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";
  std::vector<OwnedFd> connections;
  sockaddr_in address{.sin_family = AF_INET,
                      .sin_port = htons(static_cast<uint16_t>(port)),
                      .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)},
                      .sin_zero = {}};
  for (int i = 0; i < count; ++i) {
    OwnedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) break;
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) != 0) {
      break;
    }
    send(fd.get(), kHello, sizeof(kHello) - 1, MSG_NOSIGNAL);
    connections.push_back(std::move(fd));
  }
  return connections;
}

class GrpcBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SlapdFixture>> slapd = SlapdFixture::Start();
    ASSERT_TRUE(slapd.ok()) << slapd.status();
    slapd_ = *std::move(slapd);
  }

  // Starts dtrustd on its unix socket and 127.0.0.1:0; sets tcp_port_.
  void StartDtrustd() {
    absl::StatusOr<std::unique_ptr<DtrustdProcess>> process =
        DtrustdProcess::StartWithLdap(
            *slapd_, {"--directory-sync", "none", "--listen", "127.0.0.1:0"});
    ASSERT_TRUE(process.ok()) << process.status();
    dtrustd_ = *std::move(process);
    const std::string log = dtrustd_->Log();
    const size_t at = log.find("127.0.0.1:", log.find("dtrustd ready"));
    ASSERT_NE(at, std::string::npos) << log;
    const std::string port = log.substr(
        at + 10, log.find_first_not_of("0123456789", at + 10) - at - 10);
    ASSERT_TRUE(absl::SimpleAtoi(port, &tcp_port_)) << log;
  }

  std::string TcpEndpoint() const {
    return "127.0.0.1:" + std::to_string(tcp_port_);
  }

  // A new channel of its own (not shared with other stubs).
  static std::shared_ptr<grpc::Channel> NewChannel(const std::string& target) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetMaxSendMessageSize(-1);
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                     arguments);
  }

  // A Verify of an unknown digest over a new connection to `target`, with a
  // `deadline`: its status (OK when answered).
  static grpc::Status Verify(const std::string& target,
                             absl::Duration deadline = absl::Seconds(5)) {
    auto stub = v1::DirectTrust::NewStub(NewChannel(target));
    v1::VerifyRequest request;
    request.set_sha256(std::string(32, '\x5a'));
    v1::VerifyResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    return stub->Verify(&context, request, &response);
  }

  std::unique_ptr<SlapdFixture> slapd_;
  std::unique_ptr<DtrustdProcess> dtrustd_;
  int tcp_port_ = 0;
};

TEST_F(GrpcBoundsTest, ManyWatchStreamsOnOneConnection) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  ASSERT_TRUE(Verify(TcpEndpoint()).ok());
  const int64_t threads_before = ProcStatus(dtrustd_->pid(), "Threads");

  constexpr int kStreams = 2000;
  auto health = grpc::health::v1::Health::NewStub(NewChannel(TcpEndpoint()));
  grpc::CompletionQueue queue;
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<HealthCheckResponse>> reader;
    HealthCheckResponse response;
    grpc::Status status;
  };
  std::vector<Watch> watches(kStreams);
  for (Watch& watch : watches) {
    watch.reader =
        health->PrepareAsyncWatch(&watch.context, HealthCheckRequest(), &queue);
    watch.reader->StartCall(nullptr);
    watch.reader->Finish(&watch.status, &watch);
  }
  // The watches over the limit are refused (and end); the others wait.
  int refused = 0;
  void* tag = nullptr;
  bool ok = false;
  while (refused < kStreams - kMaxWatches &&
         queue.AsyncNext(&tag, &ok,
                         absl::ToChronoTime(absl::Now() + absl::Seconds(30))) ==
             grpc::CompletionQueue::GOT_EVENT) {
    if (tag == nullptr) continue;
    EXPECT_EQ(static_cast<Watch*>(tag)->status.error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
    ++refused;
  }
  EXPECT_EQ(refused, kStreams - kMaxWatches);

  // Threads stay bounded; a legitimate Verify is answered meanwhile.
  const int64_t threads_during = ProcStatus(dtrustd_->pid(), "Threads");
  EXPECT_LE(threads_during, threads_before + kMaxThreads)
      << "before: " << threads_before;
  EXPECT_TRUE(Verify(TcpEndpoint()).ok());
  EXPECT_TRUE(Verify(dtrustd_->endpoint()).ok());

  for (Watch& watch : watches) watch.context.TryCancel();
  int ended = refused;
  while (ended < kStreams &&
         queue.AsyncNext(&tag, &ok,
                         absl::ToChronoTime(absl::Now() + absl::Seconds(30))) ==
             grpc::CompletionQueue::GOT_EVENT) {
    if (tag != nullptr) ++ended;
  }
  EXPECT_EQ(ended, kStreams);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  EXPECT_TRUE(dtrustd_->Stop().ok());
}

TEST_F(GrpcBoundsTest, ManyIdleConnections) {
  RaiseDescriptorLimit();
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  constexpr int kIdle = 1000;
  std::vector<OwnedFd> idle = IdleConnections(tcp_port_, kIdle);
  ASSERT_EQ(idle.size(), kIdle);
  EXPECT_TRUE(Verify(TcpEndpoint()).ok());
  EXPECT_TRUE(Verify(dtrustd_->endpoint()).ok());
  EXPECT_TRUE(dtrustd_->Stop().ok());
}

TEST_F(GrpcBoundsTest, HugeRequestBodyDoesNotGrowMemory) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  ASSERT_TRUE(Verify(TcpEndpoint()).ok());
  const int64_t peak_before_kb = ProcStatus(dtrustd_->pid(), "VmHWM");

  // A 282 MiB Verify request, sent as fast as dtrustd lets it in.
  const std::string body(size_t{282} << 20, 'x');
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::GenericStub stub(NewChannel(TcpEndpoint()));
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto call = stub.PrepareUnaryCall(&context, "/dtrust.v1.DirectTrust/Verify",
                                    request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, &status);
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(queue.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();

  const int64_t growth_kb =
      ProcStatus(dtrustd_->pid(), "VmHWM") - peak_before_kb;
  // gRPC buffers the body up to its memory quota (without one: 233 MB).
  EXPECT_LT(growth_kb, kMaxMemoryKb + 8 * 1024)
      << "peak RSS grew by " << growth_kb << " kB";
  EXPECT_TRUE(Verify(TcpEndpoint()).ok());
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  EXPECT_TRUE(dtrustd_->Stop().ok());
}

// prlimit --nofile=1024: 1,100 idle connections exhaust dtrustd's
// descriptors; once they are closed, the unix listener accepts again within
// a second, and the TCP one either does too or dtrustd exits 1 (not ready)
// so that its supervisor restarts it.
TEST_F(GrpcBoundsTest, RecoversFromDescriptorExhaustion) {
  ASSERT_NO_FATAL_FAILURE(StartDtrustd());
  ASSERT_NO_FATAL_FAILURE(LimitDescriptors(dtrustd_->pid(), 1024));
  RaiseDescriptorLimit();
  ASSERT_TRUE(Verify(dtrustd_->endpoint()).ok());
  std::vector<OwnedFd> idle = IdleConnections(tcp_port_, 1100);
  ASSERT_EQ(idle.size(), 1100);
  // Out of descriptors: the unix listener refuses rather than hangs.
  ASSERT_TRUE(Eventually([&] {
    return OpenDescriptors(dtrustd_->pid()) >= 1000;
  })) << OpenDescriptors(dtrustd_->pid());
  EXPECT_FALSE(Verify(dtrustd_->endpoint(), absl::Seconds(2)).ok());
  idle.clear();

  EXPECT_TRUE(Eventually(
      [&] {
        return Verify(dtrustd_->endpoint(), absl::Milliseconds(200)).ok();
      },
      absl::Seconds(1)));
  absl::StatusOr<ProbeTarget> tcp =
      ResolveProbeTarget(TcpEndpoint(), Http2Preface());
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  const bool tcp_accepts = Eventually(
      [&] {
        return ProbeListener(*tcp, absl::Milliseconds(200)) ==
               ProbeResult::kAccepting;
      },
      absl::Seconds(1));
  if (tcp_accepts) {
    EXPECT_TRUE(dtrustd_->Stop().ok());
    return;
  }
  // gRPC 1.51's listener does not recover: dtrustd must notice and exit 1.
  const pid_t pid = dtrustd_->pid();
  EXPECT_TRUE(Eventually([&] { return HasExited(pid); }, absl::Seconds(15)));
  const absl::Status stopped = dtrustd_->Stop();
  EXPECT_THAT(stopped.message(), ::testing::HasSubstr("exit status 1"));
  EXPECT_THAT(stopped.message(),
              ::testing::HasSubstr("stopped accepting connections"));
}

}  // namespace
}  // namespace dtrust
