// dtrustd's Prometheus metrics: the one place that declares every metric
// family dtrustd serves (names, help, labels, buckets), and the HTTP
// endpoint serving them (prometheus-cpp's Exposer). See the README's
// "Metrics and alerts" for the list.
//
// Cardinality is bounded by design: labels take values from fixed sets
// (protocols, verdicts, RPC method names, status codes, listeners, LDAP
// operations, horizons); no label names a server, domain, peer or
// certificate. Counts over the published data (pins expiring, domains
// without a valid pin) are computed when scraped from what answers queries
// (DirectoryGauges), not kept up to date by hand.
#ifndef DTRUST_SERVER_METRICS_PROMETHEUS_METRICS_H_
#define DTRUST_SERVER_METRICS_PROMETHEUS_METRICS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/core/clock.h"
#include "server/core/directory.h"
#include "server/core/directory_status.h"
#include "server/core/metrics.h"

namespace dtrust {

// The horizons of dtrust_pins_expiring and
// dtrust_secure_domains_last_pin_expiring, as their `within` label.
inline constexpr struct {
  absl::string_view label;
  int days;
} kExpiryHorizons[] = {{"7d", 7}, {"14d", 14}, {"30d", 30}};

// The event counters and histograms (Metrics, installed for the process
// with SetProcessMetrics) and dtrust_build_info. Thread-safe.
class PrometheusMetrics final : public Metrics {
 public:
  // `version` is dtrust_build_info's version label.
  explicit PrometheusMetrics(absl::string_view version);
  PrometheusMetrics(const PrometheusMetrics&) = delete;
  PrometheusMetrics& operator=(const PrometheusMetrics&) = delete;

  // What a scrape collects from these metrics.
  std::shared_ptr<prometheus::Collectable> collectable() const {
    return registry_;
  }

  void CountVerdict(Protocol protocol, absl::string_view verdict) override;
  void ObserveRequest(Protocol protocol, absl::string_view rpc,
                      absl::Duration latency) override;
  void CountError(Protocol protocol, absl::string_view cause) override;
  void CountConnection(absl::string_view listener,
                       ConnectionEvent event) override;
  void CountLdapOperation(absl::string_view operation,
                          const absl::Status& outcome) override;
  void CountMirrorConnect() override;
  void MarkFullReload(absl::Time when) override;
  void CountSuppressedLogLine() override;

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& verdicts_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Counter>& connections_opened_;
  prometheus::Family<prometheus::Counter>& connections_refused_;
  prometheus::Family<prometheus::Gauge>& connections_open_;
  prometheus::Family<prometheus::Counter>& ldap_operations_;
  prometheus::Family<prometheus::Counter>& ldap_errors_;
  prometheus::Counter& mirror_connects_;
  prometheus::Gauge& last_full_reload_;
  prometheus::Counter& log_lines_suppressed_;
};

// The gauges derived from the data, computed at each scrape: the monitor's
// status (snapshot age, sync mode and state, entries by kind, index bytes,
// directory URI) and the trust hygiene of what `directory` answers
// (core/trust_hygiene.h). Listing every server per scrape costs a mirror
// walk (≈ what `dtrust list` costs); with the directory unreachable the
// hygiene gauges are left out of that scrape, the status ones stay.
// Thread-safe. Does not own its pointers (non-null but `directory`, which
// may be null: no hygiene gauges), which must outlive it.
class DirectoryGauges final : public prometheus::Collectable {
 public:
  DirectoryGauges(const DirectoryMonitor* monitor, Directory* directory,
                  const Clock* clock)
      : monitor_(monitor), directory_(directory), clock_(clock) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void CollectHygiene(std::vector<prometheus::MetricFamily>* families) const;

  const DirectoryMonitor* const monitor_;
  Directory* const directory_;
  const Clock* const clock_;
  // One scrape at a time walks the data.
  mutable absl::Mutex mutex_;
};

// Serves GET /metrics on one address with a bounded number of threads (each
// serves one connection at a time; further connections queue in the
// listen backlog) and a request timeout. Thread-safe.
class MetricsExposer {
 public:
  // `address` is HOST:PORT (port 0: any free one), e.g. "127.0.0.1:9750".
  // Unavailable naming the address when it cannot listen.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(
      absl::string_view address,
      const std::vector<std::shared_ptr<prometheus::Collectable>>&
          collectables);

  // The bound port.
  int port() const;

 private:
  MetricsExposer(
      std::unique_ptr<prometheus::Exposer> exposer,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  const std::unique_ptr<prometheus::Exposer> exposer_;
  // Kept alive while served (the Exposer holds weak pointers).
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_METRICS_PROMETHEUS_METRICS_H_
