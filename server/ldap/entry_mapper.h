// Turns directory entries into mirror index entries by a DirectoryMapping
// (directory_mapping.h), for the poller (ldap_poller.h).
//
// The dtrust schema: each server, pin and domain entry is one index entry
// with the directory entry's uuid. Pins are verified as LdapDirectory
// verifies them (ParsePinEntry, ldap_records.h): the DER is parsed and both
// digests recomputed; an entry whose digest attributes disagree, or that is
// otherwise malformed, is never indexed (and removed if it was).
//
// A foreign mapping: a server entry becomes a server (with the entry's
// uuid) and one certificate pin per certificate value that parses (uuid
// ChildUuid(entry, certificate digest)); digests come from the DER alone.
// An entry without a valid DNS name or without a certificate is no server.
// The domain list object becomes one domain policy per listed domain (uuid
// ChildUuid(list object, domain)), each listed direction enforced.
//
// The mapper remembers which index entries each directory entry made, to
// remove those it no longer makes when the entry changes and to confirm
// them all present in a reload.
//
// Thread-compatible: the poller's thread owns it.
#ifndef DTRUST_SERVER_LDAP_ENTRY_MAPPER_H_
#define DTRUST_SERVER_LDAP_ENTRY_MAPPER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "server/ldap/directory_mapping.h"
#include "server/ldap/ldap_connection.h"
#include "server/mirror/mirror_index.h"

namespace dtrust {

class EntryMapper {
 public:
  // InvalidArgument for a mapping that cannot work: an attribute name that
  // is not one, a server filter not in parentheses, a base DN (or domain
  // list DN) that does not parse, full_load_every below 1.
  static absl::StatusOr<std::unique_ptr<EntryMapper>> Create(
      const DirectoryMapping& mapping, const std::string& base_dn);

  const DirectoryMapping& mapping() const { return mapping_; }
  const std::string& base_dn() const { return base_dn_; }
  // Selects every mapped entry in the subtree of base_dn().
  const std::string& filter() const { return filter_; }
  // The attributes Apply reads, the id and change attributes included.
  const std::vector<std::string>& attributes() const { return attributes_; }

  // The uuid of `entry` (read with its id attribute): EntryIdToUuid of its
  // one id value. FailedPrecondition naming the DN and the attribute when it
  // has none: a wrong --map-id-attr, or one the account may not read.
  absl::StatusOr<EntryUuid> UuidOf(const LdapEntry& entry) const;

  // Applies `entry` (read with attributes()), the directory entry `uuid`,
  // to `index`: puts what it maps to and removes what it made before and no
  // longer maps to.
  void Apply(const LdapEntry& entry, const EntryUuid& uuid, MirrorIndex& index);

  // A foreign mapping's domain list object: its DN ("" if none), the
  // attributes to read from it, and applying it (like Apply). Its index
  // entries are confirmed with ConfirmDomainLists.
  const std::string& domain_list_dn() const { return domain_list_dn_; }
  std::vector<std::string> DomainListAttributes() const;
  void ApplyDomainLists(const LdapEntry& entry, MirrorIndex& index);

  // A reload's confirmation of what is present. BeginConfirm; then Confirm
  // for every directory entry the reload found (appends the index entries
  // it made - itself and, in a foreign mapping, its pins - to `present`),
  // ConfirmDomainLists likewise; then, only if the reload completed,
  // EndConfirm forgets the directory entries that were not confirmed.
  void BeginConfirm() { ++generation_; }
  void Confirm(const EntryUuid& uuid, std::vector<EntryUuid>* present);
  void ConfirmDomainLists(std::vector<EntryUuid>* present);
  void EndConfirm();

 private:
  // The index entries a directory entry made besides itself.
  struct Made {
    std::vector<EntryUuid> children{};
    uint64_t generation = 0;
  };

  EntryMapper(const DirectoryMapping& mapping, std::string base_dn)
      : mapping_(mapping), base_dn_(std::move(base_dn)) {}

  // Set the filter and attributes (and the container keys, or the domain
  // list) for the dtrust schema's tree, or for `foreign`; InvalidArgument
  // for a mapping that names no attribute or filter.
  absl::Status MapDtrustTree();
  absl::Status MapForeignTree(const ForeignMapping& foreign);

  void ApplyDtrust(const LdapEntry& entry, const EntryUuid& uuid,
                   MirrorIndex& index) const;
  void ApplyForeign(const LdapEntry& entry, const EntryUuid& uuid,
                    MirrorIndex& index);
  // Records `children` as what `parent` made, removing from `index` what
  // it made before and no longer does.
  void SetMade(const EntryUuid& parent, std::vector<EntryUuid> children,
               MirrorIndex& index);

  const DirectoryMapping mapping_;
  const std::string base_dn_;
  std::string filter_;
  std::vector<std::string> attributes_;
  std::string servers_key_;  // dtrust schema: DnKey of ou=servers,<base>.
  std::string domains_key_;  // DnKey of ou=domains,<base>.
  std::string domain_list_dn_;
  EntryUuid domain_list_uuid_{};
  absl::flat_hash_map<EntryUuid, Made> made_;
  uint64_t generation_ = 0;
};

}  // namespace dtrust

#endif  // DTRUST_SERVER_LDAP_ENTRY_MAPPER_H_
