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

// Blocks SIGTERM/SIGINT/SIGHUP (and SIGUSR1, which dtrustd sends itself when
// a listener stopped accepting) in every thread created from now on, so that
// only WaitForSignal() sees them; ignores SIGPIPE.
sigset_t BlockSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, dtrust::Dtrustd::kListenerStuckSignal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

int WaitForSignal(const sigset_t& signals) {
  int signal = 0;
  sigwait(&signals, &signal);
  return signal;
}

// SIGHUP: reads the configuration again (`args` over the config file as it
// is now) and applies what can change at runtime; a bad one is logged and
// changes nothing.
void Reload(const std::vector<std::string>& args, dtrust::Dtrustd& dtrustd) {
  absl::StatusOr<dtrust::DtrustdOptions> options =
      dtrust::ParseDtrustdOptions(args);
  if (!options.ok()) {
    dtrust::LogError("SIGHUP: configuration not reloaded, nothing changed: ",
                     options.status().message());
    return;
  }
  dtrustd.Reload(*options);
}

}  // namespace

// Exit status: 0 after a clean stop (or a valid --check-config), 1 when
// dtrustd cannot start or a gRPC listener stopped accepting (a supervisor
// should restart it), 2 on bad usage or configuration.
int main(int argc, char** argv) {
  // Debian's abseil is built with mutex deadlock detection on (a debug
  // feature: a graph-cycle check on every lock, measured at 4-6 us of
  // dtrustd CPU per gRPC call, as gRPC 1.51 locks absl::Mutex); NDEBUG builds
  // of abseil have it off. Before any thread starts.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::vector<std::string> args(argv, argv + argc);
  absl::StatusOr<dtrust::DtrustdOptions> options =
      dtrust::ParseDtrustdOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "dtrustd: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(dtrust::DtrustdUsage().c_str(), stdout);
    return 0;
  }
  if (options->check_config) {
    std::printf("dtrustd: configuration valid (%s)\n",
                options->config_file.empty() ? "no config file"
                                             : options->config_file.c_str());
    return 0;
  }
  const sigset_t signals = BlockSignals();
  absl::StatusOr<std::unique_ptr<dtrust::Dtrustd>> dtrustd =
      dtrust::Dtrustd::Start(*options);
  if (!dtrustd.ok()) {
    dtrust::LogError(dtrustd.status().message());
    return 1;
  }
  int signal = 0;
  while ((signal = WaitForSignal(signals)) == SIGHUP) Reload(args, **dtrustd);
  if (signal == dtrust::Dtrustd::kListenerStuckSignal) {
    (*dtrustd)->Stop();
    return 1;
  }
  dtrust::LogInfo("received ", strsignal(signal), ", shutting down");
  (*dtrustd)->Stop();
  return 0;
}
