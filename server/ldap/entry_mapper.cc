#include "server/ldap/entry_mapper.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/core/log.h"
#include "server/ldap/entry_id.h"
#include "server/ldap/ldap_dn.h"
#include "server/ldap/ldap_records.h"
#include "server/ldap/mirror_entries.h"

namespace dtrust {
namespace {

absl::string_view TypeOf(absl::string_view description) {
  return description.substr(0, description.find(';'));
}

// The values of every attribute of `entry` of the type of `description`,
// whatever its options: a server may answer "userCertificate;binary" with
// "userCertificate" or the other way round.
std::vector<std::string> ValuesOfType(const LdapEntry& entry,
                                      absl::string_view description) {
  std::vector<std::string> values;
  for (const auto& [name, list] : entry.attributes) {
    if (absl::EqualsIgnoreCase(TypeOf(name), TypeOf(description))) {
      values.insert(values.end(), list.begin(), list.end());
    }
  }
  return values;
}

// The valid DNS names among the values of `attribute`, normalized, sorted
// and unique; the others are logged.
std::vector<std::string> DnsNames(const LdapEntry& entry,
                                  absl::string_view attribute) {
  return DirectoryDnsNames(entry.dn, attribute, ValuesOfType(entry, attribute));
}

// InvalidArgument: the mapping's `what` is no attribute name.
absl::Status NotAnAttribute(absl::string_view what, absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat("directory mapping: ", what, " \"", absl::CHexEscape(value),
                   "\" is not an LDAP attribute name"));
}

absl::StatusOr<std::string> ContainerKey(absl::string_view ou,
                                         const std::string& base_dn) {
  DTRUST_ASSIGN_OR_RETURN(std::string rdn, MakeRdn("ou", ou));
  return DnKey(absl::StrCat(rdn, ",", base_dn));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EntryMapper>> EntryMapper::Create(
    const DirectoryMapping& mapping, const std::string& base_dn) {
  if (!IsAttributeDescription(mapping.id_attribute)) {
    return NotAnAttribute("id attribute", mapping.id_attribute);
  }
  if (mapping.full_load_every < 1) {
    return absl::InvalidArgumentError(
        "directory mapping: full_load_every must be at least 1");
  }
  if (base_dn.empty() || !DnKey(base_dn).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "directory mapping: base DN \"", base_dn, "\" does not parse"));
  }
  auto mapper = absl::WrapUnique(new EntryMapper(mapping, base_dn));
  DTRUST_RETURN_IF_ERROR(mapping.foreign
                             ? mapper->MapForeignTree(*mapping.foreign)
                             : mapper->MapDtrustTree());
  mapper->attributes_.push_back(mapping.id_attribute);
  mapper->attributes_.push_back(
      std::string(ChangeAttributeName(mapping.change_attribute)));
  return mapper;
}

absl::Status EntryMapper::MapDtrustTree() {
  DTRUST_ASSIGN_OR_RETURN(servers_key_, ContainerKey("servers", base_dn_));
  DTRUST_ASSIGN_OR_RETURN(domains_key_, ContainerKey("domains", base_dn_));
  filter_ =
      absl::StrCat("(|", ClassFilter(kServerClass), ClassFilter(kPinClass),
                   ClassFilter(kDomainClass), ")");
  attributes_.push_back("objectClass");
  for (const auto* list :
       {&ServerAttributes(), &PinAttributes(), &DomainAttributes()}) {
    attributes_.insert(attributes_.end(), list->begin(), list->end());
  }
  return absl::OkStatus();
}

