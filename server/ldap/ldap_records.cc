#include "server/ldap/ldap_records.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"
#include "server/core/dns_name.h"
#include "server/core/log.h"
#include "server/ldap/ldap_dn.h"

namespace dtrust {
namespace {

// The RDN value of `dn` if `dn` is cn=<value> directly below the entry whose
// DnKey is `parent_key`.
std::optional<std::string> CnBelow(absl::string_view dn,
                                   absl::string_view parent_key) {
  absl::StatusOr<SplitDn> split = SplitFirstRdn(dn);
  if (!split.ok() || !absl::EqualsIgnoreCase(split->attribute, "cn") ||
      absl::AsciiStrToLower(split->parent) != parent_key) {
    return std::nullopt;
  }
  return std::move(split->value);
}

// The name a `what` entry named `dn` stands for: the RDN value `value`
// normalized (NormalizeDirectoryName); nullopt, logged as a warning naming
// the DN, if it is no DNS name.
std::optional<std::string> NormalizedRdnName(absl::string_view value,
                                             absl::string_view dn,
                                             absl::string_view what) {
  absl::StatusOr<std::string> name = NormalizeDirectoryName(value, "cn");
  if (!name.ok()) {
    LogWarning("ignoring ", what, " entry \"", absl::CHexEscape(dn),
               "\": ", name.status().message());
    return std::nullopt;
  }
  return *std::move(name);
}

// One direction of a domain entry; see ParseDomainEntry.
SecureMode ParseSecureMode(const LdapEntry& entry,
                           absl::string_view attribute) {
  const std::vector<std::string>& values = entry.Values(attribute);
  if (values.empty()) return SecureMode::kOff;
  if (values.size() == 1) {
    std::optional<SecureMode> mode =
        SecureModeFromName(absl::AsciiStrToLower(values[0]));
    if (mode.has_value() && *mode != SecureMode::kOff) return *mode;
  }
  LogWarning("Domain Security entry \"", entry.dn, "\": ", attribute, " is \"",
             absl::StrJoin(values, "\", \""),
             "\" instead of one of \"enforce\" or \"testing\" (remove the "
             "attribute to turn the direction off); treating it as enforce");
  return SecureMode::kEnforce;
}

// Reads `count` digits at `*pos` into `*value`; false if there are fewer.
bool ReadDigits(absl::string_view text, size_t count, size_t* pos, int* value) {
  if (text.size() - *pos < count) return false;
  *value = 0;
  for (size_t end = *pos + count; *pos < end; ++*pos) {
    if (!absl::ascii_isdigit(text[*pos])) return false;
    *value = *value * 10 + (text[*pos] - '0');
  }
  return true;
}

bool DigitAt(absl::string_view text, size_t pos) {
  return pos < text.size() && absl::ascii_isdigit(text[pos]);
}

// The digests a pin entry stores, in the order of kDigestAttributes.
constexpr absl::string_view kDigestAttributes[2] = {kCertSha256, kSpkiSha256};
using StoredDigests = std::array<Sha256Digest, 2>;

// The digests `entry` stores; InvalidArgument unless each has one value.
absl::StatusOr<StoredDigests> ReadStoredDigests(const LdapEntry& entry) {
  StoredDigests stored;
  for (int i = 0; i < 2; ++i) {
    const std::vector<std::string>& values = entry.Values(kDigestAttributes[i]);
    if (values.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("it has ", values.size(),
                                                     " ", kDigestAttributes[i],
                                                     " values instead of 1"));
    }
    DTRUST_ASSIGN_OR_RETURN(
        stored[i], Sha256Digest::FromHex(values[0], kDigestAttributes[i]));
  }
  return stored;
}

// What ParsePinEntry needs of the certificate `der`; with kFull (or when
// the quick reading disagrees with `stored`) parsed fully into
// `*certificate`. InvalidArgument if it does not parse.
absl::StatusOr<CertificateFacts> ReadCertificateFacts(
    const std::string& der, const StoredDigests& stored, PinDetail detail,
    std::optional<Certificate>* certificate) {
  if (detail == PinDetail::kMatching) {
    absl::StatusOr<CertificateFacts> quick =
        Certificate::MatchingFacts(der, "userCertificate");
    // Anything but agreement is decided by the full parse below.
    if (quick.ok() && quick->sha256 == stored[0] &&
        quick->spki_sha256 == stored[1]) {
      return *quick;
    }
  }
  absl::StatusOr<Certificate> parsed =
      Certificate::FromDer(der, "userCertificate");
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "its userCertificate does not parse: ", parsed.status().message()));
  }
  *certificate = *std::move(parsed);
  return CertificateFacts{
      (*certificate)->sha256(), (*certificate)->spki_sha256(),
      (*certificate)->not_before(), (*certificate)->not_after()};
}

