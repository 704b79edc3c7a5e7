// The Directory of a directory dtrustd only reads: a foreign tree mapped by
// the poller (server/ldap/directory_mapping.h), whose servers and
// certificates are managed with the directory's own tools.
//
// Every read comes from the mirror (Unavailable while it does not serve,
// see Mirror::CheckServing), with pins carrying digests, dates and kind but
// neither `der` nor `subject` (the mirror keeps no certificates; listing
// shows fingerprints). No LDAP request is made, and no LdapDirectory is
// needed (its Connect would create ou=servers and ou=domains in the tree).
// Every write is refused with FailedPrecondition "the directory is mapped
// read-only (<reason>); publish with the directory's own tools".
//
// Thread-safe. Does not own `mirror`, which must outlive it.
#ifndef DTRUST_SERVER_MIRROR_READ_ONLY_DIRECTORY_H_
#define DTRUST_SERVER_MIRROR_READ_ONLY_DIRECTORY_H_

#include <optional>
#include <string>
#include <vector>

#include "server/core/directory.h"
#include "server/mirror/mirror.h"

namespace dtrust {

class ReadOnlyDirectory : public Directory {
 public:
  // `reason` says what is mapped, e.g. DescribeForeignMapping().
  ReadOnlyDirectory(Mirror* mirror, std::string reason)
      : mirror_(mirror), reason_(std::move(reason)) {}

  absl::StatusOr<std::vector<ServerRecord>> FindByDigest(
      const Sha256Digest* cert_sha256,
      const Sha256Digest* spki_sha256) override;
  absl::StatusOr<std::optional<ServerRecord>> GetServer(
      absl::string_view name) override;
  absl::StatusOr<std::vector<ServerRecord>> ListServers(
      const ServerFilter& filter) override;
  absl::StatusOr<std::vector<ServerRecord>> FindServers(
      const ServerFilter& filter) override;
  absl::StatusOr<std::vector<DomainPolicy>> ListDomainPolicies() override;
  absl::StatusOr<std::optional<DomainPolicy>> GetDomainPolicy(
      absl::string_view domain) override;

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
  absl::Status Refuse() const;

  Mirror* const mirror_;
  const std::string reason_;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_MIRROR_READ_ONLY_DIRECTORY_H_
