// Noticing a TCP listener that stopped accepting connections.
#ifndef DTRUST_SERVER_GRPC_LISTENER_WATCHDOG_H_
#define DTRUST_SERVER_GRPC_LISTENER_WATCHDOG_H_

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace dtrust {

enum class ProbeResult {
  kAccepting,     // The server took the connection.
  kNotAccepting,  // Refused, or connected but not accepted by the deadline.
  kUnknown,       // No descriptor to probe with (this process is out).
};

// A resolved address to connect to, and what to say first.
struct ProbeTarget {
  std::string address;  // As given, for messages.
  sockaddr_storage socket_address{};
  socklen_t length = 0;
  // The probe's first bytes: the HTTP/2 client preface for a plain gRPC
  // listener; a TLS ClientHello (TlsClientHello()) for a TLS one, which
  // answers it with its ServerHello (garbage would make gRPC log a failed
  // handshake at ERROR on every probe).
  std::string hello;
};

// The HTTP/2 client connection preface.
std::string Http2Preface();
// A TLS ClientHello as OpenSSL's client writes it (no SNI, no certificate
// offered); Internal with OpenSSL's error if it cannot be made.
absl::StatusOr<std::string> TlsClientHello();

// Resolves "HOST:PORT" ("[V6]:PORT" too; a wildcard host is probed on
// loopback), to be greeted with `hello`. InvalidArgument naming `address` if
// it cannot be resolved.
absl::StatusOr<ProbeTarget> ResolveProbeTarget(const std::string& address,
                                               std::string hello);

// Connects to `target`, sends target.hello and waits until `deadline` for any
// answer (SETTINGS, a ServerHello, an alert or a close): the kernel completes
// a TCP connection that sits in the listen backlog, but only a server that
// accepted it answers. Thread-safe.
ProbeResult ProbeListener(const ProbeTarget& target, absl::Duration deadline);

// Probes each target every `period`; once one has not accepted `failures`
// probes in a row (probes that could not be made do not count), calls
// `on_stuck(address)` once, on its own thread, and stops probing.
//
// gRPC 1.51's TCP listener stops accepting for good after accept4 fails with
// EMFILE; this is how dtrustd notices instead of living on deaf. Thread-safe;
// the destructor stops and joins the thread (after an on_stuck in progress).
class ListenerWatchdog {
 public:
  struct Options {
    absl::Duration period = absl::Seconds(1);
    absl::Duration deadline = absl::Seconds(2);
    int failures = 3;
  };
  using StuckCallback = std::function<void(const std::string& address)>;

  // Resolves every address first (errors as ResolveProbeTarget's); `tls`:
  // the listeners serve TLS.
  static absl::StatusOr<std::unique_ptr<ListenerWatchdog>> Start(
      const std::vector<std::string>& addresses, bool tls,
      const Options& options, StuckCallback on_stuck);
  ListenerWatchdog(const ListenerWatchdog&) = delete;
  ListenerWatchdog& operator=(const ListenerWatchdog&) = delete;
  ~ListenerWatchdog();

 private:
  ListenerWatchdog(std::vector<ProbeTarget> targets, const Options& options,
                   StuckCallback on_stuck)
      : targets_(std::move(targets)),
        options_(options),
        on_stuck_(std::move(on_stuck)) {}
  void Run();

  const std::vector<ProbeTarget> targets_;
  const Options options_;
  const StuckCallback on_stuck_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_GRPC_LISTENER_WATCHDOG_H_
