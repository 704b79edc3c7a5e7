// Building blocks of the real-slapd test fixtures: one slapd child process,
// and the ldap-utils tools run against it.
#ifndef DTRUST_TESTS_TESTING_SLAPD_PROCESS_H_
#define DTRUST_TESTS_TESTING_SLAPD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dtrust::testing {

// One /usr/sbin/slapd run in the foreground from fixed arguments, with its
// output appended to <dir>/slapd.log. `dir` (not owned) must outlive this
// object. slapd is a child of the thread that launched it and gets SIGKILL
// if that thread exits. The destructor stops it.
// Thread-compatible; pid() may be read concurrently with other const calls.
class SlapdProcess {
 public:
  // `argv[0]` is the slapd binary; `probe_uri` is where it answers once up.
  // Stop() waits `stop_grace` after SIGTERM before it sends SIGKILL.
  SlapdProcess(std::string dir, std::vector<std::string> argv,
               std::string probe_uri, absl::Duration stop_grace);
  SlapdProcess(const SlapdProcess&) = delete;
  SlapdProcess& operator=(const SlapdProcess&) = delete;
  ~SlapdProcess();

  // Starts slapd and returns once an anonymous root DSE search on the probe
  // URI succeeds (at most 10 s: DeadlineExceeded). FailedPrecondition if it
  // runs already; if it exits first, Internal with its log.
  absl::Status Launch();
  // SIGTERM, then SIGKILL after the grace; reaps it. Idempotent.
  absl::Status Stop();
  // Freezes slapd (SIGSTOP) and returns once it is stopped: the kernel still
  // accepts connections, but nothing answers - a hung server.
  absl::Status Pause();
  // Lets a paused slapd run again (SIGCONT).
  absl::Status Resume();

  // slapd's pid while it runs, -1 when stopped.
  pid_t pid() const { return pid_; }
  // Everything slapd wrote so far (its -d output and errors).
  std::string Log() const;

 private:
  const std::string dir_;
  const std::vector<std::string> argv_;
  const std::string probe_uri_;
  const absl::Duration stop_grace_;
  pid_t pid_ = -1;
};

// `ldapsearch` / `ldapmodify` from ldap-utils with a simple bind as one
// identity. Temporary files go to `scratch_dir`. Thread-safe.
class LdapTools {
 public:
  LdapTools(std::string scratch_dir, std::string uri, std::string bind_dn,
            std::string password_file);

  // `ldapsearch -x -LLL -o ldif-wrap=no -H uri -D bind_dn -y password_file
  // -b base filter attrs...`: its stdout, or an error with its exit code and
  // stderr.
  absl::StatusOr<std::string> Search(
      const std::string& base, const std::string& filter,
      const std::vector<std::string>& attrs = {}) const;
  // `ldapmodify -x -a` with `ldif` (changetype records; entries without
  // changetype are added).
  absl::Status Modify(const std::string& ldif) const;

 private:
  std::string scratch_dir_;
  std::string uri_;
  std::string bind_dn_;
  std::string password_file_;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_SLAPD_PROCESS_H_
