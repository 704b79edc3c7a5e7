// An in-memory Directory for unit tests of the core and the adapters.
#ifndef DTRUST_TESTS_TESTING_FAKE_DIRECTORY_H_
#define DTRUST_TESTS_TESTING_FAKE_DIRECTORY_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "server/core/directory.h"

namespace dtrust::testing {

// Follows the Directory contract, including its error codes. Thread-safe.
class FakeDirectory : public Directory {
 public:
  // While set, every method fails with Unavailable, like a down directory.
  void SetUnavailable(bool unavailable);
  // Number of write calls made (CreateServer, AddDomains, AddPin, ...).
  int writes() const;

  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override;
  absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) override;
  absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) override;
  absl::Status CreateServer(absl::string_view name,
                            const std::vector<std::string>& domains) override;
  absl::Status AddDomains(absl::string_view server,
                          const std::vector<std::string>& domains) override;
  absl::Status AddPin(absl::string_view server, const PinRecord& pin) override;
  absl::Status UpdatePin(absl::string_view server,
                         const PinRecord& pin) override;
  absl::Status RemovePin(absl::string_view server,
                         const Sha256Digest& cert_sha256) override;
  absl::Status RemoveServer(absl::string_view name) override;
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override;
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override;
  absl::Status PutDomainPolicy(const DomainPolicy& policy) override;
  absl::Status RemoveDomainPolicy(absl::string_view domain) override;

 private:
  absl::Status Check() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status CheckWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  bool unavailable_ ABSL_GUARDED_BY(mutex_) = false;
  int writes_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<std::string, ServerRecord, std::less<>> servers_
      ABSL_GUARDED_BY(mutex_);
  std::map<std::string, DomainPolicy, std::less<>> policies_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace dtrust::testing

#endif  // DTRUST_TESTS_TESTING_FAKE_DIRECTORY_H_