// InvalidArgument unless the `stored` digests are those of the certificate.
absl::Status CheckStoredDigests(const StoredDigests& stored,
                                const CertificateFacts& facts) {
  const Sha256Digest computed[2] = {facts.sha256, facts.spki_sha256};
  for (int i = 0; i < 2; ++i) {
    if (stored[i] != computed[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          kDigestAttributes[i], " ", stored[i].ToHex(),
          " does not match the stored certificate, whose digest is ",
          computed[i].ToHex()));
    }
  }
  return absl::OkStatus();
}

// The entry's one dtrustPinKind; InvalidArgument if it has no valid one.
absl::StatusOr<PinKind> ReadPinKind(const LdapEntry& entry) {
  const std::vector<std::string>& kinds = entry.Values(kPinKind);
  std::optional<PinKind> kind;
  if (kinds.size() == 1) {
    kind = PinKindFromName(absl::AsciiStrToLower(kinds[0]));
  }
  if (!kind.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "it has no valid ", kPinKind, " (\"certificate\" or \"public-key\")"));
  }
  return *kind;
}

// The entry's pin window; InvalidArgument for a bound with several values
// or one that is not a GeneralizedTime.
absl::StatusOr<PinWindow> ReadPinWindow(const LdapEntry& entry) {
  PinWindow window;
  for (const auto& [attribute, bound] :
       {std::make_pair(kPinNotBefore, &window.not_before),
        std::make_pair(kPinNotAfter, &window.not_after)}) {
    const std::vector<std::string>& values = entry.Values(attribute);
    if (values.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("it has ", values.size(), " ", attribute,
                       " values instead of at most 1"));
    }
    if (values.empty()) continue;
    *bound = ParseGeneralizedTime(values[0]);
    if (!bound->has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(attribute, " \"", absl::CHexEscape(values[0]),
                       "\" is not a GeneralizedTime"));
    }
  }
  return window;
}

// The entry's provenance; see ParsePinEntry.
PinProvenance ReadPinProvenance(const LdapEntry& entry) {
  const std::vector<std::string>& values = entry.Values(kPinProvenance);
  if (values.empty()) return PinProvenance::kAsserted;
  std::optional<PinProvenance> parsed;
  if (values.size() == 1) {
    parsed = PinProvenanceFromName(absl::AsciiStrToLower(values[0]));
  }
  if (parsed.has_value()) return *parsed;
  LogWarning("pinned certificate entry \"", entry.dn, "\": ", kPinProvenance,
             " is \"", absl::CHexEscape(absl::StrJoin(values, "\", \"")),
             "\" instead of \"asserted\" or \"possession-proven\"; "
             "treating the pin as asserted");
  return PinProvenance::kAsserted;
}

}  // namespace

std::string ToGeneralizedTime(absl::Time time) {
  return absl::FormatTime("%Y%m%d%H%M%E*SZ", time, absl::UTCTimeZone());
}

