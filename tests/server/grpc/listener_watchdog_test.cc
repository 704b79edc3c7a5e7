#include "server/grpc/listener_watchdog.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/base/owned_fd.h"

namespace dtrust {
namespace {

// A listening socket on 127.0.0.1 that never accepts; port() tells where.
class DeafListener {
 public:
  DeafListener() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{.sin_family = AF_INET,
                        .sin_port = 0,
                        .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)},
                        .sin_zero = {}};
    socklen_t length = sizeof(address);
    EXPECT_EQ(bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), length),
              0);
    EXPECT_EQ(listen(fd_.get(), 16), 0);
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  int fd() const { return fd_.get(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  OwnedFd fd_;
  int port_ = 0;
};

TEST(ProbeListenerTest, AListenerThatAcceptsAndAnswers) {
  DeafListener listener;
  std::thread server([&] {
    OwnedFd connection(accept(listener.fd(), nullptr, nullptr));
    char byte = 0;
    recv(connection.get(), &byte, 1, 0);
    send(connection.get(), "x", 1, MSG_NOSIGNAL);
  });
  absl::StatusOr<ProbeTarget> target =
      ResolveProbeTarget(listener.address(), Http2Preface());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(ProbeListener(*target, absl::Seconds(5)), ProbeResult::kAccepting);
  server.join();
}

TEST(ProbeListenerTest, AListenerThatAcceptsAndCloses) {
  DeafListener listener;
  std::thread server([&] { OwnedFd(accept(listener.fd(), nullptr, nullptr)); });
  absl::StatusOr<ProbeTarget> target =
      ResolveProbeTarget(listener.address(), Http2Preface());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(ProbeListener(*target, absl::Seconds(5)), ProbeResult::kAccepting);
  server.join();
}

TEST(ProbeListenerTest, AListenerThatNeverAccepts) {
  DeafListener listener;
  absl::StatusOr<ProbeTarget> target =
      ResolveProbeTarget(listener.address(), Http2Preface());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(ProbeListener(*target, absl::Milliseconds(200)),
            ProbeResult::kNotAccepting);
}

TEST(ProbeListenerTest, NoListener) {
  std::string address;
  {
    DeafListener gone;
    address = gone.address();
  }
  absl::StatusOr<ProbeTarget> target =
      ResolveProbeTarget(address, Http2Preface());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(ProbeListener(*target, absl::Seconds(1)),
            ProbeResult::kNotAccepting);
}

TEST(ProbeListenerTest, AWildcardAddressIsProbedOnLoopback) {
  absl::StatusOr<ProbeTarget> target =
      ResolveProbeTarget("0.0.0.0:7750", Http2Preface());
  ASSERT_TRUE(target.ok()) << target.status();
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(target->socket_address);
  EXPECT_EQ(v4.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_TRUE(ResolveProbeTarget("[::]:7750", Http2Preface()).ok());
}

TEST(ProbeListenerTest, BadAddresses) {
  for (const std::string address : {"nowhere", "host:port", "unix:/x"}) {
    const absl::StatusOr<ProbeTarget> target =
        ResolveProbeTarget(address, Http2Preface());
    EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument)
        << address;
  }
}

TEST(ProbeListenerTest, TlsListenersAreGreetedWithAClientHello) {
  absl::StatusOr<std::string> hello = TlsClientHello();
  ASSERT_TRUE(hello.ok()) << hello.status();
  ASSERT_GT(hello->size(), 5);
  EXPECT_EQ((*hello)[0], '\x16');  // A handshake record...
  EXPECT_EQ((*hello)[5], '\x01');  // ...holding a ClientHello.
}

TEST(ListenerWatchdogTest, CallsOnceWhenAListenerStopsAccepting) {
  DeafListener listener;
  absl::Notification stuck;
  std::string reported;
  absl::StatusOr<std::unique_ptr<ListenerWatchdog>> watchdog =
      ListenerWatchdog::Start({listener.address()}, /*tls=*/false,
                              {.period = absl::Milliseconds(10),
                               .deadline = absl::Milliseconds(50),
                               .failures = 3},
                              [&](const std::string& address) {
                                reported = address;
                                stuck.Notify();
                              });
  ASSERT_TRUE(watchdog.ok()) << watchdog.status();
  ASSERT_TRUE(stuck.WaitForNotificationWithTimeout(absl::Seconds(10)));
  watchdog->reset();
  EXPECT_EQ(reported, listener.address());
}

TEST(ListenerWatchdogTest, QuietWhileListenersAccept) {
  DeafListener listener;
  absl::Notification stop;
  std::thread server([&] {
    while (!stop.HasBeenNotified()) {
      OwnedFd(accept(listener.fd(), nullptr, nullptr));
    }
  });
  bool called = false;
  absl::StatusOr<std::unique_ptr<ListenerWatchdog>> watchdog =
      ListenerWatchdog::Start({listener.address()}, /*tls=*/false,
                              {.period = absl::Milliseconds(10),
                               .deadline = absl::Milliseconds(500),
                               .failures = 1},
                              [&](const std::string&) { called = true; });
  ASSERT_TRUE(watchdog.ok()) << watchdog.status();
  absl::SleepFor(absl::Milliseconds(300));
  watchdog->reset();
  stop.Notify();
  // One more connection, to wake the accept.
  ProbeListener(*ResolveProbeTarget(listener.address(), Http2Preface()),
                absl::Seconds(1));
  server.join();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace dtrust
