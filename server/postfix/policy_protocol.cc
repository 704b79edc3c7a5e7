#include "server/postfix/policy_protocol.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace dtrust {
namespace {

constexpr char kDunnoReply[] = "action=DUNNO\n\n";
constexpr char kFallbackDeferReply[] =
    "451 4.3.0 dtrust: internal error, try again later";

bool IsControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed policy request: ", what));
}

// The value of `name`, or empty.
std::string Get(const PolicyAttributes& attributes, absl::string_view name) {
  const auto it = attributes.find(name);
  return it == attributes.end() ? "" : it->second;
}

// The digest in attribute `name`: absent when empty; absent and noted in
// `*unusable` when not SHA-256.
std::optional<Sha256Digest> Fingerprint(const PolicyAttributes& attributes,
                                        absl::string_view name,
                                        std::vector<std::string>* unusable) {
  const std::string value = Get(attributes, name);
  if (value.empty()) return std::nullopt;
  absl::StatusOr<Sha256Digest> digest = Sha256Digest::FromHex(value, name);
  if (!digest.ok()) {
    unusable->push_back(absl::StrCat(name, "=", value));
    return std::nullopt;
  }
  return *digest;
}

std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r", " "}, {"\n", " "}});
}

}  // namespace

absl::Status PolicyRequestReader::Consume(
    absl::string_view data, std::vector<PolicyAttributes>* requests) {
  while (!data.empty()) {
    const size_t newline = data.find('\n');
    const absl::string_view segment = data.substr(0, newline);
    if (line_.size() + segment.size() > kMaxPolicyLineBytes) {
      return Malformed(absl::StrCat("a line is longer than ",
                                    kMaxPolicyLineBytes, " bytes"));
    }
    if (std::any_of(segment.begin(), segment.end(), IsControl)) {
      return Malformed("a line contains a control character or NUL byte");
    }
    line_.append(segment.data(), segment.size());
    if (newline == absl::string_view::npos) return absl::OkStatus();
    data.remove_prefix(newline + 1);
    std::string line = std::move(line_);
    line_.clear();
    if (absl::Status added = AddLine(line, requests); !added.ok()) {
      return added;
    }
  }
  return absl::OkStatus();
}

absl::Status PolicyRequestReader::AddLine(
    absl::string_view line, std::vector<PolicyAttributes>* requests) {
  if (line.empty()) {
    if (attributes_.empty()) return Malformed("an empty request");
    requests->push_back(std::move(attributes_));
    attributes_.clear();
    request_bytes_ = 0;
    return absl::OkStatus();
  }
  request_bytes_ += line.size() + 1;
  if (request_bytes_ > kMaxPolicyRequestBytes) {
    return Malformed(absl::StrCat("the request is longer than ",
                                  kMaxPolicyRequestBytes, " bytes"));
  }
  if (attributes_.size() >= kMaxPolicyAttributes) {
    return Malformed(absl::StrCat("the request has more than ",
                                  kMaxPolicyAttributes, " attributes"));
  }
  const size_t equals = line.find('=');
  if (equals == absl::string_view::npos) {
    return Malformed(absl::StrCat("a line has no '=' (\"",
                                  absl::CHexEscape(line.substr(0, 64)), "\")"));
  }
  if (equals == 0) return Malformed("an attribute has an empty name");
  const absl::string_view name = line.substr(0, equals);
  if (!attributes_.emplace(name, line.substr(equals + 1)).second) {
    return Malformed(absl::StrCat("attribute ", name, " is given twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyQuery> PolicyQueryFromAttributes(
    const PolicyAttributes& attributes) {
  const std::string request = Get(attributes, "request");
  if (request != "smtpd_access_policy") {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy request: request=", absl::CHexEscape(request.substr(0, 64)),
        " (expected request=smtpd_access_policy)"));
  }
  PolicyQuery result;
  InboundQuery& query = result.query;
  query.sender = Get(attributes, "sender");
  query.client_name = Get(attributes, "client_name");
  query.client_address = Get(attributes, "client_address");
  query.helo_name = Get(attributes, "helo_name");
  query.tls = !Get(attributes, "encryption_protocol").empty();
  query.cert_sha256 = Fingerprint(attributes, "ccert_fingerprint",
                                  &result.unusable_fingerprints);
  query.spki_sha256 = Fingerprint(attributes, "ccert_pubkey_fingerprint",
                                  &result.unusable_fingerprints);
  result.instance = Get(attributes, "instance");
  result.protocol_state = Get(attributes, "protocol_state");
  return result;
}

std::string FormatPolicyReply(const InboundDecision& decision) {
  using Action = InboundDecision::Action;
  switch (decision.action) {
    case Action::kDunno:
      return kDunnoReply;
    case Action::kPrepend:
      if (decision.header.empty()) return kDunnoReply;
      return absl::StrCat("action=PREPEND ", OneLine(decision.header), "\n\n");
    case Action::kReject:
    case Action::kDefer:
      return absl::StrCat("action=",
                          decision.reply.empty() ? kFallbackDeferReply
                                                 : OneLine(decision.reply),
                          "\n\n");
  }
  return absl::StrCat("action=", kFallbackDeferReply, "\n\n");
}

}  // namespace dtrust
