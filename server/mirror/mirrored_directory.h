// A Directory answering matching reads from the mirror and everything else
// from the directory itself.
#ifndef DTRUST_SERVER_MIRROR_MIRRORED_DIRECTORY_H_
#define DTRUST_SERVER_MIRROR_MIRRORED_DIRECTORY_H_

#include <optional>
#include <string>
#include <vector>

#include "server/core/directory.h"
#include "server/mirror/mirror.h"

namespace dtrust {

// From the mirror (no directory request; Unavailable while the mirror does
// not serve, see Mirror::CheckServing): FindByDigest, FindServers,
// GetDomainPolicy and ListDomainPolicies - what Verify and the Postfix
// protocols need. From `directory`: GetServer and ListServers (they return
// certificates, which the mirror does not hold; used by List and Publish).
// Writes go to `directory`; once it accepted one, the change is applied to
// the mirror at once, so the writer's next read sees it. (A removal the
// directory reports as NotFound is applied too: the directory is right.)
//
// Thread-safe. Does not own `directory` or `mirror`; both must outlive it.
class MirroredDirectory : public DirectoryWrapper {
 public:
  MirroredDirectory(Directory* directory, Mirror* mirror)
      : DirectoryWrapper(directory), mirror_(mirror) {}

  // Reads from the mirror.
  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override;
  absl::StatusOr<std::vector<ServerRecord>> FindServers(
      const ServerFilter& filter) override;
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override;
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override;

  // Writes to the directory, then to the mirror.
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
  absl::Status PutDomainPolicy(const DomainPolicy& policy) override;
  absl::Status RemoveDomainPolicy(absl::string_view domain) override;

 private:
  Mirror* const mirror_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_MIRRORED_DIRECTORY_H_
