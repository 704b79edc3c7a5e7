// The metric families dtrustd serves: names, labels and values, from fakes
// (directory, monitor, clock), and /metrics served over HTTP.
#include "server/metrics/prometheus_metrics.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "server/postfix/listen_address.h"
#include "tests/server/postfix/test_client.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_directory.h"
#include "tests/testing/fake_directory_monitor.h"

namespace dtrust {
namespace {

using ::dtrust::testing::FakeClock;
using ::dtrust::testing::FakeDirectory;
using ::dtrust::testing::FakeDirectoryMonitor;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::string Text(const prometheus::Collectable& collectable) {
  return prometheus::TextSerializer().Serialize(collectable.Collect());
}

// A pin of a certificate valid from a year ago until `days` from kNow.
PinRecord PinEndingIn(int days, int id) {
  PinRecord pin;
  pin.cert_sha256 = Sha256Digest::Of(absl::StrCat("cert ", id));
  pin.spki_sha256 = Sha256Digest::Of(absl::StrCat("key ", id));
  pin.not_before = kNow - absl::Hours(24 * 365);
  pin.not_after = kNow + absl::Hours(24 * days);
  return pin;
}

TEST(PrometheusMetricsTest, CountsVerdictsByVerdictAndProtocol) {
  PrometheusMetrics metrics("1.2.3");
  metrics.CountVerdict(Protocol::kGrpc, "trusted");
  metrics.CountVerdict(Protocol::kGrpc, "trusted");
  metrics.CountVerdict(Protocol::kPolicy, "reject");
  metrics.CountVerdict(Protocol::kSocketmap, "found");
  const std::string text = Text(*metrics.collectable());
  EXPECT_THAT(text, HasSubstr("# TYPE dtrust_verdicts_total counter\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "dtrust_verdicts_total{protocol=\"grpc\",verdict=\"trusted\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "dtrust_verdicts_total{protocol=\"policy\",verdict=\"reject\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_verdicts_total{protocol=\"socketmap\","
                              "verdict=\"found\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_build_info{version=\"1.2.3\"} 1\n"));
}

TEST(PrometheusMetricsTest, EveryFamilyIsNamedDtrust) {
  PrometheusMetrics metrics("1.2.3");
  metrics.ObserveRequest(Protocol::kGrpc, "Verify", absl::Milliseconds(2));
  metrics.CountError(Protocol::kPolicy, "unavailable");
  metrics.CountConnection("policy", ConnectionEvent::kOpened);
  metrics.CountLdapOperation("search", absl::UnavailableError("down"));
  for (const prometheus::MetricFamily& family :
       metrics.collectable()->Collect()) {
    EXPECT_THAT(family.name, StartsWith("dtrust_"));
  }
}

TEST(PrometheusMetricsTest, LatencyErrorsConnectionsAndLdap) {
  PrometheusMetrics metrics("1.2.3");
  metrics.ObserveRequest(Protocol::kGrpc, "Verify", absl::Microseconds(300));
  metrics.CountError(Protocol::kGrpc, "unavailable");
  metrics.CountConnection("policy", ConnectionEvent::kOpened);
  metrics.CountConnection("policy", ConnectionEvent::kOpened);
  metrics.CountConnection("policy", ConnectionEvent::kClosed);
  metrics.CountConnection("policy", ConnectionEvent::kRefused);
  metrics.CountLdapOperation("search", absl::OkStatus());
  metrics.CountLdapOperation("search", absl::UnavailableError("down"));
  metrics.CountMirrorConnect();
  metrics.MarkFullReload(absl::FromUnixSeconds(1000));
  metrics.CountSuppressedLogLine();
  const std::string text = Text(*metrics.collectable());
  EXPECT_THAT(text, HasSubstr("dtrust_request_duration_seconds_bucket{"
                              "protocol=\"grpc\",rpc=\"Verify\",le=\"0.0005\"} "
                              "1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_request_duration_seconds_bucket{"
                              "protocol=\"grpc\",rpc=\"Verify\",le=\"0.00025\"}"
                              " 0\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_errors_total{cause=\"unavailable\","
                              "protocol=\"grpc\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_connections_opened_total{listener="
                              "\"policy\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("dtrust_connections_open{listener=\"policy\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_connections_refused_total{listener="
                              "\"policy\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_ldap_operations_total{operation="
                              "\"search\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("dtrust_ldap_errors_total{operation=\"search\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_connects_total 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_last_full_reload_timestamp_seconds"
                              " 1000\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_log_lines_suppressed_total 1\n"));
}

class DirectoryGaugesTest : public ::testing::Test {
 protected:
  void AddServer(const std::string& name, const std::string& domain,
                 const std::vector<PinRecord>& pins) {
    ASSERT_TRUE(directory_.CreateServer(name, {domain}).ok());
    for (const PinRecord& pin : pins) {
      ASSERT_TRUE(directory_.AddPin(name, pin).ok());
    }
  }

  FakeDirectory directory_;
  FakeDirectoryMonitor monitor_{
      DirectoryStatus{.mode = SyncMode::kPoll,
                      .serving = true,
                      .connected = false,
                      .uri = "ldap://ldap.example",
                      .snapshot_age = absl::Seconds(42),
                      .max_staleness = absl::Minutes(5),
                      .servers = 2,
                      .pins = 3,
                      .domain_policies = 1,
                      .index_bytes = 4096}};
  FakeClock clock_{kNow};
  DirectoryGauges gauges_{&monitor_, &directory_, &clock_};
};

TEST_F(DirectoryGaugesTest, StatusOfTheMirror) {
  const std::string text = Text(gauges_);
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_snapshot_age_seconds 42\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_max_staleness_seconds 300\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_sync_mode{mode=\"poll\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_serving 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_directory_connected 0\n"));
  EXPECT_THAT(
      text, HasSubstr("dtrust_ldap_uri_info{uri=\"ldap://ldap.example\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_entries{kind=\"pin\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_index_bytes 4096\n"));
}

TEST_F(DirectoryGaugesTest, PinsExpiringAndSecureDomainsWithoutPins) {
  AddServer("mx1.org-b.example", "org-b.example",
            {PinEndingIn(5, 1), PinEndingIn(20, 2)});
  AddServer("mx1.org-c.example", "org-c.example", {PinEndingIn(10, 3)});
  AddServer("mx1.org-d.example", "org-d.example", {PinEndingIn(-1, 4)});
  for (const char* domain :
       {"org-b.example", "org-c.example", "org-d.example"}) {
    ASSERT_TRUE(
        directory_
            .PutDomainPolicy({.domain = domain, .send = SecureMode::kEnforce})
            .ok());
  }
  const std::string text = Text(gauges_);
  EXPECT_THAT(text, HasSubstr("dtrust_pins_expiring{within=\"7d\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_pins_expiring{within=\"14d\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_pins_expiring{within=\"30d\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_secure_domains_last_pin_expiring{within="
                              "\"7d\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_secure_domains_last_pin_expiring{within="
                              "\"14d\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_secure_domains_last_pin_expiring{within="
                              "\"30d\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_secure_domains_without_valid_pin 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_servers_without_valid_pin 1\n"));
  EXPECT_THAT(text, HasSubstr("dtrust_secure_domains{list=\"send\","
                              "mode=\"enforce\"} 3\n"));
}

TEST_F(DirectoryGaugesTest, DirectoryDownLeavesOutOnlyTheHygiene) {
  directory_.SetUnavailable(true);
  const std::string text = Text(gauges_);
  EXPECT_THAT(text, HasSubstr("dtrust_mirror_snapshot_age_seconds 42\n"));
  EXPECT_THAT(text, Not(HasSubstr("dtrust_pins_expiring")));
}

TEST(MetricsExposerTest, ServesMetricsOverHttp) {
  PrometheusMetrics metrics("1.2.3");
  metrics.CountVerdict(Protocol::kGrpc, "not_published");
  absl::StatusOr<std::unique_ptr<MetricsExposer>> exposer =
      MetricsExposer::Start("127.0.0.1:0", {metrics.collectable()});
  ASSERT_TRUE(exposer.ok()) << exposer.status();
  ASSERT_GT((*exposer)->port(), 0);
  absl::StatusOr<std::unique_ptr<testing::TestClient>> client =
      testing::TestClient::Connect(*ParseListenAddress(
          absl::StrCat("inet:127.0.0.1:", (*exposer)->port())));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Send("GET /metrics HTTP/1.0\r\n\r\n"));
  const std::string reply =
      (*client)->ReadUntil("dtrust_build_info{version=\"1.2.3\"} 1\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(reply, HasSubstr("dtrust_verdicts_total{protocol=\"grpc\","
                               "verdict=\"not_published\"} 1\n"));
}

TEST(MetricsExposerTest, AnAddressInUseIsAnError) {
  PrometheusMetrics metrics("1.2.3");
  absl::StatusOr<std::unique_ptr<MetricsExposer>> first =
      MetricsExposer::Start("127.0.0.1:0", {metrics.collectable()});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*first)->port());
  absl::StatusOr<std::unique_ptr<MetricsExposer>> second =
      MetricsExposer::Start(address, {metrics.collectable()});
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("cannot serve metrics on ", address)));
}

}  // namespace
}  // namespace dtrust