std::optional<absl::Time> ParseGeneralizedTime(absl::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute = 0, second = 0;
  if (!ReadDigits(text, 4, &pos, &year) || !ReadDigits(text, 2, &pos, &month) ||
      !ReadDigits(text, 2, &pos, &day) || !ReadDigits(text, 2, &pos, &hour)) {
    return std::nullopt;
  }
  absl::Duration unit = absl::Hours(1);  // Of the last field, for a fraction.
  if (DigitAt(text, pos)) {
    if (!ReadDigits(text, 2, &pos, &minute)) return std::nullopt;
    unit = absl::Minutes(1);
    if (DigitAt(text, pos)) {
      if (!ReadDigits(text, 2, &pos, &second)) return std::nullopt;
      unit = absl::Seconds(1);
    }
  }
  absl::Duration fraction = absl::ZeroDuration();
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    if (!DigitAt(text, pos)) return std::nullopt;
    for (absl::Duration scale = unit / 10; DigitAt(text, pos);
         ++pos, scale /= 10) {
      fraction += scale * (text[pos] - '0');
    }
  }
  absl::Duration offset = absl::ZeroDuration();
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos++] == '-' ? -1 : 1;
    int offset_hours, offset_minutes = 0;
    if (!ReadDigits(text, 2, &pos, &offset_hours) ||
        (DigitAt(text, pos) && !ReadDigits(text, 2, &pos, &offset_minutes)) ||
        offset_hours > 23 || offset_minutes > 59) {
      return std::nullopt;
    }
    offset = sign * (absl::Hours(offset_hours) + absl::Minutes(offset_minutes));
  } else if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else {
    return std::nullopt;
  }
  const absl::CivilDay civil_day(year, month, day);
  if (pos != text.size() || civil_day.month() != month ||
      civil_day.day() != day || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const absl::Time local =
      absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                      absl::UTCTimeZone());
  return local + fraction - offset;
}

std::vector<LdapAttribute> PinWindowAttributes(const PinWindow& window) {
  std::vector<LdapAttribute> attributes;
  for (const auto& [type, bound] :
       {std::make_pair(kPinNotBefore, window.not_before),
        std::make_pair(kPinNotAfter, window.not_after)}) {
    LdapAttribute& attribute = attributes.emplace_back();
    attribute.type = std::string(type);
    if (bound) attribute.values.push_back(ToGeneralizedTime(*bound));
  }
  return attributes;
}

std::vector<LdapAttribute> PinProvenanceAttributes(const PinRecord& pin) {
  std::vector<LdapAttribute> attributes = {
      {std::string(kPinProvenance),
       {std::string(PinProvenanceName(pin.provenance))}},
      {std::string(kPinPublisher), {}}};
  if (!pin.publisher.empty()) attributes[1].values.push_back(pin.publisher);
  return attributes;
}

const std::vector<std::string>& ServerAttributes() {
  // The name is the RDN value (see ParseServerEntry).
  static const auto* const kAttributes =
      new std::vector<std::string>{std::string(kMailDomain)};
  return *kAttributes;
}

const std::vector<std::string>& PinAttributes() {
  static const auto* const kAttributes = new std::vector<std::string>{
      std::string(kCertSha256),   std::string(kSpkiSha256),
      std::string(kPinKind),      std::string(kPinNotBefore),
      std::string(kPinNotAfter),  std::string(kPinProvenance),
      std::string(kPinPublisher), std::string(kCertificate)};
  return *kAttributes;
}

const std::vector<std::string>& DomainAttributes() {
  // The domain is the RDN value (see ParseDomainEntry).
  static const auto* const kAttributes = new std::vector<std::string>{
      std::string(kSendSecurity), std::string(kReceiveSecurity)};
  return *kAttributes;
}

std::string ClassFilter(absl::string_view object_class) {
  return absl::StrCat("(objectClass=", object_class, ")");
}