absl::Status EntryMapper::MapForeignTree(const ForeignMapping& foreign) {
  const std::string& filter = foreign.server_filter;
  if (filter.size() < 2 || filter.front() != '(' || filter.back() != ')') {
    return absl::InvalidArgumentError(
        absl::StrCat("directory mapping: server filter \"", filter,
                     "\" is not an LDAP filter in parentheses"));
  }
  filter_ = filter;
  for (const auto& [what, attribute] :
       {std::make_pair("server name attribute", &foreign.server_name_attribute),
        std::make_pair("certificate attribute",
                       &foreign.certificate_attribute)}) {
    if (!IsAttributeDescription(*attribute)) {
      return NotAnAttribute(what, *attribute);
    }
    attributes_.push_back(*attribute);
  }
  for (const auto& [what, attribute] :
       {std::make_pair("domain attribute", &foreign.domain_attribute),
        std::make_pair("send list attribute", &foreign.send_secure_attribute),
        std::make_pair("receive list attribute",
                       &foreign.receive_secure_attribute)}) {
    if (!attribute->empty() && !IsAttributeDescription(*attribute)) {
      return NotAnAttribute(what, *attribute);
    }
  }
  if (!foreign.domain_attribute.empty()) {
    attributes_.push_back(foreign.domain_attribute);
  }
  if (!foreign.domain_list_dn.empty()) {
    if (!DnKey(foreign.domain_list_dn).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("directory mapping: domain list DN \"",
                       foreign.domain_list_dn, "\" does not parse"));
    }
    domain_list_dn_ = foreign.domain_list_dn;
    domain_list_uuid_ = EntryIdToUuid(
        absl::StrCat("dtrust domain lists ", foreign.domain_list_dn));
  }
  return absl::OkStatus();
}

absl::StatusOr<EntryUuid> EntryMapper::UuidOf(const LdapEntry& entry) const {
  const std::vector<std::string>& ids = entry.Values(mapping_.id_attribute);
  if (ids.size() != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "entry \"", entry.dn, "\" has ", ids.size(), " values of ",
        mapping_.id_attribute,
        " instead of 1 (is the id attribute right, and may dtrustd's "
        "account read it?)"));
  }
  return EntryIdToUuid(ids[0]);
}

void EntryMapper::Apply(const LdapEntry& entry, const EntryUuid& uuid,
                        MirrorIndex& index) {
  if (mapping_.foreign) {
    ApplyForeign(entry, uuid, index);
  } else {
    ApplyDtrust(entry, uuid, index);
  }
}

void EntryMapper::ApplyDtrust(const LdapEntry& entry, const EntryUuid& uuid,
                              MirrorIndex& index) const {
  ApplyDtrustEntry(entry, uuid, servers_key_, domains_key_, index);
}

void EntryMapper::ApplyForeign(const LdapEntry& entry, const EntryUuid& uuid,
                               MirrorIndex& index) {
  const ForeignMapping& foreign = *mapping_.foreign;
  std::vector<PinRecord> pins;
  const std::vector<std::string> ders =
      ValuesOfType(entry, foreign.certificate_attribute);
  for (size_t i = 0; i < ders.size(); ++i) {
    absl::StatusOr<Certificate> certificate =
        Certificate::FromDer(ders[i], foreign.certificate_attribute);
    if (!certificate.ok()) {
      LogWarning("entry \"", entry.dn, "\": skipping value ", i + 1, " of ",
                 foreign.certificate_attribute, " (", ders[i].size(),
                 " bytes): ", certificate.status().message());
      continue;
    }
    const bool duplicate =
        std::any_of(pins.begin(), pins.end(), [&](const PinRecord& pin) {
          return pin.cert_sha256 == certificate->sha256();
        });
    if (duplicate) continue;
    PinRecord& pin = pins.emplace_back();
    pin.cert_sha256 = certificate->sha256();
    pin.spki_sha256 = certificate->spki_sha256();
    pin.kind = PinKind::kCertificate;
    pin.not_before = certificate->not_before();
    pin.not_after = certificate->not_after();
  }
  std::optional<std::string> name;
  const std::vector<std::string> names =
      ValuesOfType(entry, foreign.server_name_attribute);
  if (names.size() == 1) {
    absl::StatusOr<std::string> normalized =
        NormalizeDirectoryName(names[0], foreign.server_name_attribute);
    if (normalized.ok()) {
      name = *std::move(normalized);
    } else if (!pins.empty()) {
      LogWarning("ignoring the certificates of \"", entry.dn,
                 "\": ", normalized.status().message());
    }
  } else if (!pins.empty()) {
    LogWarning("ignoring the certificates of \"", entry.dn, "\": it has ",
               names.size(), " values of ", foreign.server_name_attribute,
               " instead of 1");
  }
  if (!name || pins.empty()) {  // Not (or no longer) a transport server.
    index.Write()->Remove(uuid);
    SetMade(uuid, {}, index);
    made_.erase(uuid);
    return;
  }
  index.Write()->PutServer(uuid, *name,
                           foreign.domain_attribute.empty()
                               ? foreign.domains
                               : DnsNames(entry, foreign.domain_attribute));
  std::vector<EntryUuid> children;
  for (const PinRecord& pin : pins) {
    children.push_back(ChildUuid(uuid, pin.cert_sha256.bytes()));
    index.Write()->PutPin(children.back(), *name, pin);
  }
  SetMade(uuid, std::move(children), index);
}

