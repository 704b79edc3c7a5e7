// dtrust domain: manage the Domain Security lists.
#include "absl/strings/str_cat.h"
#include "client/command.h"
#include "client/format.h"
#include "server/base/status_macros.h"
#include "server/core/dns_name.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kCommand = "domain";

constexpr absl::string_view kHelp =
    R"(usage: dtrust domain add MAIL-DOMAIN [--send] [--receive] [--testing]
       dtrust domain remove MAIL-DOMAIN [--send] [--receive]
       dtrust domain list
       dtrust domain show MAIL-DOMAIN

Manages the Domain Security lists: partner mail domains whose mail must be
domain-secured (mutually authenticated TLS with certificates published in
the directory). All other domains get opportunistic TLS.
)";

std::string ModeName(v1::SecureMode mode) {
  switch (mode) {
    case v1::SECURE_MODE_ENFORCE:
      return "enforce";
    case v1::SECURE_MODE_TESTING:
      return "testing";
    default:
      return "off";
  }
}

void WritePolicyJson(const v1::DomainPolicy& policy, JsonWriter& json) {
  json.BeginObject();
  json.Field("domain", policy.domain());
  json.Field("send", ModeName(policy.send()));
  json.Field("receive", ModeName(policy.receive()));
  json.EndObject();
}

void AppendPolicyText(const v1::DomainPolicy& policy, std::string* out) {
  absl::StrAppend(out, policy.domain(), "  send=", ModeName(policy.send()),
                  "  receive=", ModeName(policy.receive()), "\n");
}

absl::StatusOr<std::string> DomainArgument(const ParsedArgs& args,
                                           absl::string_view sub) {
  if (args.positionals().size() != 1) {
    return UsageError(kCommand, absl::StrCat("domain ", sub,
                                             " needs exactly one MAIL-DOMAIN"));
  }
  return NormalizeDnsName(args.positionals()[0], "MAIL-DOMAIN");
}

absl::StatusOr<ExitCode> Change(const Invocation& invocation, bool add) {
  const ParsedArgs& args = invocation.args;
  const absl::string_view sub = add ? "add" : "remove";
  DTRUST_ASSIGN_OR_RETURN(std::string domain, DomainArgument(args, sub));
  const bool send = args.Has("send");
  const bool receive = args.Has("receive");
  if (add && !send && !receive) {
    return UsageError(kCommand, "domain add needs --send and/or --receive");
  }
  if (!add && args.Has("testing")) {
    return UsageError(kCommand, "--testing goes with domain add");
  }
  const v1::SecureMode mode =
      !add ? v1::SECURE_MODE_OFF
           : (args.Has("testing") ? v1::SECURE_MODE_TESTING
                                  : v1::SECURE_MODE_ENFORCE);
  v1::SetDomainPolicyRequest request;
  request.set_domain(domain);
  // Removing with neither flag takes the domain off both lists.
  const bool both = !add && !send && !receive;
  if (send || both) request.set_send(mode);
  if (receive || both) request.set_receive(mode);
  DTRUST_ASSIGN_OR_RETURN(v1::DomainPolicy policy,
                          invocation.dtrustd.SetDomainPolicy(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WritePolicyJson(policy, json);
    invocation.out->push_back('\n');
  } else {
    AppendPolicyText(policy, invocation.out);
  }
  return ExitCode::kOk;
}

absl::StatusOr<ExitCode> List(const Invocation& invocation) {
  if (!invocation.args.positionals().empty()) {
    return UsageError(kCommand, "domain list takes no arguments");
  }
  DTRUST_ASSIGN_OR_RETURN(v1::ListDomainPoliciesResponse response,
                          invocation.dtrustd.ListDomainPolicies({}));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    json.BeginObject();
    json.Key("domains");
    json.BeginArray();
    for (const v1::DomainPolicy& policy : response.policies()) {
      WritePolicyJson(policy, json);
    }
    json.EndArray();
    json.EndObject();
    invocation.out->push_back('\n');
    return ExitCode::kOk;
  }
  if (response.policies().empty()) {
    invocation.out->append(
        "no domains listed: every domain gets opportunistic TLS\n");
  }
  for (const v1::DomainPolicy& policy : response.policies()) {
    AppendPolicyText(policy, invocation.out);
  }
  return ExitCode::kOk;
}

absl::StatusOr<ExitCode> Show(const Invocation& invocation) {
  DTRUST_ASSIGN_OR_RETURN(std::string domain,
                          DomainArgument(invocation.args, "show"));
  v1::ListDomainPoliciesRequest policy_request;
  policy_request.set_domain(domain);
  DTRUST_ASSIGN_OR_RETURN(
      v1::ListDomainPoliciesResponse policies,
      invocation.dtrustd.ListDomainPolicies(policy_request));
  v1::DomainPolicy policy;
  policy.set_domain(domain);
  if (!policies.policies().empty()) policy = policies.policies(0);
  v1::ListRequest servers_request;
  servers_request.set_domain(domain);
  DTRUST_ASSIGN_OR_RETURN(std::vector<v1::ServerEntry> servers,
                          invocation.dtrustd.List(servers_request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    json.BeginObject();
    json.Field("domain", domain);
    json.Field("send", ModeName(policy.send()));
    json.Field("receive", ModeName(policy.receive()));
    json.Key("servers");
    json.BeginArray();
    for (const v1::ServerEntry& server : servers) WriteServerJson(server, json);
    json.EndArray();
    json.EndObject();
    invocation.out->push_back('\n');
    return ExitCode::kOk;
  }
  AppendPolicyText(policy, invocation.out);
  if (servers.empty()) {
    invocation.out->append("no server is published for this domain\n");
  }
  for (const v1::ServerEntry& server : servers) {
    invocation.out->push_back('\n');
    AppendServerText(server, invocation.out);
  }
  return ExitCode::kOk;
}

absl::StatusOr<ExitCode> RunDomain(const Invocation& invocation) {
  const absl::string_view sub = invocation.subcommand;
  if (sub == "add") return Change(invocation, /*add=*/true);
  if (sub == "remove") return Change(invocation, /*add=*/false);
  if (sub == "list") return List(invocation);
  if (sub == "show") return Show(invocation);
  const std::vector<std::string>& positionals = invocation.args.positionals();
  return UsageError(
      kCommand, positionals.empty()
                    ? "domain needs add, remove, list or show"
                    : absl::StrCat("unknown domain command ", positionals[0]));
}

}  // namespace

Command DomainCommand() {
  return {
      .name = kCommand,
      .summary = "manage the Domain Security lists (send/receive)",
      .help = kHelp,
      .options = {{.name = "send",
                   .description = "add/remove: the send list (mail TO the "
                                  "domain)"},
                  {.name = "receive",
                   .description = "add/remove: the receive list (mail FROM "
                                  "the\ndomain)"},
                  {.name = "testing",
                   .description = "add: only check and log, do not "
                                  "enforce"}},
      .subcommands =
          {{.name = "add",
            .summary = "puts the domain on the send list (--send: mail TO it\n"
                       "must reach a server whose certificate is published\n"
                       "for it), the receive list (--receive: mail FROM it\n"
                       "must come with a client certificate published for\n"
                       "one of its servers), or both; enforced, or with\n"
                       "--testing only checked and logged while mail flows"},
           {.name = "remove",
            .summary = "takes the domain off the lists given (default: both)"},
           {.name = "list", .summary = "shows every listed domain"},
           {.name = "show",
            .summary = "shows a domain's lists and its published servers"}},
      .run = RunDomain};
}

}  // namespace dtrust::cli