absl::StatusOr<std::string> NormalizeDirectoryName(absl::string_view value,
                                                   absl::string_view what) {
  return NormalizeDnsName(absl::StripAsciiWhitespace(value), what);
}

std::vector<std::string> DirectoryDnsNames(
    absl::string_view dn, absl::string_view attribute,
    const std::vector<std::string>& values) {
  std::vector<std::string> names;
  for (const std::string& value : values) {
    absl::StatusOr<std::string> name = NormalizeDirectoryName(value, attribute);
    if (name.ok()) {
      names.push_back(*std::move(name));
    } else {
      LogWarning("entry \"", absl::CHexEscape(dn), "\": ignoring ", attribute,
                 " \"", absl::CHexEscape(value),
                 "\": ", name.status().message());
    }
  }
  return SortedUnique(std::move(names));
}

absl::StatusOr<std::string> NameFilter(absl::string_view attribute,
                                       absl::string_view name) {
  DTRUST_ASSIGN_OR_RETURN(const std::string value, EscapeFilterValue(name));
  return absl::StrCat("(|(", attribute, "=", value, ")(", attribute, "=", value,
                      ".))");
}

absl::StatusOr<std::string> DnKey(absl::string_view dn) {
  DTRUST_ASSIGN_OR_RETURN(std::string canonical, CanonicalDn(dn));
  return absl::AsciiStrToLower(canonical);
}

std::vector<std::string> SortedUnique(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

absl::StatusOr<PinRecord> ParsePinEntry(const LdapEntry& entry,
                                        PinDetail detail) {
  const std::vector<std::string>& ders = entry.Values(kCertificate);
  if (ders.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "it has ", ders.size(), " userCertificate values instead of 1"));
  }
  DTRUST_ASSIGN_OR_RETURN(const StoredDigests stored, ReadStoredDigests(entry));
  std::optional<Certificate> certificate;
  DTRUST_ASSIGN_OR_RETURN(
      const CertificateFacts facts,
      ReadCertificateFacts(ders[0], stored, detail, &certificate));
  DTRUST_RETURN_IF_ERROR(CheckStoredDigests(stored, facts));
  DTRUST_ASSIGN_OR_RETURN(const PinKind kind, ReadPinKind(entry));
  DTRUST_ASSIGN_OR_RETURN(const PinWindow window, ReadPinWindow(entry));
  const std::vector<std::string>& publishers = entry.Values(kPinPublisher);
  return PinRecord{facts.sha256,
                   facts.spki_sha256,
                   kind,
                   facts.not_before,
                   facts.not_after,
                   certificate ? certificate->subject() : "",
                   certificate ? certificate->der() : "",
                   window,
                   ReadPinProvenance(entry),
                   publishers.empty() ? "" : publishers[0]};
}

std::optional<PinRecord> UsablePinEntry(const LdapEntry& entry,
                                        PinDetail detail) {
  absl::StatusOr<PinRecord> pin = ParsePinEntry(entry, detail);
  if (!pin.ok()) {
    LogWarning("ignoring pinned certificate entry \"", entry.dn,
               "\": ", pin.status().message());
    return std::nullopt;
  }
  return *std::move(pin);
}

std::optional<std::string> PinServerName(absl::string_view pin_dn,
                                         absl::string_view servers_key) {
  absl::StatusOr<SplitDn> split = SplitFirstRdn(pin_dn);
  if (!split.ok()) return std::nullopt;
  std::optional<std::string> name = CnBelow(split->parent, servers_key);
  if (!name.has_value()) return std::nullopt;
  return NormalizedRdnName(*name, pin_dn, "pinned certificate");
}

