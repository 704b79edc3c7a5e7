#include "server/ldap/ldap_connection.h"

#include <sys/time.h>

#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/status_macros.h"
#include "server/core/metrics.h"
#include "server/ldap/ldap_status.h"

namespace dtrust {
namespace {

struct berval ToBerval(const std::string& text) {
  struct berval value;
  value.bv_len = text.size();
  value.bv_val = const_cast<char*>(text.data());
  return value;
}

// Attribute names as the null-terminated list libldap's searches take.
class AttributeList {
 public:
  // Points into `attributes`, which must outlive it.
  explicit AttributeList(const std::vector<std::string>& attributes) {
    for (const std::string& attribute : attributes) {
      list_.push_back(const_cast<char*>(attribute.c_str()));
    }
    list_.push_back(nullptr);
  }
  // The list; null (all user attributes) when no attribute was given.
  char** get() { return list_.size() == 1 ? nullptr : list_.data(); }

 private:
  std::vector<char*> list_;
};

// The server's diagnostic message for the last operation on `ld`.
std::string Diagnostic(LDAP* ld) {
  char* message = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) !=
      LDAP_OPT_SUCCESS) {
    return "";
  }
  LdapStringPtr owner(message);
  return message == nullptr ? "" : message;
}

std::string BindIdentity(const LdapOptions& options) {
  if (options.sasl_external) return "SASL EXTERNAL";
  if (options.bind_dn.empty()) return "anonymous";
  return options.bind_dn;
}

// The lower-cased scheme of `uri` ("ldap", "ldaps", "ldapi"); "" if none.
std::string UriScheme(absl::string_view uri) {
  const size_t end = uri.find("://");
  if (end == absl::string_view::npos) return "";
  return absl::AsciiStrToLower(uri.substr(0, end));
}

// Whether `uri` (one URI, or a libldap list) holds an ldaps:// URI.
bool IsLdaps(const std::string& uri) {
  return absl::StrContains(absl::AsciiStrToLower(uri), "ldaps://");
}

// Whether `uri` (one URI, or a libldap list) is StartTLS'd or may be ldaps.
bool UsesTls(const std::string& uri, const LdapOptions& options) {
  return (options.start_tls && UriScheme(uri) == "ldap") || IsLdaps(uri);
}

// What a failed TLS handshake with `uri` may mean, for error messages:
// libldap (GnuTLS) reports a certificate that does not verify only as
// "(unknown error code)".
std::string TlsFailureHint(const std::string& uri, const LdapOptions& options) {
  std::string host = "its host";
  LDAPURLDesc* parsed = nullptr;
  if (ldap_url_parse(uri.c_str(), &parsed) == LDAP_URL_SUCCESS &&
      parsed->lud_host != nullptr && parsed->lud_host[0] != '\0') {
    host = parsed->lud_host;
  }
  ldap_free_urldesc(parsed);
  return absl::StrCat(
      "the TLS handshake failed: the server's certificate must chain to a CA "
      "certificate in ",
      options.tls_ca_file.empty() ? kSystemCaFile : options.tls_ca_file,
      " and name ", host);
}

// Gives `ld` a TLS context of its own that trusts only the CA file (or the
// system store), demands a valid certificate naming the URI's host and
// speaks TLS 1.2 or later; then, for an ldap:// URI with start_tls, switches
// to TLS. The options are set on the handle (after ldap_initialize) and
// LDAP_OPT_X_TLS_NEWCTX builds the context from them, so neither ldap.conf
// nor libldap's global context can weaken them. Unavailable naming the URI
// and the TLS failure.
absl::Status SetUpTls(LDAP* ld, const std::string& uri,
                      const LdapOptions& options) {
  const std::string ca_file =
      options.tls_ca_file.empty() ? kSystemCaFile : options.tls_ca_file;
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  const int tls_1_2 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca_file.c_str()) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls_1_2) !=
          LDAP_OPT_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cannot set libldap TLS options for ", uri));
  }
  const int is_server = 0;
  if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) !=
      LDAP_OPT_SUCCESS) {
    return absl::UnavailableError(
        absl::StrCat("TLS to ", uri,
                     ": cannot set up a TLS context with the "
                     "CA certificates in ",
                     ca_file));
  }
  if (!options.start_tls || UriScheme(uri) != "ldap") return absl::OkStatus();
  const int rc = ldap_start_tls_s(ld, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) {
    const std::string diagnostic = Diagnostic(ld);
    return absl::UnavailableError(absl::StrCat(
        "StartTLS with ", uri,
        " failed (no plain connection is made): ", ldap_err2string(rc), " (",
        rc, ")", diagnostic.empty() ? "" : ": ", diagnostic,
        rc == LDAP_CONNECT_ERROR ? "; " + TlsFailureHint(uri, options) : ""));
  }
  return absl::OkStatus();
}

