#include "server/postfix/listen_address.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dtrust {
namespace {

using ::testing::HasSubstr;
using Kind = ListenAddress::Kind;

TEST(ListenAddressTest, ParsesInetAndUnix) {
  absl::StatusOr<ListenAddress> inet =
      ParseListenAddress("inet:127.0.0.1:10040");
  ASSERT_TRUE(inet.ok()) << inet.status();
  EXPECT_EQ(inet->kind, Kind::kInet);
  EXPECT_EQ(inet->host, "127.0.0.1");
  EXPECT_EQ(inet->port, 10040);
  EXPECT_EQ(inet->ToString(), "inet:127.0.0.1:10040");

  absl::StatusOr<ListenAddress> v6 = ParseListenAddress("inet:[::1]:0");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_EQ(v6->ToString(), "inet:[::1]:0");

  absl::StatusOr<ListenAddress> unix_socket =
      ParseListenAddress("unix:/run/dtrust/policy.sock");
  ASSERT_TRUE(unix_socket.ok()) << unix_socket.status();
  EXPECT_EQ(unix_socket->kind, Kind::kUnix);
  EXPECT_EQ(unix_socket->path, "/run/dtrust/policy.sock");
  EXPECT_EQ(unix_socket->ToString(), "unix:/run/dtrust/policy.sock");
}

TEST(ListenAddressTest, RefusesBadAddressesSayingWhy) {
  const auto error = [](const std::string& text) {
    absl::StatusOr<ListenAddress> parsed = ParseListenAddress(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
    return std::string(parsed.status().message());
  };
  EXPECT_THAT(error("127.0.0.1:10040"), HasSubstr("unknown address type"));
  EXPECT_THAT(error("tcp:127.0.0.1:1"), HasSubstr("unknown address type"));
  EXPECT_THAT(error("inet:127.0.0.1"), HasSubstr("no port"));
  EXPECT_THAT(error("inet:localhost:25"), HasSubstr("not a numeric"));
  EXPECT_THAT(error("inet::25"), HasSubstr("not a numeric"));
  EXPECT_THAT(error("inet:::1:25"), HasSubstr("in brackets"));
  EXPECT_THAT(error("inet:127.0.0.1:"), HasSubstr("the port"));
  EXPECT_THAT(error("inet:127.0.0.1:65536"), HasSubstr("the port"));
  EXPECT_THAT(error("inet:127.0.0.1:+25"), HasSubstr("the port"));
  EXPECT_THAT(error("inet:127.0.0.1: 25"), HasSubstr("the port"));
  EXPECT_THAT(error("inet:127.0.0.1:x"), HasSubstr("the port"));
  EXPECT_THAT(error("unix:"), HasSubstr("the path is empty"));
  EXPECT_THAT(error("unix:/" + std::string(107, 'p')),
              HasSubstr("longer than 107 bytes"));
  EXPECT_THAT(error("unix:" + std::string("a\0b", 3)), HasSubstr("NUL"));
  EXPECT_THAT(error("bogus"),
              HasSubstr("expected inet:HOST:PORT or unix:PATH"));
}

}  // namespace
}  // namespace dtrust
