#include "client/x509_name.h"

#include <openssl/asn1.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

enum class ValueKind {
  kCountry,          // Exactly 2 ASCII letters, PrintableString.
  kDirectoryString,  // Unicode, UTF8String.
  kAscii,            // ASCII, IA5String.
};

struct AttributeRule {
  absl::string_view type;       // Short name.
  absl::string_view long_name;  // X.520 / RFC 4519 name.
  int nid;
  ValueKind kind;
  size_t max_chars;
  bool repeatable;
};

constexpr AttributeRule kRules[] = {
    {"C", "countryName", NID_countryName, ValueKind::kCountry, 2, false},
    {"ST", "stateOrProvinceName", NID_stateOrProvinceName,
     ValueKind::kDirectoryString, 128, false},
    {"L", "localityName", NID_localityName, ValueKind::kDirectoryString, 128,
     false},
    {"O", "organizationName", NID_organizationName, ValueKind::kDirectoryString,
     64, false},
    {"OU", "organizationalUnitName", NID_organizationalUnitName,
     ValueKind::kDirectoryString, 64, true},
    {"CN", "commonName", NID_commonName, ValueKind::kDirectoryString, 64,
     false},
    {"DC", "domainComponent", NID_domainComponent, ValueKind::kAscii, 255,
     true},
};

const AttributeRule* FindRule(absl::string_view type) {
  for (const AttributeRule& rule : kRules) {
    if (absl::EqualsIgnoreCase(type, rule.type) ||
        absl::EqualsIgnoreCase(type, rule.long_name)) {
      return &rule;
    }
  }
  return nullptr;
}

const AttributeRule& RuleFor(absl::string_view short_type) {
  return *std::find_if(
      std::begin(kRules), std::end(kRules),
      [short_type](const AttributeRule& r) { return r.type == short_type; });
}

// Characters RFC 4514 requires to be escaped inside a value (besides ','
// and '+', which end the value or RDN).
constexpr absl::string_view kMustEscape = "\";<>";
// Characters that may follow a backslash as themselves.
constexpr absl::string_view kEscapable = ",+\"\\;<>= #";

// Decodes `value` as strict UTF-8 into code points; nullopt if invalid
// (bad sequences, overlong forms, surrogates, above U+10FFFF).
std::optional<std::vector<char32_t>> DecodeUtf8(absl::string_view value) {
  std::vector<char32_t> code_points;
  for (size_t i = 0; i < value.size();) {
    const auto lead = static_cast<unsigned char>(value[i]);
    size_t length;
    char32_t c;
    if (lead < 0x80) {
      length = 1;
      c = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      c = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      c = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      c = lead & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + length > value.size()) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(value[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      c = (c << 6) | (next & 0x3F);
    }
    constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMinForLength[length] || c > 0x10FFFF ||
        (c >= 0xD800 && c <= 0xDFFF)) {
      return std::nullopt;
    }
    code_points.push_back(c);
    i += length;
  }
  return code_points;
}

bool IsAsciiLetter(char32_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Checks `value` of an attribute against its rule; upper-cases a country.
absl::Status CheckValue(const AttributeRule& rule, absl::string_view what,
                        std::string& value) {
  const std::optional<std::vector<char32_t>> chars = DecodeUtf8(value);
  if (!chars.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", rule.type, " is not valid UTF-8"));
  }
  for (const char32_t c : *chars) {
    if (c < 0x20 || c == 0x7F) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %s contains the control character U+%04X", what,
                          rule.type, static_cast<uint32_t>(c)));
    }
  }
  const size_t length = chars->size();
  switch (rule.kind) {
    case ValueKind::kCountry:
      if (length != 2) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": C is ", length,
                         " characters; exactly 2 ASCII letters (an ISO 3166 "
                         "country code)"));
      }
      if (!IsAsciiLetter((*chars)[0]) || !IsAsciiLetter((*chars)[1])) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": C \"", value,
                         "\" is not 2 ASCII letters (an ISO 3166 country "
                         "code)"));
      }
      absl::AsciiStrToUpper(&value);
      return absl::OkStatus();
    case ValueKind::kAscii:
      if (std::any_of(chars->begin(), chars->end(),
                      [](char32_t c) { return c > 0x7F; })) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": ", rule.type, " \"", value,
            "\" is not ASCII (an IA5String; use the A-label of an IDN)"));
      }
      break;
    case ValueKind::kDirectoryString:
      break;
  }
  if (length == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", rule.type, " is empty; at least 1 character"));
  }
  if (length > rule.max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", rule.type, " is ", length,
                     " characters; at most ", rule.max_chars));
  }
  return absl::OkStatus();
}