// Reports `outcome` of the directory operation `operation` to the
// process's Metrics and returns it.
absl::Status Counted(absl::string_view operation, absl::Status outcome) {
  ProcessMetrics().CountLdapOperation(operation, outcome);
  return outcome;
}

absl::StatusOr<LdapPtr> ConnectAndBind(const std::string& uri,
                                       const LdapOptions& options) {
  LDAP* raw = nullptr;
  const int rc = ldap_initialize(&raw, uri.c_str());
  LdapPtr ld(raw);
  if (rc != LDAP_SUCCESS || ld == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unusable LDAP URI \"", uri, "\": ", ldap_err2string(rc)));
  }
  const int version = LDAP_VERSION3;
  const struct timeval timeout = absl::ToTimeval(options.timeout);
  if (ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &timeout) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &timeout) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld.get(), LDAP_OPT_RESTART, LDAP_OPT_ON) !=
          LDAP_OPT_SUCCESS ||
      ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
          LDAP_OPT_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cannot set libldap options for ", uri));
  }
  if (UsesTls(uri, options)) {
    DTRUST_RETURN_IF_ERROR(SetUpTls(ld.get(), uri, options));
  }
  int bind_rc;
  if (options.sasl_external) {
    // A single round trip with an empty initial response (no authzid), so
    // no Cyrus SASL client exchange is needed.
    static char kEmpty[] = "";
    struct berval no_authzid = {0, kEmpty};
    bind_rc = ldap_sasl_bind_s(ld.get(), nullptr, "EXTERNAL", &no_authzid,
                               nullptr, nullptr, nullptr);
  } else {
    struct berval password = ToBerval(options.bind_password);
    bind_rc =
        ldap_sasl_bind_s(ld.get(), options.bind_dn.c_str(), LDAP_SASL_SIMPLE,
                         &password, nullptr, nullptr, nullptr);
  }
  if (bind_rc != LDAP_SUCCESS) {
    const absl::Status failed =
        LdapError(bind_rc, Diagnostic(ld.get()),
                  absl::StrCat("bind as ", BindIdentity(options), " to"), uri);
    // ldaps:// shakes hands when the bind connects.
    if (!IsLdaps(uri) || !IsConnectionLost(bind_rc)) return failed;
    return absl::Status(failed.code(),
                        absl::StrCat(failed.message(), "; unless it is down, ",
                                     TlsFailureHint(uri, options)));
  }
  return ld;
}

int ToLdapScope(LdapScope scope) {
  switch (scope) {
    case LdapScope::kBase:
      return LDAP_SCOPE_BASE;
    case LdapScope::kOneLevel:
      return LDAP_SCOPE_ONELEVEL;
    case LdapScope::kSubtree:
      return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_BASE;
}

int ToLdapModOp(LdapModification::Op op) {
  switch (op) {
    case LdapModification::Op::kAdd:
      return LDAP_MOD_ADD;
    case LdapModification::Op::kReplace:
      return LDAP_MOD_REPLACE;
    case LdapModification::Op::kDelete:
      return LDAP_MOD_DELETE;
  }
  return LDAP_MOD_ADD;
}

// The NULL-terminated LDAPMod* array libldap wants, pointing into the
// LdapAttribute values it was built from (which must outlive it).
class ModArray {
 public:
  explicit ModArray(size_t size)
      : values_(size), value_pointers_(size), mods_(size) {}

  void Set(size_t index, int op, const LdapAttribute& attribute) {
    for (const std::string& value : attribute.values) {
      values_[index].push_back(ToBerval(value));
    }
    for (struct berval& value : values_[index]) {
      value_pointers_[index].push_back(&value);
    }
    value_pointers_[index].push_back(nullptr);
    LDAPMod& mod = mods_[index];
    mod.mod_op = op | LDAP_MOD_BVALUES;
    mod.mod_type = const_cast<char*>(attribute.type.c_str());
    mod.mod_bvalues = value_pointers_[index].data();
  }

  LDAPMod** Finish() {
    for (LDAPMod& mod : mods_) mod_pointers_.push_back(&mod);
    mod_pointers_.push_back(nullptr);
    return mod_pointers_.data();
  }

 private:
  std::vector<std::vector<struct berval>> values_;
  std::vector<std::vector<struct berval*>> value_pointers_;
  std::vector<LDAPMod> mods_;
  std::vector<LDAPMod*> mod_pointers_;
};

}  // namespace

const std::vector<std::string>& LdapEntry::Values(
    absl::string_view description) const {
  static const std::vector<std::string>* const kNone =
      new std::vector<std::string>();
  auto it = attributes.find(absl::AsciiStrToLower(description));
  return it == attributes.end() ? *kNone : it->second;
}

