// Runs the real dtrustd binary as a child process for end-to-end tests.
#ifndef DTRUST_TESTS_TESTING_DTRUSTD_PROCESS_H_
#define DTRUST_TESTS_TESTING_DTRUSTD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/slapd_fixture.h"

namespace dtrust::testing {

// One dtrustd (DTRUST_BINARY_DIR "/server/dtrustd") listening on a unix
// socket in its own temporary directory, so tests never race for ports.
// Its stderr goes to a log file in that directory. The child gets SIGTERM if
// the test process dies (PR_SET_PDEATHSIG), so it never outlives the test.
// The destructor stops it and removes the directory.
// Thread-compatible.
class DtrustdProcess {
 public:
  // `dtrustd --listen unix:DIR/dtrustd.sock EXTRA_ARGS...`; returns once it
  // logged "dtrustd ready" (at most 30 s). Fails with its log if it exits
  // first or does not get ready in time.
  // `binary` replaces this build's dtrustd when given (e.g. an older build
  // for a benchmark's baseline).
  static absl::StatusOr<std::unique_ptr<DtrustdProcess>> Start(
      const std::vector<std::string>& extra_args,
      const std::string& binary = "");
  // Embedded mode: `--data-dir DIR/data` (dtrustd runs its own slapd).
  static absl::StatusOr<std::unique_ptr<DtrustdProcess>> StartEmbedded();
  // Against `slapd`: `--ldap-uri --base-dn --bind-dn --bind-password-file`
  // from the fixture, which must outlive the DtrustdProcess.
  // `extra_args` follow (e.g. "--directory-sync", "none").
  static absl::StatusOr<std::unique_ptr<DtrustdProcess>> StartWithLdap(
      const SlapdFixture& slapd,
      const std::vector<std::string>& extra_args = {});

  DtrustdProcess(const DtrustdProcess&) = delete;
  DtrustdProcess& operator=(const DtrustdProcess&) = delete;
  ~DtrustdProcess();

  // "unix:/tmp/.../dtrustd.sock": the value for `dtrust --endpoint`.
  const std::string& endpoint() const { return endpoint_; }
  // The child's pid while it runs (e.g. to SIGSTOP it); -1 after Stop().
  pid_t pid() const { return pid_; }
  // Everything dtrustd has written to stderr (and stdout) so far.
  std::string Log() const;

  // Sends SIGTERM and waits (SIGKILL after 10 s). OK iff it exited with
  // status 0; otherwise an error carrying its log. Idempotent.
  absl::Status Stop();

 private:
  DtrustdProcess(std::string dir, pid_t pid)
      : dir_(std::move(dir)),
        endpoint_("unix:" + dir_ + "/dtrustd.sock"),
        pid_(pid) {}

  // Runs `dtrustd --listen unix:DIR/dtrustd.sock ARGS...` in `dir` (taking
  // ownership of it) and waits until it is ready.
  static absl::StatusOr<std::unique_ptr<DtrustdProcess>> Launch(
      std::string dir, const std::vector<std::string>& args,
      const std::string& binary = "");
  // Polls the log until dtrustd is ready or exits, for at most 30 s.
  absl::Status WaitUntilReady();

  const std::string dir_;  // Owned temporary directory.
  const std::string endpoint_;
  pid_t pid_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_DTRUSTD_PROCESS_H_
