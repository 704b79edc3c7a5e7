// Closed-loop load over a unix or TCP socket for the Postfix protocol
// benchmarks: each connection sends one request, waits for its whole reply,
// repeats.
#ifndef DTRUST_TESTS_BENCHMARK_LOAD_CLIENT_H_
#define DTRUST_TESTS_BENCHMARK_LOAD_CLIENT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dtrust::bench {

struct LoadResult {
  int connections = 0;
  int64_t requests = 0;
  // Connections the server closed before their first reply (refused over
  // a connection limit); their load is missing from the figures.
  int refused = 0;
  double requests_per_second = 0;
  absl::Duration p50, p99, p999;
};

struct LoadSpec {
  std::string socket_path{};
  int tcp_port = 0;  // When > 0: 127.0.0.1:tcp_port, not socket_path.
  int connections = 1;
  absl::Duration duration = absl::Seconds(3);
  // The i-th request's bytes (i counts per connection).
  std::function<std::string(int64_t)> request{};
  // How many bytes of `buffer` form one complete reply, or 0 if more are
  // needed.
  std::function<size_t(const std::string& buffer)> reply_length{};
  // Checked on every reply; a false aborts the run with an error.
  std::function<bool(const std::string& reply)> reply_ok{};
};

// Runs `spec` and reports throughput and latency percentiles.
absl::StatusOr<LoadResult> RunLoad(const LoadSpec& spec);

}  // namespace dtrust::bench

#endif  // DTRUST_TESTS_BENCHMARK_LOAD_CLIENT_H_
