// Directory entries → dtrust records: pins, servers, Domain Security
// policies (ldap_records), a pin's server from its DN, and the mirror's
// EntryMapper applying an entry to a fresh index. Entries are synthetic:
//
//   input  = selector:1 dn:field (name:1 value:field)*
//   field  = length:2 (big-endian) bytes
//
// `selector` picks the reader; `name` indexes kAttributes (modulo its size),
// the attributes dtrust reads, lower-cased as LdapConnection returns them.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/ldap/entry_mapper.h"
#include "server/ldap/ldap_records.h"
#include "server/mirror/mirror_index.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

namespace {

using dtrust::LdapEntry;

constexpr absl::string_view kBaseDn = "dc=example,dc=org";
constexpr absl::string_view kAttributes[] = {"objectclass",
                                             dtrust::kCertificate,
                                             dtrust::kCertSha256,
                                             dtrust::kSpkiSha256,
                                             dtrust::kPinKind,
                                             dtrust::kPinNotBefore,
                                             dtrust::kPinNotAfter,
                                             dtrust::kPinProvenance,
                                             dtrust::kPinPublisher,
                                             dtrust::kMailDomain,
                                             dtrust::kSendSecurity,
                                             dtrust::kReceiveSecurity,
                                             "cn",
                                             "entryuuid",
                                             "modifytimestamp"};

// Reads input's fields from the front.
class Reader {
 public:
  explicit Reader(absl::string_view input) : input_(input) {}
  bool empty() const { return input_.empty(); }
  uint8_t Byte() {
    if (input_.empty()) return 0;
    const auto byte = static_cast<uint8_t>(input_[0]);
    input_.remove_prefix(1);
    return byte;
  }
  std::string Field() {
    const size_t length = (size_t{Byte()} << 8) | Byte();
    const absl::string_view field = input_.substr(0, length);
    input_.remove_prefix(field.size());
    return std::string(field);
  }

 private:
  absl::string_view input_;
};

LdapEntry ReadEntry(Reader& reader) {
  LdapEntry entry;
  entry.dn = reader.Field();
  while (!reader.empty()) {
    const size_t name = reader.Byte() % std::size(kAttributes);
    entry.attributes[absl::AsciiStrToLower(kAttributes[name])].push_back(
        reader.Field());
  }
  return entry;
}

void ApplyToMirror(const LdapEntry& entry) {
  static dtrust::EntryMapper* const mapper =
      dtrust::EntryMapper::Create(dtrust::DirectoryMapping(),
                                  std::string(kBaseDn))
          ->release();
  dtrust::MirrorIndex index;
  const auto uuid = mapper->UuidOf(entry);
  mapper->Apply(entry, uuid.ok() ? *uuid : dtrust::EntryUuid{}, index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader reader(absl::string_view(reinterpret_cast<const char*>(data), size));
  const uint8_t selector = reader.Byte();
  const LdapEntry entry = ReadEntry(reader);
  static const std::string servers_key =
      *dtrust::DnKey(absl::StrCat("ou=servers,", kBaseDn));
  static const std::string domains_key =
      *dtrust::DnKey(absl::StrCat("ou=domains,", kBaseDn));
  switch (selector % 6) {
    case 0:
      (void)dtrust::ParsePinEntry(entry, dtrust::PinDetail::kFull);
      break;
    case 1:
      (void)dtrust::ParsePinEntry(entry, dtrust::PinDetail::kMatching);
      break;
    case 2:
      (void)dtrust::ParseServerEntry(entry, servers_key);
      break;
    case 3:
      (void)dtrust::ParseDomainEntry(entry, domains_key);
      break;
    case 4:
      (void)dtrust::PinServerName(entry.dn, servers_key);
      break;
    default:
      ApplyToMirror(entry);
  }
  return 0;
}
