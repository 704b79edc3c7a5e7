// dtrust list: show published servers, their domains and pins.
#include "absl/strings/str_cat.h"
#include "client/command.h"
#include "client/format.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kHelp =
    R"(usage: dtrust list [--server FQDN] [--domain MAIL-DOMAIN]

Lists the published transport servers (sorted by name), the mail domains each
serves and its pins: sha256 and spki-sha256 fingerprints, pin kind
(certificate or public-key), validity and subject.
)";

absl::StatusOr<ExitCode> RunList(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  if (!args.positionals().empty()) {
    return UsageError("list", absl::StrCat("list takes no arguments, got ",
                                           args.positionals()[0]));
  }
  DTRUST_ASSIGN_OR_RETURN(const v1::ListRequest request,
                          ListRequestFromArgs(args));

  DTRUST_ASSIGN_OR_RETURN(std::vector<v1::ServerEntry> servers,
                          invocation.dtrustd.List(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    json.BeginObject();
    json.Key("servers");
    json.BeginArray();
    for (const v1::ServerEntry& server : servers) WriteServerJson(server, json);
    json.EndArray();
    json.EndObject();
    invocation.out->push_back('\n');
    return ExitCode::kOk;
  }
  if (servers.empty()) {
    invocation.out->append(request.server().empty() && request.domain().empty()
                               ? "no servers published\n"
                               : "no published server matches\n");
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    if (i > 0) invocation.out->push_back('\n');
    AppendServerText(servers[i], invocation.out);
  }
  return ExitCode::kOk;
}

}  // namespace

Command ListCommand() {
  return {.name = "list",
          .summary = "show published servers, their mail domains and pins",
          .help = kHelp,
          .options = {{.name = "server",
                       .value_name = "FQDN",
                       .description = "only this server"},
                      {.name = "domain",
                       .value_name = "MAIL-DOMAIN",
                       .description = "only servers serving this mail domain"}},
          .run = RunList};
}

}  // namespace dtrust::cli