std::vector<std::string> EntryMapper::DomainListAttributes() const {
  std::vector<std::string> attributes;
  if (!mapping_.foreign) return attributes;
  for (const std::string* attribute :
       {&mapping_.foreign->send_secure_attribute,
        &mapping_.foreign->receive_secure_attribute}) {
    if (!attribute->empty()) attributes.push_back(*attribute);
  }
  return attributes;
}

void EntryMapper::ApplyDomainLists(const LdapEntry& entry, MirrorIndex& index) {
  const ForeignMapping& foreign = *mapping_.foreign;
  std::vector<DomainPolicy> policies;
  auto policy_of = [&policies](const std::string& domain) -> DomainPolicy& {
    for (DomainPolicy& policy : policies) {
      if (policy.domain == domain) return policy;
    }
    DomainPolicy& policy = policies.emplace_back();
    policy.domain = domain;
    return policy;
  };
  if (!foreign.send_secure_attribute.empty()) {
    for (const std::string& domain :
         DnsNames(entry, foreign.send_secure_attribute)) {
      policy_of(domain).send = SecureMode::kEnforce;
    }
  }
  if (!foreign.receive_secure_attribute.empty()) {
    for (const std::string& domain :
         DnsNames(entry, foreign.receive_secure_attribute)) {
      policy_of(domain).receive = SecureMode::kEnforce;
    }
  }
  std::vector<EntryUuid> children;
  for (const DomainPolicy& policy : policies) {
    children.push_back(ChildUuid(domain_list_uuid_, policy.domain));
    index.Write()->PutDomainPolicy(children.back(), policy);
  }
  SetMade(domain_list_uuid_, std::move(children), index);
}

void EntryMapper::SetMade(const EntryUuid& parent,
                          std::vector<EntryUuid> children, MirrorIndex& index) {
  Made& made = made_[parent];
  const absl::flat_hash_set<EntryUuid> kept(children.begin(), children.end());
  for (const EntryUuid& old : made.children) {
    if (!kept.contains(old)) index.Write()->Remove(old);
  }
  made.children = std::move(children);
}

void EntryMapper::Confirm(const EntryUuid& uuid,
                          std::vector<EntryUuid>* present) {
  present->push_back(uuid);
  const auto it = made_.find(uuid);
  if (it == made_.end()) return;
  it->second.generation = generation_;
  present->insert(present->end(), it->second.children.begin(),
                  it->second.children.end());
}

void EntryMapper::ConfirmDomainLists(std::vector<EntryUuid>* present) {
  Confirm(domain_list_uuid_, present);
}

void EntryMapper::EndConfirm() {
  absl::erase_if(made_, [this](const auto& entry) {
    return entry.second.generation != generation_;
  });
}

}  // namespace dtrust
