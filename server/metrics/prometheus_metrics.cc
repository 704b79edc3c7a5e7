#include "server/metrics/prometheus_metrics.h"

#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/core/trust_hygiene.h"

namespace dtrust {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Request latency buckets: 100 µs (a mirror answer) to 10 s (a directory
// timeout).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets =
      new prometheus::Histogram::BucketBoundaries{
          0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *buckets;
}

// One gauge's labels and value.
using GaugeValues =
    std::vector<std::pair<std::vector<ClientMetric::Label>, double>>;

// A gauge family with one metric per entry of `values`.
MetricFamily GaugeFamily(std::string name, std::string help,
                         const GaugeValues& values) {
  MetricFamily family{.name = std::move(name),
                      .help = std::move(help),
                      .type = MetricType::Gauge,
                      .metric = {}};
  for (const auto& [labels, value] : values) {
    ClientMetric metric;
    metric.label = labels;
    metric.gauge.value = value;
    family.metric.push_back(std::move(metric));
  }
  return family;
}

double Seconds(absl::Duration duration) {
  return absl::ToDoubleSeconds(duration);
}

// The gauges of the monitor's `status`.
void AppendStatusGauges(const DirectoryStatus& status,
                        std::vector<MetricFamily>* families) {
  if (status.snapshot_age) {
    families->push_back(GaugeFamily(
        "dtrust_mirror_snapshot_age_seconds",
        "Age of the directory data answers come from (0 while following the "
        "directory live).",
        {{{}, Seconds(*status.snapshot_age)}}));
  }
  if (status.mode != SyncMode::kNone) {
    families->push_back(GaugeFamily(
        "dtrust_mirror_max_staleness_seconds",
        "--max-staleness: the mirror stops answering when its data is older.",
        {{{}, Seconds(status.max_staleness)}}));
  }
  families->push_back(GaugeFamily(
      "dtrust_mirror_sync_mode",
      "Where answers come from (--directory-sync); 1 for the mode in use.",
      {{{{"mode", std::string(SyncModeName(status.mode))}}, 1}}));
  families->push_back(GaugeFamily(
      "dtrust_serving", "1 while queries are answered, 0 when they fail.",
      {{{}, status.serving ? 1.0 : 0.0}}));
  families->push_back(
      GaugeFamily("dtrust_directory_connected",
                  "1 while the session with the directory is up.",
                  {{{}, status.connected ? 1.0 : 0.0}}));
  families->push_back(GaugeFamily(
      "dtrust_ldap_uri_info",
      "The directory URI of the current or last connection (value 1).",
      {{{{"uri", status.uri}}, 1}}));
  if (status.mode == SyncMode::kNone) return;
  families->push_back(GaugeFamily(
      "dtrust_mirror_entries", "Entries held by the mirror, by kind.",
      {{{{"kind", "server"}}, static_cast<double>(status.servers)},
       {{{"kind", "pin"}}, static_cast<double>(status.pins)},
       {{{"kind", "domain_policy"}},
        static_cast<double>(status.domain_policies)}}));
  families->push_back(GaugeFamily(
      "dtrust_mirror_index_bytes", "Memory held by the mirror's index.",
      {{{}, static_cast<double>(status.index_bytes)}}));
}

// The gauges of the trust hygiene `hygiene`.
void AppendHygieneGauges(const TrustHygiene& hygiene,
                         std::vector<MetricFamily>* families) {
  GaugeValues pins;
  GaugeValues domains;
  for (size_t i = 0; i < std::size(kExpiryHorizons); ++i) {
    const std::string within(kExpiryHorizons[i].label);
    pins.push_back(
        {{{"within", within}}, static_cast<double>(hygiene.pins_expiring[i])});
    domains.push_back(
        {{{"within", within}},
         static_cast<double>(hygiene.listed_domains_last_pin_expiring[i])});
  }
  families->push_back(GaugeFamily(
      "dtrust_pins_expiring",
      "Pins valid now whose certificate or pin window ends within `within`.",
      pins));
  families->push_back(GaugeFamily(
      "dtrust_secure_domains_last_pin_expiring",
      "Domains on a Domain Security list whose every valid pin ends within "
      "`within`.",
      domains));
  families->push_back(GaugeFamily(
      "dtrust_secure_domains_without_valid_pin",
      "Domains on a Domain Security list with no pin valid now.",
      {{{}, static_cast<double>(hygiene.listed_domains_without_valid_pin)}}));
  families->push_back(GaugeFamily(
      "dtrust_servers_without_valid_pin", "Servers with no pin valid now.",
      {{{}, static_cast<double>(hygiene.servers_without_valid_pin)}}));
  families->push_back(GaugeFamily(
      "dtrust_secure_domains",
      "Domains on each Domain Security list (send, receive), by mode.",
      {{{{"list", "send"}, {"mode", "enforce"}},
        static_cast<double>(hygiene.send_enforce)},
       {{{"list", "send"}, {"mode", "testing"}},
        static_cast<double>(hygiene.send_testing)},
       {{{"list", "receive"}, {"mode", "enforce"}},
        static_cast<double>(hygiene.receive_enforce)},
       {{{"list", "receive"}, {"mode", "testing"}},
        static_cast<double>(hygiene.receive_testing)}}));
}

}  // namespace

PrometheusMetrics::PrometheusMetrics(absl::string_view version)
    : registry_(std::make_shared<prometheus::Registry>()),
      verdicts_(prometheus::BuildCounter()
                    .Name("dtrust_verdicts_total")
                    .Help("Answers given, by verdict and protocol.")
                    .Register(*registry_)),
      request_seconds_(
          prometheus::BuildHistogram()
              .Name("dtrust_request_duration_seconds")
              .Help("Time to answer a request, by protocol and RPC.")
              .Register(*registry_)),
      errors_(prometheus::BuildCounter()
                  .Name("dtrust_errors_total")
                  .Help("Requests that failed, by protocol and cause (the "
                        "status code: unavailable is the directory).")
                  .Register(*registry_)),
      connections_opened_(prometheus::BuildCounter()
                              .Name("dtrust_connections_opened_total")
                              .Help("Connections accepted and served.")
                              .Register(*registry_)),
      connections_refused_(prometheus::BuildCounter()
                               .Name("dtrust_connections_refused_total")
                               .Help("Connections closed at once over a limit.")
                               .Register(*registry_)),
      connections_open_(prometheus::BuildGauge()
                            .Name("dtrust_connections_open")
                            .Help("Connections open now.")
                            .Register(*registry_)),
      ldap_operations_(prometheus::BuildCounter()
                           .Name("dtrust_ldap_operations_total")
                           .Help("Directory operations, by operation.")
                           .Register(*registry_)),
      ldap_errors_(prometheus::BuildCounter()
                       .Name("dtrust_ldap_errors_total")
                       .Help("Directory operations that failed.")
                       .Register(*registry_)),
      mirror_connects_(prometheus::BuildCounter()
                           .Name("dtrust_mirror_connects_total")
                           .Help("Sessions of the mirror's source with the "
                                 "directory (1 + reconnects).")
                           .Register(*registry_)
                           .Add({})),
      last_full_reload_(
          prometheus::BuildGauge()
              .Name("dtrust_mirror_last_full_reload_timestamp_seconds")
              .Help("When the mirror last completed a full load (Unix time).")
              .Register(*registry_)
              .Add({})),
      log_lines_suppressed_(prometheus::BuildCounter()
                                .Name("dtrust_log_lines_suppressed_total")
                                .Help("Log lines left out by rate limiting.")
                                .Register(*registry_)
                                .Add({})) {
  prometheus::BuildGauge()
      .Name("dtrust_build_info")
      .Help("dtrustd's version (value 1).")
      .Register(*registry_)
      .Add({{"version", std::string(version)}})
      .Set(1);
}

void PrometheusMetrics::CountVerdict(Protocol protocol,
                                     absl::string_view verdict) {
  verdicts_
      .Add({{"protocol", std::string(ProtocolName(protocol))},
            {"verdict", std::string(verdict)}})
      .Increment();
}

void PrometheusMetrics::ObserveRequest(Protocol protocol, absl::string_view rpc,
                                       absl::Duration latency) {
  request_seconds_
      .Add({{"protocol", std::string(ProtocolName(protocol))},
            {"rpc", std::string(rpc)}},
           LatencyBuckets())
      .Observe(Seconds(latency));
}

void PrometheusMetrics::CountError(Protocol protocol, absl::string_view cause) {
  errors_
      .Add({{"protocol", std::string(ProtocolName(protocol))},
            {"cause", std::string(cause)}})
      .Increment();
}

void PrometheusMetrics::CountConnection(absl::string_view listener,
                                        ConnectionEvent event) {
  const prometheus::Labels labels{{"listener", std::string(listener)}};
  switch (event) {
    case ConnectionEvent::kOpened:
      connections_opened_.Add(labels).Increment();
      connections_open_.Add(labels).Increment();
      break;
    case ConnectionEvent::kRefused:
      connections_refused_.Add(labels).Increment();
      break;
    case ConnectionEvent::kClosed:
      connections_open_.Add(labels).Decrement();
      break;
  }
}

void PrometheusMetrics::CountLdapOperation(absl::string_view operation,
                                           const absl::Status& outcome) {
  const prometheus::Labels labels{{"operation", std::string(operation)}};
  ldap_operations_.Add(labels).Increment();
  if (!outcome.ok()) ldap_errors_.Add(labels).Increment();
}

void PrometheusMetrics::CountMirrorConnect() { mirror_connects_.Increment(); }

void PrometheusMetrics::MarkFullReload(absl::Time when) {
  last_full_reload_.Set(absl::ToDoubleSeconds(when - absl::UnixEpoch()));
}

void PrometheusMetrics::CountSuppressedLogLine() {
  log_lines_suppressed_.Increment();
}

std::vector<MetricFamily> DirectoryGauges::Collect() const {
  absl::MutexLock lock(&mutex_);
  std::vector<MetricFamily> families;
  AppendStatusGauges(monitor_->Status(), &families);
  CollectHygiene(&families);
  return families;
}

void DirectoryGauges::CollectHygiene(
    std::vector<MetricFamily>* families) const {
  if (directory_ == nullptr) return;
  absl::StatusOr<std::vector<ServerRecord>> servers =
      directory_->ListServers(ServerFilter{});
  if (!servers.ok()) return;
  absl::StatusOr<std::vector<DomainPolicy>> policies =
      directory_->ListDomainPolicies();
  if (!policies.ok()) return;
  std::vector<absl::Duration> horizons;
  for (const auto& horizon : kExpiryHorizons) {
    horizons.push_back(absl::Hours(24 * horizon.days));
  }
  AppendHygieneGauges(
      TrustHygieneOf(*servers, *policies, clock_->Now(), horizons), families);
}

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    absl::string_view address,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables) {
  // civetweb: two threads serve connections (a scrape takes milliseconds);
  // a request must arrive within 10 s; no keep-alive holds a thread.
  std::vector<std::string> options = {
      "listening_ports",    std::string(address),
      "num_threads",        "2",
      "request_timeout_ms", "10000",
      "enable_keep_alive",  "no"};
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(std::move(options));
  } catch (const std::exception& error) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", error.what()));
  }
  for (const auto& collectable : collectables) {
    exposer->RegisterCollectable(collectable);
  }
  return std::unique_ptr<MetricsExposer>(
      new MetricsExposer(std::move(exposer), collectables));
}

MetricsExposer::MetricsExposer(
    std::unique_ptr<prometheus::Exposer> exposer,
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables)
    : exposer_(std::move(exposer)), collectables_(std::move(collectables)) {}

int MetricsExposer::port() const {
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace dtrust
