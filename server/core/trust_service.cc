#include "server/core/trust_service.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/status_macros.h"
#include "server/base/time_format.h"
#include "server/core/certificate.h"
#include "server/core/dns_name.h"

namespace dtrust {
namespace {

absl::StatusOr<std::vector<std::string>> NormalizeDomains(
    const std::vector<std::string>& domains) {
  std::set<std::string> unique;
  for (const std::string& domain : domains) {
    DTRUST_ASSIGN_OR_RETURN(std::string normalized,
                            NormalizeDnsName(domain, "mail domain"));
    unique.insert(std::move(normalized));
  }
  return std::vector<std::string>(unique.begin(), unique.end());
}

// Normalizes an optional name: empty stays empty.
absl::StatusOr<std::string> NormalizeOptional(absl::string_view name,
                                              absl::string_view what) {
  if (name.empty()) return std::string();
  return NormalizeDnsName(name, what);
}

// How close a match came to being trusted; lower is closer.
int Rank(Verdict verdict) {
  switch (verdict) {
    case Verdict::kTrusted:
      return 0;
    case Verdict::kExpired:
    case Verdict::kNotYetValid:
    case Verdict::kPinExpired:
    case Verdict::kPinNotYetActive:
      return 1;
    case Verdict::kWrongDomain:
      return 2;
    case Verdict::kWrongServer:
      return 3;
    case Verdict::kNotPublished:
      return 4;
  }
  return 4;
}

// OK if `window` may be stored for `certificate`; see PublishRequest.
absl::Status CheckWindow(const PinWindow& window,
                         const Certificate& certificate) {
  const std::string validity =
      absl::StrCat(FormatRfc3339Seconds(certificate.not_before()), " to ",
                   FormatRfc3339Seconds(certificate.not_after()));
  for (const auto& [bound, what] : {std::make_pair(window.not_before, "start"),
                                    std::make_pair(window.not_after, "end")}) {
    if (bound && (*bound < certificate.not_before() ||
                  *bound > certificate.not_after())) {
      return absl::InvalidArgumentError(
          absl::StrCat("pin window ", what, " ", FormatRfc3339Seconds(*bound),
                       " is outside the certificate's validity, ", validity));
    }
  }
  const absl::Time start = window.not_before.value_or(certificate.not_before());
  const absl::Time end = window.not_after.value_or(certificate.not_after());
  if (start >= end) {
    return absl::InvalidArgumentError(
        absl::StrCat("pin window start ", FormatRfc3339Seconds(start),
                     " is not before its end ", FormatRfc3339Seconds(end),
                     " (certificate validity ", validity, ")"));
  }
  return absl::OkStatus();
}

// What was presented, in the words used in reasons.
std::string Describe(const std::optional<Sha256Digest>& cert_sha256,
                     const std::optional<Sha256Digest>& spki_sha256) {
  if (cert_sha256) {
    return absl::StrCat("certificate sha256 ", cert_sha256->ToColonHex());
  }
  return absl::StrCat("certificate spki-sha256 ", spki_sha256->ToColonHex());
}

// Whether `pin` trusts what was presented.
bool PinMatches(const PinRecord& pin,
                const std::optional<Sha256Digest>& cert_sha256,
                const std::optional<Sha256Digest>& spki_sha256) {
  if (cert_sha256 && *cert_sha256 == pin.cert_sha256) return true;
  return pin.kind == PinKind::kPublicKey && spki_sha256 &&
         *spki_sha256 == pin.spki_sha256;
}

// What was presented for verification: the certificate's fingerprints and,
// when the certificate itself was presented, its validity.
struct Presented {
  std::optional<Sha256Digest> cert_sha256;
  std::optional<Sha256Digest> spki_sha256;
  std::optional<absl::Time> not_before;
  std::optional<absl::Time> not_after;
};

// The presented certificate or fingerprints of `request`; InvalidArgument if
// it gives neither or both.
absl::StatusOr<Presented> ReadPresented(const VerifyRequest& request) {
  Presented presented;
  if (!request.certificate_der.empty()) {
    if (request.cert_sha256 || request.spki_sha256) {
      return absl::InvalidArgumentError(
          "give the presented certificate or its fingerprints, not both");
    }
    DTRUST_ASSIGN_OR_RETURN(const Certificate certificate,
                            Certificate::FromDer(request.certificate_der));
    presented.cert_sha256 = certificate.sha256();
    presented.spki_sha256 = certificate.spki_sha256();
    presented.not_before = certificate.not_before();
    presented.not_after = certificate.not_after();
  } else if (request.cert_sha256 || request.spki_sha256) {
    presented.cert_sha256 = request.cert_sha256;
    presented.spki_sha256 = request.spki_sha256;
  } else {
    return absl::InvalidArgumentError(
        "nothing to verify: give the presented certificate or its sha256 "
        "and/or spki-sha256 fingerprint");
  }
  return presented;
}

// The server and mail domain a verification expects, normalized; empty
// expects nothing.
struct Expectation {
  std::string server;
  std::string domain;
};

absl::StatusOr<Expectation> ReadExpectation(const VerifyRequest& request) {
  Expectation expected;
  DTRUST_ASSIGN_OR_RETURN(
      expected.server,
      NormalizeOptional(request.expected_server, "expected server name"));
  DTRUST_ASSIGN_OR_RETURN(
      expected.domain,
      NormalizeOptional(request.expected_domain, "expected mail domain"));
  return expected;
}

// What one matching pin says about the presented certificate.
struct PinJudgement {
  Verdict verdict = Verdict::kTrusted;
  // Validity of the certificate in question, when known.
  std::optional<absl::Time> not_before;
  std::optional<absl::Time> not_after;
  // Whether the presented sha256 names the pinned certificate exactly.
  bool same_certificate = false;
};

// Judges `pin` of `server`, which matches what was `presented`, at `now`.
PinJudgement JudgePin(const ServerRecord& server, const PinRecord& pin,
                      const Presented& presented, const Expectation& expected,
                      absl::Time now) {
  PinJudgement judgement;
  // Dates are those of the certificate in question: the presented one,
  // or the published one when the presented digest names it exactly.
  // A key pin matched by its key alone has no certificate dates to check.
  judgement.same_certificate =
      presented.cert_sha256 && *presented.cert_sha256 == pin.cert_sha256;
  judgement.not_before = presented.not_before;
  judgement.not_after = presented.not_after;
  if (!judgement.not_before && judgement.same_certificate) {
    judgement.not_before = pin.not_before;
    judgement.not_after = pin.not_after;
  }
  const std::optional<absl::Time>& not_before = judgement.not_before;
  const std::optional<absl::Time>& not_after = judgement.not_after;
  if (!expected.server.empty() && server.name != expected.server) {
    judgement.verdict = Verdict::kWrongServer;
  } else if (!expected.domain.empty() &&
             !std::binary_search(server.domains.begin(), server.domains.end(),
                                 expected.domain)) {
    judgement.verdict = Verdict::kWrongDomain;
  } else if (not_before && now < *not_before) {
    judgement.verdict = Verdict::kNotYetValid;
  } else if (not_after && now > *not_after) {
    judgement.verdict = Verdict::kExpired;
  } else if (pin.window.not_before && now < *pin.window.not_before) {
    judgement.verdict = Verdict::kPinNotYetActive;
  } else if (pin.window.not_after && now > *pin.window.not_after) {
    judgement.verdict = Verdict::kPinExpired;
  }
  return judgement;
}

// The matching pin that came closest to trusting what was presented.
struct BestMatch {
  ServerRecord* server = nullptr;  // Null: no pin matched.
  PinRecord* pin = nullptr;
  PinJudgement judgement;
  // The first server with a pin that did not match (its key is published,
  // but pinned by certificate); empty if none.
  std::string key_only_server;
};

// Judges every pin of `candidates` (sorted by name); the first of the
// best-ranked wins.
BestMatch FindBestMatch(std::vector<ServerRecord>& candidates,
                        const Presented& presented, const Expectation& expected,
                        absl::Time now) {
  BestMatch best;
  for (ServerRecord& candidate : candidates) {
    for (PinRecord& pin : candidate.pins) {
      if (!PinMatches(pin, presented.cert_sha256, presented.spki_sha256)) {
        if (best.key_only_server.empty()) best.key_only_server = candidate.name;
        continue;
      }
      PinJudgement judgement =
          JudgePin(candidate, pin, presented, expected, now);
      if (best.pin == nullptr ||
          Rank(judgement.verdict) < Rank(best.judgement.verdict)) {
        best.server = &candidate;
        best.pin = &pin;
        best.judgement = judgement;
      }
    }
  }
  return best;
}

// The reason for kNotPublished.
std::string ExplainNotPublished(const Presented& presented,
                                absl::string_view key_only_server) {
  std::string reason =
      absl::StrCat(Describe(presented.cert_sha256, presented.spki_sha256),
                   " is not published");
  if (!key_only_server.empty()) {
    absl::StrAppend(&reason, "; its public key is published for ",
                    key_only_server, " but pinned by certificate, not by key");
  }
  return reason;
}

// The reason for the `judgement` of `pin` of `server`.
std::string ExplainVerdict(const Presented& presented,
                           const Expectation& expected,
                           const ServerRecord& server, const PinRecord& pin,
                           const PinJudgement& judgement) {
  std::string reason = absl::StrCat(
      Describe(presented.cert_sha256, presented.spki_sha256),
      " is published for ", server.name, " (pinned by ",
      pin.kind == PinKind::kPublicKey ? "public key" : "certificate", ")");
  switch (judgement.verdict) {
    case Verdict::kTrusted:
    case Verdict::kNotPublished:
      break;
    case Verdict::kWrongServer:
      absl::StrAppend(&reason, ", not for ", expected.server);
      break;
    case Verdict::kWrongDomain:
      absl::StrAppend(&reason, ", which serves ",
                      server.domains.empty()
                          ? "no mail domain"
                          : absl::StrJoin(server.domains, ", "),
                      ", not ", expected.domain);
      break;
    case Verdict::kExpired:
      absl::StrAppend(&reason, " but expired at ",
                      FormatRfc3339Seconds(*judgement.not_after));
      break;
    case Verdict::kNotYetValid:
      absl::StrAppend(&reason, " but is not valid before ",
                      FormatRfc3339Seconds(*judgement.not_before));
      break;
    case Verdict::kPinNotYetActive:
      absl::StrAppend(&reason, " but its pin is not active before ",
                      FormatRfc3339Seconds(*pin.window.not_before));
      break;
    case Verdict::kPinExpired:
      absl::StrAppend(&reason, " but its pin window ended at ",
                      FormatRfc3339Seconds(*pin.window.not_after));
      break;
  }
  return reason;
}

}  // namespace

std::optional<std::string> TrustService::ProofRequiredBecause(
    absl::string_view server, const std::vector<std::string>& domains) const {
  for (const std::string& own : require_proof_for_) {
    if (IsInDomain(server, own)) {
      return absl::StrCat("server ", server, " is in ", own);
    }
    for (const std::string& domain : domains) {
      if (IsInDomain(domain, own)) {
        return absl::StrCat(
            "server ", server, " serves mail domain ", domain,
            domain == own ? "" : absl::StrCat(", part of ", own));
      }
    }
  }
  return std::nullopt;
}

absl::StatusOr<PossessionChallenge> TrustService::PublishChallenge(
    absl::string_view server, const Sha256Digest& cert_sha256) {
  DTRUST_ASSIGN_OR_RETURN(const std::string normalized,
                          NormalizeDnsName(server, "server name"));
  return challenges_.Issue(normalized, cert_sha256);
}

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kTrusted:
      return "TRUSTED";
    case Verdict::kNotPublished:
      return "NOT_PUBLISHED";
    case Verdict::kWrongServer:
      return "WRONG_SERVER";
    case Verdict::kWrongDomain:
      return "WRONG_DOMAIN";
    case Verdict::kExpired:
      return "EXPIRED";
    case Verdict::kNotYetValid:
      return "NOT_YET_VALID";
    case Verdict::kPinExpired:
      return "PIN_EXPIRED";
    case Verdict::kPinNotYetActive:
      return "PIN_NOT_YET_ACTIVE";
  }
  return "NOT_PUBLISHED";
}