std::optional<ServerEntry> ParseServerEntry(const LdapEntry& entry,
                                            absl::string_view servers_key) {
  std::optional<std::string> name = CnBelow(entry.dn, servers_key);
  absl::StatusOr<std::string> key = DnKey(entry.dn);
  if (!name.has_value() || !key.ok()) {
    LogWarning("ignoring transport server entry \"", entry.dn,
               "\": it is not named cn=<server>,", servers_key);
    return std::nullopt;
  }
  // The RDN value is the entry's name: unambiguous even if cn has several.
  std::optional<std::string> normalized =
      NormalizedRdnName(*name, entry.dn, "transport server");
  if (!normalized.has_value()) return std::nullopt;
  ServerEntry server;
  server.dn = entry.dn;
  server.key = *std::move(key);
  server.record.name = *std::move(normalized);
  server.record.domains =
      DirectoryDnsNames(entry.dn, kMailDomain, entry.Values(kMailDomain));
  return server;
}

std::vector<PinRecord> ParsePinEntries(const std::vector<LdapEntry>& entries) {
  std::vector<PinRecord> pins;
  for (const LdapEntry& entry : entries) {
    std::optional<PinRecord> pin = UsablePinEntry(entry);
    if (pin.has_value()) pins.push_back(*std::move(pin));
  }
  std::sort(pins.begin(), pins.end(),
            [](const PinRecord& a, const PinRecord& b) {
              return a.cert_sha256 < b.cert_sha256;
            });
  return pins;
}

std::optional<DomainPolicy> ParseDomainEntry(const LdapEntry& entry,
                                             absl::string_view domains_key) {
  std::optional<std::string> name = CnBelow(entry.dn, domains_key);
  if (!name.has_value()) {
    LogWarning("ignoring Domain Security entry \"", entry.dn,
               "\": it is not named cn=<domain>,", domains_key);
    return std::nullopt;
  }
  std::optional<std::string> domain =
      NormalizedRdnName(*name, entry.dn, "Domain Security");
  if (!domain.has_value()) return std::nullopt;
  DomainPolicy policy;
  policy.domain = *std::move(domain);
  policy.send = ParseSecureMode(entry, kSendSecurity);
  policy.receive = ParseSecureMode(entry, kReceiveSecurity);
  if (policy.send == SecureMode::kOff && policy.receive == SecureMode::kOff) {
    return std::nullopt;
  }
  return policy;
}

std::optional<std::string> ServerEntryName(absl::string_view dn,
                                           absl::string_view servers_key) {
  std::optional<std::string> name = CnBelow(dn, servers_key);
  if (!name.has_value()) return std::nullopt;
  return NormalizedRdnName(*name, dn, "transport server");
}

std::optional<std::string> DomainEntryName(absl::string_view dn,
                                           absl::string_view domains_key) {
  std::optional<std::string> name = CnBelow(dn, domains_key);
  if (!name.has_value()) return std::nullopt;
  return NormalizedRdnName(*name, dn, "Domain Security");
}

std::vector<DomainPolicy> MergeDomainPolicies(
    std::vector<DomainPolicy> policies) {
  std::sort(policies.begin(), policies.end(),
            [](const DomainPolicy& a, const DomainPolicy& b) {
              return a.domain < b.domain;
            });
  std::vector<DomainPolicy> merged;
  for (DomainPolicy& policy : policies) {
    if (!merged.empty() && merged.back().domain == policy.domain) {
      merged.back().send = Stricter(merged.back().send, policy.send);
      merged.back().receive = Stricter(merged.back().receive, policy.receive);
    } else {
      merged.push_back(std::move(policy));
    }
  }
  return merged;
}

std::vector<LdapAttribute> DomainPolicyAttributes(const DomainPolicy& policy) {
  std::vector<LdapAttribute> attributes;
  for (const auto& [type, mode] :
       {std::make_pair(kSendSecurity, policy.send),
        std::make_pair(kReceiveSecurity, policy.receive)}) {
    LdapAttribute& attribute = attributes.emplace_back();
    attribute.type = std::string(type);
    if (mode != SecureMode::kOff) {
      attribute.values.push_back(std::string(SecureModeName(mode)));
    }
  }
  return attributes;
}

}  // namespace dtrust
