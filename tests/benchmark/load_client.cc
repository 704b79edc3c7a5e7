#include "tests/benchmark/load_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace dtrust::bench {
namespace {

using Clock = std::chrono::steady_clock;

absl::StatusOr<int> Connect(const LoadSpec& spec) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(sockaddr_un);
  if (spec.tcp_port > 0) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(spec.tcp_port));
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(*v4);
  } else {
    auto* un = reinterpret_cast<sockaddr_un*>(&storage);
    un->sun_family = AF_UNIX;
    std::strncpy(un->sun_path, spec.socket_path.c_str(),
                 sizeof(un->sun_path) - 1);
  }
  const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  if (connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    close(fd);
    return absl::UnavailableError(
        spec.tcp_port > 0
            ? absl::StrCat("cannot connect to 127.0.0.1:", spec.tcp_port)
            : absl::StrCat("cannot connect to ", spec.socket_path));
  }
  return fd;
}

struct Worker {
  std::vector<int64_t> latencies_ns;
  std::string error;
  bool refused = false;  // Closed by the server before its first reply.
};

// Connects, waits until every connection has, then runs until `duration`
// has passed.
void RunConnection(const LoadSpec& spec, std::latch* connected,
                   Worker* worker) {
  absl::StatusOr<int> fd = Connect(spec);
  connected->arrive_and_wait();
  if (!fd.ok()) {
    worker->error = std::string(fd.status().message());
    return;
  }
  const Clock::time_point end =
      Clock::now() + absl::ToChronoNanoseconds(spec.duration);
  std::string buffer;
  char chunk[65536];
  for (int64_t i = 0; Clock::now() < end; ++i) {
    const std::string request = spec.request(i);
    const Clock::time_point start = Clock::now();
    if (send(*fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      worker->error = "send failed";
      break;
    }
    size_t length = 0;
    while ((length = spec.reply_length(buffer)) == 0) {
      const ssize_t n = recv(*fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        if (worker->latencies_ns.empty()) {
          worker->refused = true;
        } else {
          worker->error = "connection closed by the server";
        }
        close(*fd);
        return;
      }
      buffer.append(chunk, n);
    }
    worker->latencies_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                             start)
            .count());
    const std::string reply = buffer.substr(0, length);
    buffer.erase(0, length);
    if (!spec.reply_ok(reply)) {
      worker->error = absl::StrCat("unexpected reply: ", reply.substr(0, 200));
      break;
    }
  }
  close(*fd);
}

absl::Duration Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return absl::ZeroDuration();
  const size_t index =
      std::min(sorted.size() - 1,
               static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return absl::Nanoseconds(sorted[index]);
}

}  // namespace

absl::StatusOr<LoadResult> RunLoad(const LoadSpec& spec) {
  std::vector<Worker> workers(spec.connections);
  std::vector<std::thread> threads;
  // Every connection is open before the clock starts.
  std::latch connected(spec.connections + 1);
  for (Worker& worker : workers) {
    threads.emplace_back(RunConnection, std::cref(spec), &connected, &worker);
  }
  connected.arrive_and_wait();
  const Clock::time_point start = Clock::now();
  for (std::thread& thread : threads) thread.join();
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - start).count();
  LoadResult result;
  std::vector<int64_t> all;
  for (const Worker& worker : workers) {
    if (!worker.error.empty()) return absl::InternalError(worker.error);
    if (worker.refused) ++result.refused;
    all.insert(all.end(), worker.latencies_ns.begin(),
               worker.latencies_ns.end());
  }
  std::sort(all.begin(), all.end());
  result.connections = spec.connections;
  result.requests = static_cast<int64_t>(all.size());
  result.requests_per_second = static_cast<double>(all.size()) / elapsed;
  result.p50 = Percentile(all, 0.50);
  result.p99 = Percentile(all, 0.99);
  result.p999 = Percentile(all, 0.999);
  return result;
}

}  // namespace dtrust::bench
