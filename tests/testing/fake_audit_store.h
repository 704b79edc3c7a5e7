// An in-memory AuditStore for tests.
#ifndef DTRUST_TESTS_TESTING_FAKE_AUDIT_STORE_H_
#define DTRUST_TESTS_TESTING_FAKE_AUDIT_STORE_H_

#include <algorithm>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/auth/audit.h"

namespace dtrust::testing {

// Thread-safe; Query filters as the LDAP store does.
class FakeAuditStore : public AuditStore {
 public:
  absl::Status Append(const AuditRecord& record) override {
    absl::MutexLock lock(&mu_);
    records_.push_back(record);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<AuditRecord>> Query(const AuditQuery& query,
                                                 bool* truncated) override {
    absl::MutexLock lock(&mu_);
    std::vector<AuditRecord> matching;
    const auto names = [](const std::vector<std::string>& values,
                          const std::string& wanted) {
      return wanted.empty() ||
             std::find(values.begin(), values.end(), wanted) != values.end();
    };
    for (const AuditRecord& record : records_) {
      if (record.time >= query.since && names(record.servers, query.server) &&
          names(record.domains, query.domain)) {
        matching.push_back(record);
      }
    }
    *truncated = matching.size() > query.limit;
    if (*truncated)
      matching.erase(matching.begin(), matching.end() - query.limit);
    return matching;
  }
  std::vector<AuditRecord> records() const {
    absl::MutexLock lock(&mu_);
    return records_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<AuditRecord> records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_FAKE_AUDIT_STORE_H_
