// Unit tests of `dtrust expiring` (client/expiring_command.cc) with a fake
// dtrustd.
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_dtrustd_client.h"

namespace dtrust::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A pin whose certificate expires `days` from now (negative: ago).
v1::Pin PinExpiringIn(int days, char digest_byte) {
  v1::Pin pin;
  pin.set_sha256(std::string(32, digest_byte));
  pin.set_kind(v1::PIN_KIND_CERTIFICATE);
  pin.mutable_not_after()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * days)));
  return pin;
}

class ExpiringCommandTest : public FakeDtrustdTest {
 protected:
  ExpiringCommandTest() {
    v1::ServerEntry server;
    server.set_name("mx1.org-b.example");
    *server.add_pins() = PinExpiringIn(100, '\x01');
    *server.add_pins() = PinExpiringIn(10, '\x02');
    *server.add_pins() = PinExpiringIn(-1, '\x03');
    fake_->list.answer = std::vector<v1::ServerEntry>{server};
  }
};

TEST_F(ExpiringCommandTest, ListsLapsedAndLapsingPinsSortedExitCode1) {
  const CliRun run = Run({"expiring", "--domain", "Org-B.example"});
  EXPECT_EQ(run.code, cli::ExitCode::kNotTrusted) << run.err;
  ASSERT_EQ(fake_->list.requests.size(), 1u);
  EXPECT_EQ(fake_->list.requests[0].domain(), "org-b.example");
  EXPECT_THAT(run.out, StartsWith("lapsed   "));
  EXPECT_THAT(run.out, HasSubstr("\nlapsing  "));
  EXPECT_THAT(run.out, HasSubstr("sha256 03:03:"));
  EXPECT_THAT(run.out, HasSubstr("sha256 02:02:"));
  EXPECT_THAT(run.out, Not(HasSubstr("sha256 01:01:")));
  EXPECT_THAT(run.out, HasSubstr("certificate expires\n"));
}

TEST_F(ExpiringCommandTest, NothingWithinTheDurationIsExitCode0) {
  fake_->list.answer = std::vector<v1::ServerEntry>{};
  const CliRun run = Run({"expiring", "--within", "12h"});
  EXPECT_EQ(run.code, cli::ExitCode::kOk) << run.err;
  EXPECT_EQ(run.out, "no pin lapses within 12h\n");
}

TEST_F(ExpiringCommandTest, Json) {
  const CliRun run = Run({"expiring", "--json", "--within", "30d"});
  EXPECT_EQ(run.code, cli::ExitCode::kNotTrusted) << run.err;
  EXPECT_THAT(run.out, StartsWith("{\"now\":\""));
  EXPECT_THAT(run.out, HasSubstr("\"state\":\"lapsed\",\"cause\":"
                                 "\"certificate\""));
}

TEST_F(ExpiringCommandTest, RejectsBadInputBeforeAnyCall) {
  ExpectRejectedBeforeAnyCall({"expiring", "x"},
                              "expiring takes no arguments, got x");
  ExpectRejectedBeforeAnyCall({"expiring", "--within", "soon"}, "--within");
  ExpectRejectedBeforeAnyCall({"expiring", "--server", "a b"}, "--server");
}

}  // namespace
}  // namespace dtrust::testing
