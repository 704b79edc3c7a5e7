// Test helpers for the Postfix protocol servers: a blocking socket client
// and a temporary directory.
#ifndef DTRUST_TESTS_SERVER_POSTFIX_TEST_CLIENT_H_
#define DTRUST_TESTS_SERVER_POSTFIX_TEST_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/owned_fd.h"
#include "server/postfix/listen_address.h"

namespace dtrust::testing {

// A client connection; every read waits at most `timeout`. Thread-compatible.
class TestClient {
 public:
  // Connects to `address`, over TCP from `source_ipv4` when given (e.g.
  // "127.0.0.2": another client on loopback).
  static absl::StatusOr<std::unique_ptr<TestClient>> Connect(
      const ListenAddress& address, absl::Duration timeout = absl::Seconds(5),
      const std::string& source_ipv4 = "");
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Sends all of `data`; false once the server closed the connection.
  bool Send(absl::string_view data);
  // Reads until the received bytes hold `terminator`; returns them up to and
  // including it. Empty on EOF, error or timeout before that.
  std::string ReadUntil(absl::string_view terminator);
  // Reads one netstring "LEN:DATA," and returns DATA; empty on failure.
  std::string ReadNetstringData();
  // True if the server closes the connection (EOF or reset) within the
  // timeout, discarding anything it sends first; false on timeout.
  bool WaitClosed();

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  // Appends what arrives to buffer_; false on EOF, error or timeout.
  bool Fill();

  OwnedFd fd_;
  std::string buffer_;
};

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Resident memory of this process in bytes (/proc/self/status): now
// (VmRSS), and the peak (VmHWM) since the last ResetPeakRss().
int64_t CurrentRssBytes();
int64_t PeakRssBytes();
void ResetPeakRss();

// What this process writes to stderr (its server threads included) while
// `run` runs. `run` may use ASSERT_*: the capture ends either way.
std::string StderrDuring(const std::function<void()>& run);

// The lines of `log` (split at '\n') that contain `text`.
std::vector<std::string> LinesWith(absl::string_view log,
                                   absl::string_view text);

// The one line of `log` that contains `text`; "" and a test failure unless
// there is exactly one.
std::string OnlyLineWith(absl::string_view log, absl::string_view text);

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_SERVER_POSTFIX_TEST_CLIENT_H_
