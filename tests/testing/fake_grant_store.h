// An in-memory GrantStore for tests.
#ifndef DTRUST_TESTS_TESTING_FAKE_GRANT_STORE_H_
#define DTRUST_TESTS_TESTING_FAKE_GRANT_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/auth/grant.h"

namespace dtrust::testing {

// Thread-safe. `set_available(false)` makes every call Unavailable.
class FakeGrantStore : public GrantStore {
 public:
  absl::StatusOr<std::vector<Grant>> ListGrants() override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    if (!available_) return absl::UnavailableError("directory down");
    std::vector<Grant> all;
    for (const auto& [key, grant] : grants_) all.push_back(grant);
    return all;
  }
  absl::Status PutGrant(const Grant& grant) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return absl::UnavailableError("directory down");
    grants_[grant.subject.Key()] = grant;
    return absl::OkStatus();
  }
  absl::Status RemoveGrant(const GrantSubject& subject) override {
    absl::MutexLock lock(&mu_);
    if (!available_) return absl::UnavailableError("directory down");
    return grants_.erase(subject.Key()) ? absl::OkStatus()
                                        : absl::NotFoundError("no grant");
  }

  void set_available(bool available) {
    absl::MutexLock lock(&mu_);
    available_ = available;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    grants_.clear();
  }
  int reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Grant> grants_ ABSL_GUARDED_BY(mu_);
  bool available_ ABSL_GUARDED_BY(mu_) = true;
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_FAKE_GRANT_STORE_H_