// Parses RFC 4514 text. Positions in errors are 1-based byte offsets.
class SubjectParser {
 public:
  SubjectParser(absl::string_view text, absl::string_view what)
      : text_(text), what_(what) {}

  absl::StatusOr<std::vector<SubjectAttribute>> Parse() {
    if (absl::StripAsciiWhitespace(text_).empty()) {
      return Error("is empty; give a name such as CN=mx1.example.org,O=Org");
    }
    std::vector<SubjectAttribute> attributes;
    while (true) {
      DTRUST_ASSIGN_OR_RETURN(SubjectAttribute attribute, ParseAttribute());
      attributes.push_back(std::move(attribute));
      if (pos_ == text_.size()) break;
      ++pos_;  // The ',' between RDNs.
    }
    DTRUST_RETURN_IF_ERROR(CheckRepeats(attributes));
    return attributes;
  }

 private:
  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(what_, ": ", message));
  }
  absl::Status ErrorAt(size_t pos, absl::string_view message) const {
    return Error(absl::StrCat(message, " at position ", pos + 1));
  }

  void SkipSpaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }

  absl::StatusOr<SubjectAttribute> ParseAttribute() {
    SkipSpaces();
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '=' && text_[pos_] != ',') {
      ++pos_;
    }
    const absl::string_view type =
        absl::StripAsciiWhitespace(text_.substr(start, pos_ - start));
    if (pos_ == text_.size() || text_[pos_] == ',') {
      if (type.empty()) return ErrorAt(start, "empty RDN");
      return ErrorAt(start, absl::StrCat("\"", type, "\" is not TYPE=VALUE"));
    }
    const AttributeRule* rule = FindRule(type);
    if (rule == nullptr) {
      return ErrorAt(start, absl::StrCat("unknown attribute type \"", type,
                                         "\" (use C, ST, L, O, OU, CN or DC)"));
    }
    ++pos_;  // '='
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == '#') {
      return ErrorAt(pos_, absl::StrCat(rule->type,
                                        " value starts with '#' (BER values "
                                        "are not supported; write \\#)"));
    }
    SubjectAttribute attribute{.type = std::string(rule->type)};
    DTRUST_ASSIGN_OR_RETURN(attribute.value, ParseValue(*rule));
    DTRUST_RETURN_IF_ERROR(CheckValue(*rule, what_, attribute.value));
    return attribute;
  }

  // The unescaped value up to the next unescaped ',' or the end, without
  // unescaped trailing spaces.
  absl::StatusOr<std::string> ParseValue(const AttributeRule& rule) {
    std::string value;
    size_t significant = 0;  // value.size() up to the last kept character.
    while (pos_ < text_.size() && text_[pos_] != ',') {
      const char c = text_[pos_];
      if (c == '\\') {
        DTRUST_ASSIGN_OR_RETURN(const char unescaped, ParseEscape());
        value.push_back(unescaped);
        significant = value.size();
        continue;
      }
      if (c == '+') {
        return ErrorAt(pos_, absl::StrCat("unescaped '+' in ", rule.type,
                                          " (multi-valued RDNs are not "
                                          "supported; write \\+ for a plus)"));
      }
      if (absl::StrContains(kMustEscape, c)) {
        return ErrorAt(pos_, absl::StrCat("unescaped '", std::string(1, c),
                                          "' in ", rule.type, " (write \\",
                                          std::string(1, c), ")"));
      }
      value.push_back(c);
      if (c != ' ') significant = value.size();
      ++pos_;
    }
    value.resize(significant);
    return value;
  }

  // The character of the escape at pos_ (a backslash); advances past it.
  absl::StatusOr<char> ParseEscape() {
    const size_t start = pos_;
    if (pos_ + 1 >= text_.size()) {
      return ErrorAt(start, "'\\' at the end of the name");
    }
    const char next = text_[pos_ + 1];
    if (absl::StrContains(kEscapable, next)) {
      pos_ += 2;
      return next;
    }
    const int high = HexDigitValue(next);
    const int low =
        pos_ + 2 < text_.size() ? HexDigitValue(text_[pos_ + 2]) : -1;
    if (high < 0 || low < 0) {
      return ErrorAt(start,
                     absl::StrCat("bad escape \"", text_.substr(start, 3),
                                  "\" (use \\ before one of ,+\"\\;<>=# or "
                                  "space, or two hex digits)"));
    }
    pos_ += 3;
    return static_cast<char>(high * 16 + low);
  }

  absl::Status CheckRepeats(
      const std::vector<SubjectAttribute>& attributes) const {
    std::map<std::string, int> counts;
    for (const SubjectAttribute& attribute : attributes) {
      ++counts[attribute.type];
    }
    for (const AttributeRule& rule : kRules) {
      const int count = counts[std::string(rule.type)];
      if (count > 1 && !rule.repeatable) {
        return Error(absl::StrCat(rule.type, " appears ", count,
                                  " times; at most once (only OU and DC may "
                                  "repeat)"));
      }
    }
    return absl::OkStatus();
  }

  const absl::string_view text_;
  const absl::string_view what_;
  size_t pos_ = 0;
};

