#include "server/core/outbound_policy.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

using Kind = TlsPolicyAnswer::Kind;

TlsPolicyAnswer NotFound() { return {}; }

TlsPolicyAnswer TempFail(std::string reason, std::string log) {
  TlsPolicyAnswer answer;
  answer.kind = Kind::kTempFail;
  answer.reason = std::move(reason);
  answer.log = std::move(log);
  return answer;
}

TlsPolicyAnswer Unavailable(absl::string_view key, const absl::Status& status) {
  return TempFail(
      "dtrust: directory unavailable",
      absl::StrCat("outbound: ", key,
                   ": TEMP, directory unavailable: ", status.message()));
}

// The host of a next-hop key "[host]:port", "[host]" or "host:port"; the key
// itself otherwise. `bracketed` tells whether it was "[host]...".
absl::string_view NextHopHost(absl::string_view key, bool* bracketed) {
  *bracketed = !key.empty() && key.front() == '[';
  if (*bracketed) {
    const size_t close = key.find(']');
    if (close == absl::string_view::npos) return "";
    return key.substr(1, close - 1);
  }
  const size_t colon = key.rfind(':');
  if (colon != absl::string_view::npos) {
    uint32_t port;
    if (absl::SimpleAtoi(key.substr(colon + 1), &port)) {
      return key.substr(0, colon);
    }
  }
  return key;
}

// The digests Postfix must match for `pins` at `now`: those of pins within
// their windows; for certificate pins, of certificates within their dates.
void AddMatches(const std::vector<PinRecord>& pins, absl::Time now,
                std::set<std::string>* matches) {
  for (const PinRecord& pin : pins) {
    if (!pin.window.Contains(now)) continue;
    if (pin.kind == PinKind::kPublicKey) {
      matches->insert(pin.spki_sha256.ToColonHex());
    } else if (pin.not_before <= now && now <= pin.not_after) {
      matches->insert(pin.cert_sha256.ToColonHex());
    }
  }
}

TlsPolicyAnswer Pinned(absl::string_view key, absl::string_view domain,
                       const std::set<std::string>& matches,
                       absl::string_view whose) {
  if (matches.empty()) {
    return TempFail(
        absl::StrCat("dtrust: ", domain,
                     " is send-secure but no valid certificate is published "
                     "for ",
                     whose),
        absl::StrCat("outbound: ", key, ": TEMP, ", domain,
                     " is send-secure but no valid certificate is published "
                     "for ",
                     whose));
  }
  TlsPolicyAnswer answer;
  answer.kind = Kind::kFound;
  answer.policy =
      absl::StrCat("fingerprint match=", absl::StrJoin(matches, "|"));
  answer.log =
      absl::StrCat("outbound: ", key, ": ", domain, " is send-secure, pinned ",
                   matches.size(), " digest(s) of ", whose);
  return answer;
}

TlsPolicyAnswer Testing(absl::string_view key, absl::string_view domain) {
  TlsPolicyAnswer answer;
  answer.kind = Kind::kFound;
  answer.policy = "may";
  answer.log = absl::StrCat(
      "outbound: ", key, ": ", domain,
      " is send-secure in testing mode: TLS opportunistic, not enforced");
  return answer;
}

}  // namespace

TlsPolicyAnswer OutboundPolicy::Lookup(absl::string_view raw_key) {
  const std::string key = absl::AsciiStrToLower(raw_key);
  if (key.empty() || key.front() == '.') return NotFound();
  bool bracketed = false;
  absl::StatusOr<std::string> host =
      NormalizeDnsName(NextHopHost(key, &bracketed), "next hop");
  // IP literals and other non-names are on no list.
  if (!host.ok() ||
      host->find_first_not_of("0123456789.") == std::string::npos) {
    return NotFound();
  }

  absl::StatusOr<std::optional<DomainPolicy>> policy =
      directory_->GetDomainPolicy(*host);
  if (!policy.ok()) return Unavailable(key, policy.status());
  const absl::Time now = clock_->Now();
  if (*policy && (*policy)->send != SecureMode::kOff) {
    if ((*policy)->send == SecureMode::kTesting) return Testing(key, *host);
    absl::StatusOr<std::vector<ServerRecord>> servers =
        directory_->FindServers({.domain = *host});
    if (!servers.ok()) return Unavailable(key, servers.status());
    std::set<std::string> matches;
    for (const ServerRecord& server : *servers) {
      AddMatches(server.pins, now, &matches);
    }
    return Pinned(key, *host, matches, "its servers");
  }
  if (key == *host) return NotFound();  // A plain domain, not a next hop.

  // A next hop naming a published server: its own pins, if it serves a
  // send-secure domain.
  absl::StatusOr<std::vector<ServerRecord>> found =
      directory_->FindServers({.server = *host});
  if (!found.ok()) return Unavailable(key, found.status());
  if (found->empty()) return NotFound();
  const ServerRecord& server = found->front();
  for (const std::string& domain : server.domains) {
    absl::StatusOr<std::optional<DomainPolicy>> served =
        directory_->GetDomainPolicy(domain);
    if (!served.ok()) return Unavailable(key, served.status());
    if (!*served || (*served)->send == SecureMode::kOff) continue;
    if ((*served)->send == SecureMode::kTesting) return Testing(key, domain);
    std::set<std::string> matches;
    AddMatches(server.pins, now, &matches);
    return Pinned(key, domain, matches, server.name);
  }
  return NotFound();
}

}  // namespace dtrust