std::string LdapEntry::First(absl::string_view description) const {
  const std::vector<std::string>& values = Values(description);
  return values.empty() ? "" : values.front();
}

absl::StatusOr<LdapEntry> ReadLdapEntry(LDAP* ld, LDAPMessage* message) {
  LdapEntry entry;
  LdapStringPtr dn(ldap_get_dn(ld, message));
  if (dn == nullptr) {
    return absl::InternalError("the server returned an entry without DN");
  }
  entry.dn = dn.get();
  BerElement* raw_ber = nullptr;
  LdapStringPtr name(ldap_first_attribute(ld, message, &raw_ber));
  BerElementPtr ber(raw_ber);
  for (; name != nullptr;
       name.reset(ldap_next_attribute(ld, message, ber.get()))) {
    std::vector<std::string>& values =
        entry.attributes[absl::AsciiStrToLower(name.get())];
    BerValuesPtr berval_list(ldap_get_values_len(ld, message, name.get()));
    for (struct berval** value = berval_list.get();
         value != nullptr && *value != nullptr; ++value) {
      values.emplace_back((*value)->bv_val, (*value)->bv_len);
    }
  }
  return entry;
}

absl::StatusOr<std::unique_ptr<LdapConnection>> LdapConnection::Open(
    const LdapOptions& options) {
  if (options.uris.empty()) {
    return absl::InvalidArgumentError("no LDAP URI configured");
  }
  if (options.sasl_external && !options.bind_dn.empty()) {
    return absl::InvalidArgumentError(
        "give either a bind DN or SASL EXTERNAL, not both");
  }
  std::vector<std::string> failures;
  for (const std::string& uri : options.uris) {
    absl::StatusOr<LdapPtr> ld = ConnectAndBind(uri, options);
    ProcessMetrics().CountLdapOperation("connect", ld.status());
    if (ld.ok()) {
      return absl::WrapUnique(new LdapConnection(
          *std::move(ld), uri, BindIdentity(options), options.timeout));
    }
    if (absl::IsInvalidArgument(ld.status())) return ld.status();
    failures.push_back(std::string(ld.status().message()));
  }
  return absl::UnavailableError(
      absl::StrCat("no LDAP server accepted the connection: ",
                   absl::StrJoin(failures, "; ")));
}

absl::Status LdapConnection::Fail(int code, absl::string_view operation,
                                  absl::string_view dn) {
  if (IsConnectionLost(code)) lost_code_ = code;
  const absl::Status status =
      LdapError(code, Diagnostic(ld_.get()), operation, dn);
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), " [", uri_, "]"));
}

absl::StatusOr<std::vector<LdapEntry>> LdapConnection::Search(
    const std::string& base, LdapScope scope, const std::string& filter,
    const std::vector<std::string>& attributes) {
  AttributeList attribute_list(attributes);
  struct timeval timeout = absl::ToTimeval(timeout_);
  LDAPMessage* raw = nullptr;
  const int rc = ldap_search_ext_s(
      ld_.get(), base.c_str(), ToLdapScope(scope), filter.c_str(),
      attribute_list.get(), 0, nullptr, nullptr, &timeout, LDAP_NO_LIMIT, &raw);
  LdapMessagePtr result(raw);
  if (rc != LDAP_SUCCESS) {
    return Counted(
        "search",
        Fail(rc, absl::StrCat("search for ", filter, " under"), base));
  }
  ProcessMetrics().CountLdapOperation("search", absl::OkStatus());
  std::vector<LdapEntry> entries;
  for (LDAPMessage* message = ldap_first_entry(ld_.get(), result.get());
       message != nullptr; message = ldap_next_entry(ld_.get(), message)) {
    absl::StatusOr<LdapEntry> entry = ReadLdapEntry(ld_.get(), message);
    if (!entry.ok()) {
      return absl::InternalError(absl::StrCat("LDAP search under \"", base,
                                              "\": ", entry.status().message(),
                                              " [", uri_, "]"));
    }
    entries.push_back(*std::move(entry));
  }
  return entries;
}

int LdapConnection::SearchPage(const PagedSearch& search, int size,
                               const std::string& cookie,
                               LdapMessagePtr* result) {
  struct berval cookie_value = ToBerval(cookie);
  LDAPControl* raw_control = nullptr;
  const int rc = ldap_create_page_control(
      ld_.get(), size, cookie.empty() ? nullptr : &cookie_value,
      /*iscritical=*/0, &raw_control);
  if (rc != LDAP_SUCCESS) return rc;
  const LdapControlPtr control(raw_control);
  LDAPControl* controls[] = {control.get(), nullptr};
  struct timeval timeout = absl::ToTimeval(timeout_);
  LDAPMessage* raw = nullptr;
  const int search_rc = ldap_search_ext_s(
      ld_.get(), search.base.c_str(), ToLdapScope(search.scope),
      search.filter.c_str(), search.attributes, 0, controls, nullptr, &timeout,
      LDAP_NO_LIMIT, &raw);
  result->reset(raw);
  return search_rc;
}

