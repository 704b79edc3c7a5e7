#include "server/core/trust_hygiene.h"

#include <vector>

#include "gtest/gtest.h"

namespace dtrust {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const std::vector<absl::Duration> kHorizons = {absl::Hours(24 * 7),
                                               absl::Hours(24 * 30)};

PinRecord Pin(absl::Duration from, absl::Duration until) {
  PinRecord pin;
  pin.not_before = kNow + from;
  pin.not_after = kNow + until;
  return pin;
}

TEST(TrustHygieneTest, APinEndsWithItsCertificateOrItsWindow) {
  PinRecord pin = Pin(-absl::Hours(1), absl::Hours(24 * 100));
  EXPECT_EQ(PinEnd(pin), kNow + absl::Hours(24 * 100));
  pin.window.not_after = kNow + absl::Hours(24 * 3);
  EXPECT_EQ(PinEnd(pin), kNow + absl::Hours(24 * 3));
  EXPECT_TRUE(PinValidAt(pin, kNow));
  EXPECT_FALSE(PinValidAt(pin, kNow + absl::Hours(24 * 4)));
  pin.window.not_before = kNow + absl::Hours(1);
  EXPECT_FALSE(PinValidAt(pin, kNow));
}

TEST(TrustHygieneTest, CountsPinsExpiringPerHorizon) {
  const std::vector<ServerRecord> servers = {
      {.name = "mx1.b.example",
       .domains = {"b.example"},
       .pins = {Pin(-absl::Hours(1), absl::Hours(24 * 2)),
                Pin(-absl::Hours(1), absl::Hours(24 * 20)),
                Pin(-absl::Hours(1), absl::Hours(24 * 200))}}};
  const TrustHygiene hygiene = TrustHygieneOf(servers, {}, kNow, kHorizons);
  EXPECT_EQ(hygiene.pins_expiring, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(hygiene.servers_without_valid_pin, 0u);
}

TEST(TrustHygieneTest, ExpiredAndFuturePinsAreNotValidNorExpiring) {
  const std::vector<ServerRecord> servers = {
      {.name = "mx1.b.example",
       .domains = {"b.example"},
       .pins = {Pin(-absl::Hours(48), -absl::Hours(1)),
                Pin(absl::Hours(1), absl::Hours(24 * 2))}}};
  const std::vector<DomainPolicy> policies = {
      {.domain = "b.example", .receive = SecureMode::kTesting},
      {.domain = "c.example", .send = SecureMode::kOff}};
  const TrustHygiene hygiene =
      TrustHygieneOf(servers, policies, kNow, kHorizons);
  EXPECT_EQ(hygiene.pins_expiring, (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(hygiene.servers_without_valid_pin, 1u);
  EXPECT_EQ(hygiene.listed_domains_without_valid_pin, 1u);
  EXPECT_EQ(hygiene.receive_testing, 1u);
  EXPECT_EQ(hygiene.send_enforce + hygiene.send_testing, 0u);
}

TEST(TrustHygieneTest, ADomainsLastPinIsTheLatestOfAllItsServers) {
  const std::vector<ServerRecord> servers = {
      {.name = "mx1.b.example",
       .domains = {"b.example"},
       .pins = {Pin(-absl::Hours(1), absl::Hours(24 * 3))}},
      {.name = "mx2.b.example",
       .domains = {"b.example", "c.example"},
       .pins = {Pin(-absl::Hours(1), absl::Hours(24 * 10))}}};
  const std::vector<DomainPolicy> policies = {
      {.domain = "b.example", .send = SecureMode::kEnforce},
      {.domain = "c.example", .send = SecureMode::kEnforce},
      {.domain = "d.example", .receive = SecureMode::kEnforce}};
  const TrustHygiene hygiene =
      TrustHygieneOf(servers, policies, kNow, kHorizons);
  // b.example keeps mx2's pin past 7 days; both end within 30.
  EXPECT_EQ(hygiene.listed_domains_last_pin_expiring,
            (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(hygiene.listed_domains_without_valid_pin, 1u);  // d.example
  EXPECT_EQ(hygiene.send_enforce, 2u);
  EXPECT_EQ(hygiene.receive_enforce, 1u);
}

}  // namespace
}  // namespace dtrust
