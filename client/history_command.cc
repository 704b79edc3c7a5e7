// dtrust history: the audit trail (admin).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/command.h"
#include "client/format.h"
#include "client/input.h"
#include "server/base/json_writer.h"
#include "server/base/status_macros.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kCommand = "history";

constexpr absl::string_view kHelp =
    R"(usage: dtrust history [--server FQDN] [--domain D] [--since DURATION]
                      [--limit N]

Shows the audit trail (admin only): every write through dtrustd - publish,
unpublish, domain list changes, client grants and revocations - and every
refused write, oldest first, with who asked (the identity dtrustd
established), from where, what changed (before -> after) and the outcome.
Kept in the directory, so every dtrustd sharing it shows the same.
)";

constexpr absl::string_view kNotes =
    R"(With --json: {"events":[{"time":..,"actor":..,"from":..,"action":..,
"servers":[..],"domains":[..],"detail":..,"outcome":..}],"truncated":bool}.
)";

absl::StatusOr<v1::HistoryRequest> RequestFromArgs(const ParsedArgs& args) {
  if (!args.positionals().empty()) {
    return UsageError(kCommand, "history takes no arguments");
  }
  DTRUST_ASSIGN_OR_RETURN(const v1::ListRequest names,
                          ListRequestFromArgs(args));
  v1::HistoryRequest request;
  request.set_server(names.server());
  request.set_domain(names.domain());
  if (std::optional<std::string> since = args.Value("since")) {
    DTRUST_ASSIGN_OR_RETURN(absl::Duration ago, ParseDays(*since, "--since"));
    request.mutable_since()->set_seconds(
        absl::ToUnixSeconds(absl::Now() - ago));
  }
  if (std::optional<std::string> limit = args.Value("limit")) {
    uint32_t value = 0;
    if (!absl::SimpleAtoi(*limit, &value) || value < 1 || value > 100000) {
      return UsageError(kCommand, absl::StrCat("--limit ", *limit,
                                               ": not a number from 1 to "
                                               "100000"));
    }
    request.set_limit(value);
  }
  return request;
}

void WriteEventJson(const v1::AuditEvent& event, JsonWriter& json) {
  json.BeginObject();
  json.Field("time", Rfc3339(event.time()));
  json.Field("actor", event.actor());
  json.Field("from", event.from());
  json.Field("action", event.action());
  json.StringArray("servers", {event.servers().begin(), event.servers().end()});
  json.StringArray("domains", {event.domains().begin(), event.domains().end()});
  json.Field("detail", event.detail());
  json.Field("outcome", event.outcome());
  json.EndObject();
}

void AppendEventText(const v1::AuditEvent& event, std::string* out) {
  absl::StrAppend(out, Rfc3339(event.time()), "  ", event.action(), "  ",
                  event.outcome(), "\n  by:      ", event.actor(), " from ",
                  event.from(), "\n");
  if (!event.servers().empty()) {
    absl::StrAppend(out, "  servers: ", absl::StrJoin(event.servers(), ", "),
                    "\n");
  }
  if (!event.domains().empty()) {
    absl::StrAppend(out, "  domains: ", absl::StrJoin(event.domains(), ", "),
                    "\n");
  }
  if (!event.detail().empty()) {
    absl::StrAppend(out, "  detail:  ", event.detail(), "\n");
  }
}

absl::StatusOr<ExitCode> RunHistory(const Invocation& invocation) {
  DTRUST_ASSIGN_OR_RETURN(v1::HistoryRequest request,
                          RequestFromArgs(invocation.args));
  DTRUST_ASSIGN_OR_RETURN(v1::HistoryResponse response,
                          invocation.dtrustd.GetHistory(request));
  if (invocation.json) {
    JsonWriter json(invocation.out);
    json.BeginObject();
    json.Key("events");
    json.BeginArray();
    for (const v1::AuditEvent& event : response.events()) {
      WriteEventJson(event, json);
    }
    json.EndArray();
    json.Key("truncated");
    json.Bool(response.truncated());
    json.EndObject();
    invocation.out->push_back('\n');
    return ExitCode::kOk;
  }
  if (response.truncated()) {
    invocation.out->append("(older events left out: see --limit)\n");
  }
  if (response.events().empty()) invocation.out->append("no events\n");
  for (const v1::AuditEvent& event : response.events()) {
    AppendEventText(event, invocation.out);
  }
  return ExitCode::kOk;
}

}  // namespace

Command HistoryCommand() {
  return {.name = kCommand,
          .summary = "show the audit trail of writes and refusals (admin)",
          .help = kHelp,
          .options = {{.name = "server",
                       .value_name = "FQDN",
                       .description = "only events naming this transport "
                                      "server"},
                      {.name = "domain",
                       .value_name = "D",
                       .description = "only events naming this mail domain "
                                      "(or grant\nscope)"},
                      {.name = "since",
                       .value_name = "DURATION",
                       .description = "only the last DURATION, e.g. 7d, 12h "
                                      "(default:\nall)"},
                      {.name = "limit",
                       .value_name = "N",
                       .description =
                           "at most N events, the newest (default 1000)"}},
          .notes = kNotes,
          .run = RunHistory};
}

}  // namespace dtrust::cli
