// dtrustd: the dtrust.v1.DirectTrust gRPC service.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/core/log.h"
#include "server/dtrustd.h"
#include "server/dtrustd_options.h"

namespace {

// Blocks SIGTERM/SIGINT in every thread created from now on, so that only
// WaitForStopSignal() sees them; ignores SIGPIPE.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

int WaitForStopSignal(const sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
  return signal;
}

}  // namespace

// Exit status: 0 after a clean stop, 1 when dtrustd cannot start, 2 on bad
// usage.
int main(int argc, char** argv) {
  // Debian's abseil is built with mutex deadlock detection on (a debug
  // feature: a graph-cycle check on every lock, measured at 4-6 us of
  // dtrustd CPU per gRPC call, as gRPC 1.51 locks absl::Mutex); NDEBUG builds
  // of abseil have it off. Before any thread starts.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::StatusOr<dtrust::DtrustdOptions> options =
      dtrust::ParseDtrustdOptions(std::vector<std::string>(argv, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "dtrustd: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(dtrust::DtrustdUsage().c_str(), stdout);
    return 0;
  }
  const sigset_t stop_signals = BlockStopSignals();
  absl::StatusOr<std::unique_ptr<dtrust::Dtrustd>> dtrustd =
      dtrust::Dtrustd::Start(*options);
  if (!dtrustd.ok()) {
    dtrust::LogError(dtrustd.status().message());
    return 1;
  }
  const int signal = WaitForStopSignal(stop_signals);
  dtrust::LogInfo("received ", strsignal(signal), ", shutting down");
  (*dtrustd)->Stop();
  return 0;
}