absl::StatusOr<std::string> LdapConnection::NextPageCookie(
    LDAPMessage* result, absl::string_view operation, const std::string& base) {
  LDAPControl** raw_returned = nullptr;
  const int parse_rc =
      ldap_parse_result(ld_.get(), result, nullptr, nullptr, nullptr, nullptr,
                        &raw_returned, /*freeit=*/0);
  const LdapControlsPtr returned(raw_returned);
  if (parse_rc != LDAP_SUCCESS) return Fail(parse_rc, operation, base);
  LDAPControl* response =
      ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, returned.get(), nullptr);
  if (response == nullptr) return std::string();
  ber_int_t estimate = 0;
  struct berval next = {0, nullptr};
  if (ldap_parse_pageresponse_control(ld_.get(), response, &estimate, &next) !=
      LDAP_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("LDAP ", operation, " \"", base,
                     "\": unreadable paged results control [", uri_, "]"));
  }
  const BerStringPtr owner(next.bv_val);
  return std::string(next.bv_val == nullptr ? "" : next.bv_val, next.bv_len);
}

absl::Status LdapConnection::SearchPaged(
    const std::string& base, LdapScope scope, const std::string& filter,
    const std::vector<std::string>& attributes, int page_size,
    absl::FunctionRef<absl::Status(const LdapEntry&)> on_entry) {
  AttributeList attribute_list(attributes);
  const PagedSearch search{base, scope, filter, attribute_list.get()};
  const std::string operation =
      absl::StrCat("paged search for ", filter, " under");
  std::string cookie;
  do {
    LdapMessagePtr result;
    const int rc = SearchPage(search, page_size, cookie, &result);
    if (rc != LDAP_SUCCESS) {
      return Counted("search", Fail(rc, operation, base));
    }
    ProcessMetrics().CountLdapOperation("search", absl::OkStatus());
    DTRUST_ASSIGN_OR_RETURN(cookie,
                            NextPageCookie(result.get(), operation, base));
    for (LDAPMessage* message = ldap_first_entry(ld_.get(), result.get());
         message != nullptr; message = ldap_next_entry(ld_.get(), message)) {
      absl::StatusOr<LdapEntry> entry = ReadLdapEntry(ld_.get(), message);
      absl::Status status =
          entry.ok() ? on_entry(*entry)
                     : absl::InternalError(absl::StrCat(
                           "LDAP ", operation, " \"", base,
                           "\": ", entry.status().message(), " [", uri_, "]"));
      if (!status.ok()) {
        if (!cookie.empty()) {  // Lets the server drop the search's state.
          LdapMessagePtr ignored;
          SearchPage(search, 0, cookie, &ignored);
        }
        return status;
      }
    }
  } while (!cookie.empty());
  return absl::OkStatus();
}

absl::Status LdapConnection::Add(const std::string& dn,
                                 const std::vector<LdapAttribute>& attributes) {
  ModArray mods(attributes.size());
  for (size_t i = 0; i < attributes.size(); ++i) {
    mods.Set(i, LDAP_MOD_ADD, attributes[i]);
  }
  const int rc =
      ldap_add_ext_s(ld_.get(), dn.c_str(), mods.Finish(), nullptr, nullptr);
  return Counted("add",
                 rc == LDAP_SUCCESS ? absl::OkStatus() : Fail(rc, "add", dn));
}

absl::Status LdapConnection::Modify(
    const std::string& dn, const std::vector<LdapModification>& modifications) {
  ModArray mods(modifications.size());
  for (size_t i = 0; i < modifications.size(); ++i) {
    mods.Set(i, ToLdapModOp(modifications[i].op), modifications[i].attribute);
  }
  const int rc =
      ldap_modify_ext_s(ld_.get(), dn.c_str(), mods.Finish(), nullptr, nullptr);
  return Counted(
      "modify", rc == LDAP_SUCCESS ? absl::OkStatus() : Fail(rc, "modify", dn));
}

absl::Status LdapConnection::Delete(const std::string& dn) {
  const int rc = ldap_delete_ext_s(ld_.get(), dn.c_str(), nullptr, nullptr);
  return Counted(
      "delete", rc == LDAP_SUCCESS ? absl::OkStatus() : Fail(rc, "delete", dn));
}

}  // namespace dtrust