absl::StatusOr<PinProvenance> TrustService::CheckPossession(
    const PublishRequest& request, const PossessionTerms& terms,
    const Certificate& certificate) {
  if (request.challenge.empty() && request.possession_signature.empty()) {
    return PinProvenance::kAsserted;
  }
  if (request.challenge.empty() || request.possession_signature.empty()) {
    return absl::InvalidArgumentError(
        "proof of possession needs both the challenge and the signature");
  }
  DTRUST_RETURN_IF_ERROR(challenges_.Verify(
      request.challenge, terms, certificate, request.possession_signature));
  return PinProvenance::kPossessionProven;
}

absl::Status TrustService::CheckProofNotRequired(
    absl::string_view server, const std::vector<std::string>& domains,
    const std::optional<ServerRecord>& existing) const {
  std::vector<std::string> served = domains;
  if (existing) {
    served.insert(served.end(), existing->domains.begin(),
                  existing->domains.end());
  }
  if (std::optional<std::string> because =
          ProofRequiredBecause(server, served)) {
    return absl::FailedPreconditionError(absl::StrCat(
        *because,
        ", whose servers need proof of possession (dtrustd "
        "--require-proof-for): publish it with the certificate's private "
        "key (dtrust publish --key KEY-FILE)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerRecord> TrustService::EnsureServerServes(
    const std::string& server, const std::vector<std::string>& domains,
    std::optional<ServerRecord> existing,
    std::vector<std::string>* domains_added) {
  if (!existing) {
    if (domains.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "server ", server,
          " is not published yet: give the mail domain(s) it serves"));
    }
    const absl::Status created = directory_->CreateServer(server, domains);
    if (created.ok()) {
      *domains_added = domains;
    } else if (!absl::IsAlreadyExists(created)) {  // Else a concurrent publish.
      return created;
    }
    DTRUST_ASSIGN_OR_RETURN(existing, directory_->GetServer(server));
    if (!existing) {
      return absl::UnavailableError(absl::StrCat(
          "server ", server, " vanished right after it was created"));
    }
  }
  std::vector<std::string> missing;
  std::set_difference(domains.begin(), domains.end(), existing->domains.begin(),
                      existing->domains.end(), std::back_inserter(missing));
  if (!missing.empty()) {
    DTRUST_RETURN_IF_ERROR(directory_->AddDomains(server, missing));
    domains_added->insert(domains_added->end(), missing.begin(), missing.end());
  }
  return *std::move(existing);
}

absl::Status TrustService::StorePin(const ServerRecord& existing,
                                    const PinRecord& pin,
                                    PublishResult* result) {
  const auto published = std::find_if(
      existing.pins.begin(), existing.pins.end(),
      [&](const PinRecord& p) { return p.cert_sha256 == pin.cert_sha256; });
  if (published == existing.pins.end()) {
    const absl::Status added = directory_->AddPin(existing.name, pin);
    if (absl::IsAlreadyExists(added)) {
      result->outcome = PublishResult::Outcome::kAlreadyPublished;
    } else if (!added.ok()) {
      return added;
    }
  } else if (published->kind == pin.kind && published->window == pin.window &&
             published->provenance >= pin.provenance) {
    result->outcome = PublishResult::Outcome::kAlreadyPublished;
  } else {
    // A change without proof is asserted by whoever made it: a proof covers
    // exactly the request it was given with.
    DTRUST_RETURN_IF_ERROR(directory_->UpdatePin(existing.name, pin));
    result->outcome = PublishResult::Outcome::kPinUpdated;
    result->previous = *published;
  }
  return absl::OkStatus();
}

absl::StatusOr<PublishResult> TrustService::Publish(
    const PublishRequest& request) {
  // Validate everything before writing anything.
  DTRUST_ASSIGN_OR_RETURN(const std::string server,
                          NormalizeDnsName(request.server, "server name"));
  DTRUST_ASSIGN_OR_RETURN(const std::vector<std::string> domains,
                          NormalizeDomains(request.domains));
  DTRUST_ASSIGN_OR_RETURN(const Certificate certificate,
                          Certificate::FromDer(request.certificate_der));
  DTRUST_RETURN_IF_ERROR(CheckWindow(request.window, certificate));
  DTRUST_ASSIGN_OR_RETURN(
      const PinProvenance provenance,
      CheckPossession(request,
                      PossessionTerms{.server = server,
                                      .domains = domains,
                                      .kind = request.kind,
                                      .window = request.window,
                                      .cert_sha256 = certificate.sha256()},
                      certificate));

  PublishResult result;
  DTRUST_ASSIGN_OR_RETURN(std::optional<ServerRecord> existing,
                          directory_->GetServer(server));
  if (provenance == PinProvenance::kAsserted) {
    DTRUST_RETURN_IF_ERROR(CheckProofNotRequired(server, domains, existing));
  }
  DTRUST_ASSIGN_OR_RETURN(
      const ServerRecord serving,
      EnsureServerServes(server, domains, std::move(existing),
                         &result.domains_added));
  PinRecord pin{certificate.sha256(),
                certificate.spki_sha256(),
                request.kind,
                certificate.not_before(),
                certificate.not_after(),
                certificate.subject(),
                certificate.der(),
                request.window,
                provenance,
                request.publisher};
  DTRUST_RETURN_IF_ERROR(StorePin(serving, pin, &result));

  DTRUST_ASSIGN_OR_RETURN(std::optional<ServerRecord> after,
                          directory_->GetServer(server));
  if (!after) {
    return absl::UnavailableError(absl::StrCat(
        "server ", server, " was removed concurrently while publishing"));
  }
  result.server = *std::move(after);
  result.pin = std::move(pin);
  for (const PinRecord& stored : result.server.pins) {
    if (stored.cert_sha256 == result.pin.cert_sha256) result.pin = stored;
  }
  return result;
}

absl::StatusOr<UnpublishResult> TrustService::Unpublish(
    const UnpublishRequest& request) {
  DTRUST_ASSIGN_OR_RETURN(const std::string server,
                          NormalizeOptional(request.server, "server name"));
  if (request.certificate_der.empty() == !request.cert_sha256.has_value()) {
    return absl::InvalidArgumentError(
        "give either the certificate or its sha256 fingerprint to unpublish");
  }
  UnpublishResult result;
  if (request.cert_sha256) {
    result.cert_sha256 = *request.cert_sha256;
  } else {
    DTRUST_ASSIGN_OR_RETURN(const Certificate certificate,
                            Certificate::FromDer(request.certificate_der));
    result.cert_sha256 = certificate.sha256();
  }
  const std::string described = result.cert_sha256.ToColonHex();

  if (!server.empty()) {
    result.servers.push_back(server);
  } else {
    DTRUST_ASSIGN_OR_RETURN(
        const std::vector<ServerRecord> found,
        directory_->FindByDigest(&result.cert_sha256, nullptr));
    for (const ServerRecord& record : found) {
      result.servers.push_back(record.name);
    }
    std::sort(result.servers.begin(), result.servers.end());
    if (result.servers.empty()) {
      return absl::NotFoundError(
          absl::StrCat("certificate sha256 ", described, " is not published"));
    }
  }

  for (const std::string& name : result.servers) {
    const absl::Status removed =
        directory_->RemovePin(name, result.cert_sha256);
    if (absl::IsNotFound(removed)) {
      return absl::NotFoundError(absl::StrCat("certificate sha256 ", described,
                                              " is not published for server ",
                                              name));
    }
    DTRUST_RETURN_IF_ERROR(removed);
    // A server entry exists for its certificates: drop it with the last one.
    DTRUST_ASSIGN_OR_RETURN(const std::optional<ServerRecord> remaining,
                            directory_->GetServer(name));
    if (remaining && remaining->pins.empty()) {
      const absl::Status gone = directory_->RemoveServer(name);
      if (gone.ok()) {
        result.servers_removed.push_back(name);
      } else if (!absl::IsNotFound(gone) &&
                 !absl::IsFailedPrecondition(gone)) {  // Concurrent publish.
        return gone;
      }
    }
  }
  return result;
}

absl::StatusOr<std::vector<ServerRecord>> TrustService::List(
    ServerFilter filter) {
  DTRUST_ASSIGN_OR_RETURN(filter.server,
                          NormalizeOptional(filter.server, "server name"));
  DTRUST_ASSIGN_OR_RETURN(filter.domain,
                          NormalizeOptional(filter.domain, "mail domain"));
  return directory_->ListServers(filter);
}

absl::StatusOr<VerifyResult> TrustService::Verify(
    const VerifyRequest& request) {
  DTRUST_ASSIGN_OR_RETURN(const Presented presented, ReadPresented(request));
  DTRUST_ASSIGN_OR_RETURN(const Expectation expected, ReadExpectation(request));
  DTRUST_ASSIGN_OR_RETURN(
      std::vector<ServerRecord> candidates,
      directory_->FindByDigest(
          presented.cert_sha256 ? &*presented.cert_sha256 : nullptr,
          presented.spki_sha256 ? &*presented.spki_sha256 : nullptr));
  std::sort(candidates.begin(), candidates.end(),
            [](const ServerRecord& a, const ServerRecord& b) {
              return a.name < b.name;
            });
  const BestMatch best =
      FindBestMatch(candidates, presented, expected, clock_->Now());

  VerifyResult result;
  result.cert_sha256 = presented.cert_sha256;
  result.spki_sha256 = presented.spki_sha256;
  result.not_before = presented.not_before;
  result.not_after = presented.not_after;
  if (best.pin == nullptr) {
    result.verdict = Verdict::kNotPublished;
    result.reason = ExplainNotPublished(presented, best.key_only_server);
    return result;
  }
  result.verdict = best.judgement.verdict;
  result.not_before = best.judgement.not_before;
  result.not_after = best.judgement.not_after;
  if (best.judgement.same_certificate) {
    result.spki_sha256 = best.pin->spki_sha256;
  }
  result.reason = ExplainVerdict(presented, expected, *best.server, *best.pin,
                                 best.judgement);
  // The candidates are ours: move what the answer carries out of them.
  result.server = std::move(best.server->name);
  result.domains = std::move(best.server->domains);
  result.pin_kind = best.pin->kind;
  result.pin_window = best.pin->window;
  result.provenance = best.pin->provenance;
  result.publisher = std::move(best.pin->publisher);
  return result;
}

absl::StatusOr<DomainPolicy> TrustService::SetDomainPolicy(
    const DomainPolicyChange& change) {
  DTRUST_ASSIGN_OR_RETURN(const std::string domain,
                          NormalizeDnsName(change.domain, "mail domain"));
  if (!change.send && !change.receive) {
    return absl::InvalidArgumentError(absl::StrCat(
        "say which list to change for ", domain, ": send and/or receive"));
  }
  DTRUST_ASSIGN_OR_RETURN(const std::optional<DomainPolicy> existing,
                          directory_->GetDomainPolicy(domain));
  DomainPolicy policy = existing.value_or(DomainPolicy{domain});
  policy.send = change.send.value_or(policy.send);
  policy.receive = change.receive.value_or(policy.receive);
  if (policy.send != SecureMode::kOff || policy.receive != SecureMode::kOff) {
    DTRUST_RETURN_IF_ERROR(directory_->PutDomainPolicy(policy));
    return policy;
  }
  if (!existing) {
    return absl::NotFoundError(
        absl::StrCat(domain, " is on no Domain Security list"));
  }
  const absl::Status removed = directory_->RemoveDomainPolicy(domain);
  if (!removed.ok() && !absl::IsNotFound(removed)) return removed;
  return policy;
}

absl::StatusOr<std::vector<DomainPolicy>> TrustService::ListDomainPolicies(
    absl::string_view domain) {
  if (domain.empty()) return directory_->ListDomainPolicies();
  DTRUST_ASSIGN_OR_RETURN(const std::string normalized,
                          NormalizeDnsName(domain, "mail domain"));
  DTRUST_ASSIGN_OR_RETURN(const std::optional<DomainPolicy> policy,
                          directory_->GetDomainPolicy(normalized));
  if (!policy) return std::vector<DomainPolicy>();
  return std::vector<DomainPolicy>{*policy};
}

}  // namespace dtrust