int Asn1StringType(ValueKind kind) {
  switch (kind) {
    case ValueKind::kCountry:
      return V_ASN1_PRINTABLESTRING;
    case ValueKind::kAscii:
      return V_ASN1_IA5STRING;
    case ValueKind::kDirectoryString:
      break;
  }
  return V_ASN1_UTF8STRING;
}

}  // namespace

absl::StatusOr<Subject> Subject::Parse(absl::string_view text,
                                       absl::string_view what) {
  DTRUST_ASSIGN_OR_RETURN(std::vector<SubjectAttribute> attributes,
                          SubjectParser(text, what).Parse());
  return Subject(std::move(attributes));
}

absl::StatusOr<X509NamePtr> Subject::ToX509Name() const {
  X509NamePtr name(X509_NAME_new());
  if (!name) return absl::InternalError("X509_NAME_new failed");
  for (auto it = attributes_.rbegin(); it != attributes_.rend(); ++it) {
    const AttributeRule& rule = RuleFor(it->type);
    if (X509_NAME_add_entry_by_NID(
            name.get(), rule.nid, Asn1StringType(rule.kind),
            reinterpret_cast<const unsigned char*>(it->value.data()),
            static_cast<int>(it->value.size()), -1, 0) != 1) {
      return absl::InternalError(absl::StrCat(
          "cannot add ", it->type, " to the name: ", OpenSslError()));
    }
  }
  return name;
}

std::string FormatRfc4514(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0,
                                 XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    return "";
  }
  std::string text(BioContents(bio.get()));
  // OpenSSL 3.0 leaves a value that is just "#" unescaped (for a one-
  // character value its last-character rule overrides the first-character
  // one), and "#" starts a BER value in RFC 4514. Found by
  // tests/fuzz/subject_fuzzer. A hex-dumped value has digits after its '#',
  // and "\#" means '#' anywhere, so escaping every "=#" before a separator
  // or the end changes nothing else.
  for (size_t at = text.find("=#"); at != std::string::npos;
       at = text.find("=#", at + 2)) {
    const size_t after = at + 2;
    if (after == text.size() || text[after] == ',' || text[after] == '+') {
      text.insert(at + 1, 1, '\\');
    }
  }
  return text;
}

}  // namespace dtrust::cli
