// dtrust expiring: which pins stop being trusted soon? For monitoring.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/command.h"
#include "client/format.h"
#include "client/input.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"
#include "server/base/time_format.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kCommand = "expiring";
constexpr absl::string_view kDefaultWithin = "30d";

constexpr absl::string_view kHelp =
    R"(usage: dtrust expiring [--within DURATION] [--server FQDN]
                       [--domain MAIL-DOMAIN]

Lists the published pins whose trust lapses within DURATION from now, or
already has: a pin lapses at the earlier of its certificate's notAfter and
the end of its pin window (publish --not-after). Sorted by that time; lapsed
pins are marked "lapsed". For monitoring, e.g. from cron:
  dtrust expiring --within 30d || mail -s "dtrust: pins lapsing" hostmaster

Exit status: 0 no pin lapses within DURATION; 1 some do (or did); 2, 3 as
for every command (bad usage; dtrustd or the directory unavailable).
)";

constexpr absl::string_view kNotes =
    R"(With --json: {"now":..,"until":..,"pins":[{"server":..,"domains":[..],
"lapses_at":..,"state":"lapsed"|"lapsing","cause":"certificate"|"pin-window",
"pin":{as in list}}]}.
)";

struct Lapse {
  absl::Time at{};
  bool by_window = false;  // The pin window ends before the certificate.
  const v1::ServerEntry* server = nullptr;
  const v1::Pin* pin = nullptr;
};

Lapse LapseOf(const v1::ServerEntry& server, const v1::Pin& pin) {
  Lapse lapse{
      .at = TimestampToTime(pin.not_after()), .server = &server, .pin = &pin};
  if (pin.has_pin_not_after() &&
      TimestampToTime(pin.pin_not_after()) < lapse.at) {
    lapse.at = TimestampToTime(pin.pin_not_after());
    lapse.by_window = true;
  }
  return lapse;
}

void WriteJson(absl::Time now, absl::Time until,
               const std::vector<Lapse>& lapses, JsonWriter& json) {
  json.BeginObject();
  json.Field("now", FormatRfc3339(now));
  json.Field("until", FormatRfc3339(until));
  json.Key("pins");
  json.BeginArray();
  for (const Lapse& lapse : lapses) {
    json.BeginObject();
    json.Field("server", lapse.server->name());
    json.StringArray("domains", {lapse.server->domains().begin(),
                                 lapse.server->domains().end()});
    json.Field("lapses_at", FormatRfc3339(lapse.at));
    json.Field("state", lapse.at < now ? "lapsed" : "lapsing");
    json.Field("cause", lapse.by_window ? "pin-window" : "certificate");
    json.Key("pin");
    WritePinJson(*lapse.pin, json);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

void AppendText(absl::Time now, absl::string_view within,
                const std::vector<Lapse>& lapses, std::string* out) {
  if (lapses.empty()) {
    absl::StrAppend(out, "no pin lapses within ", within, "\n");
    return;
  }
  for (const Lapse& lapse : lapses) {
    absl::StrAppendFormat(
        out, "%-8s %s  %s  sha256 %s  %s %s\n",
        lapse.at < now ? "lapsed" : "lapsing", FormatRfc3339(lapse.at),
        lapse.server->name(), ColonHex(lapse.pin->sha256()),
        PinKindLabel(lapse.pin->kind()).value_or("?"),
        lapse.by_window ? "pin window ends" : "certificate expires");
  }
}

absl::StatusOr<ExitCode> RunExpiring(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  if (!args.positionals().empty()) {
    return UsageError(kCommand,
                      absl::StrCat("expiring takes no arguments, got ",
                                   args.positionals()[0]));
  }
  const std::string within_text =
      args.Value("within").value_or(std::string(kDefaultWithin));
  DTRUST_ASSIGN_OR_RETURN(const absl::Duration within,
                          ParseDays(within_text, "--within"));
  DTRUST_ASSIGN_OR_RETURN(const v1::ListRequest request,
                          ListRequestFromArgs(args));

  DTRUST_ASSIGN_OR_RETURN(const std::vector<v1::ServerEntry> servers,
                          invocation.dtrustd.List(request));
  const absl::Time now = absl::Now();
  const absl::Time until = now + within;
  std::vector<Lapse> lapses;
  for (const v1::ServerEntry& server : servers) {
    for (const v1::Pin& pin : server.pins()) {
      const Lapse lapse = LapseOf(server, pin);
      if (lapse.at <= until) lapses.push_back(lapse);
    }
  }
  std::stable_sort(lapses.begin(), lapses.end(),
                   [](const Lapse& a, const Lapse& b) { return a.at < b.at; });

  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteJson(now, until, lapses, json);
    invocation.out->push_back('\n');
  } else {
    AppendText(now, within_text, lapses, invocation.out);
  }
  // kNotTrusted is exit status 1: "some pins need attention".
  return lapses.empty() ? ExitCode::kOk : ExitCode::kNotTrusted;
}

}  // namespace

Command ExpiringCommand() {
  return {.name = "expiring",
          .summary = "list pins whose trust lapses soon (for monitoring)",
          .help = kHelp,
          .options = {{.name = "within",
                       .value_name = "DURATION",
                       .description =
                           "how far ahead to look (default 30d): days as "
                           "30d,\nor hours, minutes, seconds as 12h, 1h30m, "
                           "90s"},
                      {.name = "server",
                       .value_name = "FQDN",
                       .description = "only this server's pins"},
                      {.name = "domain",
                       .value_name = "MAIL-DOMAIN",
                       .description =
                           "only pins of servers serving this mail domain"}},
          .notes = kNotes,
          .run = RunExpiring};
}

}  // namespace dtrust::cli
