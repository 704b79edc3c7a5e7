// A Metrics that counts what it is told, installed for the process while it
// exists, for tests of what the adapters report.
#ifndef DTRUST_TESTS_TESTING_FAKE_METRICS_H_
#define DTRUST_TESTS_TESTING_FAKE_METRICS_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/core/metrics.h"

namespace dtrust::testing {

// Counts events by a key naming them: "verdict grpc trusted",
// "error policy unavailable", "request socketmap socketmap",
// "connection policy opened", "ldap search ok", "ldap search error",
// "mirror_connect", "full_reload", "suppressed". Installs itself as the
// process's Metrics on construction and restores the no-op on destruction.
// Thread-safe.
class FakeMetrics : public Metrics {
 public:
  FakeMetrics() { SetProcessMetrics(this); }
  ~FakeMetrics() override { SetProcessMetrics(nullptr); }
  FakeMetrics(const FakeMetrics&) = delete;
  FakeMetrics& operator=(const FakeMetrics&) = delete;

  // How often the event `key` was reported.
  int Count(const std::string& key) const {
    absl::MutexLock lock(&mutex_);
    const auto found = counts_.find(key);
    return found == counts_.end() ? 0 : found->second;
  }

  void CountVerdict(Protocol protocol, absl::string_view verdict) override {
    Add(absl::StrCat("verdict ", ProtocolName(protocol), " ", verdict));
  }
  void ObserveRequest(Protocol protocol, absl::string_view rpc,
                      absl::Duration /*latency*/) override {
    Add(absl::StrCat("request ", ProtocolName(protocol), " ", rpc));
  }
  void CountError(Protocol protocol, absl::string_view cause) override {
    Add(absl::StrCat("error ", ProtocolName(protocol), " ", cause));
  }
  void CountConnection(absl::string_view listener,
                       ConnectionEvent event) override {
    Add(absl::StrCat("connection ", listener, " ",
                     event == ConnectionEvent::kOpened    ? "opened"
                     : event == ConnectionEvent::kRefused ? "refused"
                                                          : "closed"));
  }
  void CountLdapOperation(absl::string_view operation,
                          const absl::Status& outcome) override {
    Add(absl::StrCat("ldap ", operation, outcome.ok() ? " ok" : " error"));
  }
  void CountMirrorConnect() override { Add("mirror_connect"); }
  void MarkFullReload(absl::Time /*when*/) override { Add("full_reload"); }
  void CountSuppressedLogLine() override { Add("suppressed"); }

 private:
  void Add(const std::string& key) {
    absl::MutexLock lock(&mutex_);
    ++counts_[key];
  }

  mutable absl::Mutex mutex_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_FAKE_METRICS_H_
