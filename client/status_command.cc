// dtrust status: how dtrustd sees its directory. For people and monitoring.
#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/command.h"
#include "client/format.h"
#include "server/base/status_macros.h"
#include "server/core/directory_status.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kCommand = "status";

constexpr absl::string_view kHelp =
    R"(usage: dtrust status

Shows whether dtrustd is serving (answering Verify and the Postfix
protocols) and how it sees its directory: the sync mode (none: every query
searches the directory; refresh-and-persist or poll: answers come from an
in-memory mirror), the directory URI in use, whether it is connected, the
age of the mirror's data and the bound on it (--max-staleness), when the
mirror last matched the directory, the last directory error, what the
mirror holds (servers, pins, domain policies, index bytes), how long its
first load took, and when dtrustd started. Values that do not apply show
as "-".

Exit status: 0 serving; 3 not serving, or dtrustd unreachable (as for every
command); 2 bad usage.

With --json: {"serving":bool,"sync_mode":"none"|"refresh-and-persist"|
"poll","directory_uri":..,"connected":bool,"snapshot_age_ms":..,
"max_staleness_ms":..,"last_current":..,"last_error":..,"servers":..,
"pins":..,"domain_policies":..,"index_bytes":..,"initial_load_ms":..,
"started":..}; absent values (and the mirror's, with sync mode none) are
null.
)";

std::optional<std::string> SyncModeLabel(v1::SyncMode mode) {
  switch (mode) {
    case v1::SYNC_MODE_NONE:
      return std::string(SyncModeName(SyncMode::kNone));
    case v1::SYNC_MODE_REFRESH_AND_PERSIST:
      return std::string(SyncModeName(SyncMode::kRefreshAndPersist));
    case v1::SYNC_MODE_POLL:
      return std::string(SyncModeName(SyncMode::kPoll));
    default:
      return std::nullopt;
  }
}

absl::Duration ToDuration(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) +
         absl::Nanoseconds(duration.nanos());
}

// What a status answer holds, nullopt where absent or not applicable.
struct StatusView {
  bool mirror = false;  // A sync mode other than none.
  std::optional<absl::Duration> snapshot_age{};
  std::optional<absl::Duration> max_staleness{};
  std::optional<absl::Duration> initial_load{};
  std::optional<std::string> last_current{};
  std::optional<std::string> last_error{};
  std::optional<std::string> started{};
};

StatusView ViewOf(const v1::ServiceStatus& status) {
  StatusView view;
  view.mirror = status.sync_mode() != v1::SYNC_MODE_NONE;
  if (status.has_snapshot_age()) {
    view.snapshot_age = ToDuration(status.snapshot_age());
  }
  if (view.mirror && status.has_max_staleness()) {
    view.max_staleness = ToDuration(status.max_staleness());
  }
  if (status.has_initial_load()) {
    view.initial_load = ToDuration(status.initial_load());
  }
  view.last_current =
      OptionalRfc3339(status.has_last_current(), status.last_current());
  if (!status.last_error().empty()) view.last_error = status.last_error();
  view.started = OptionalRfc3339(status.has_started(), status.started());
  return view;
}

// Milliseconds, not negative (for JSON).
uint64_t Millis(absl::Duration duration) {
  return static_cast<uint64_t>(
      std::max<int64_t>(0, absl::ToInt64Milliseconds(duration)));
}

void DurationField(JsonWriter& json, absl::string_view key,
                   const std::optional<absl::Duration>& duration) {
  json.Key(key);
  if (duration) {
    json.Uint(Millis(*duration));
  } else {
    json.Null();
  }
}

// A mirror count: null with sync mode none.
void CountField(JsonWriter& json, absl::string_view key, bool mirror,
                uint64_t count) {
  json.Key(key);
  if (mirror) {
    json.Uint(count);
  } else {
    json.Null();
  }
}

void WriteJson(const v1::ServiceStatus& status, const StatusView& view,
               JsonWriter& json) {
  json.BeginObject();
  json.Key("serving");
  json.Bool(status.serving());
  json.NullableField("sync_mode", SyncModeLabel(status.sync_mode()));
  json.Field("directory_uri", status.directory_uri());
  json.Key("connected");
  json.Bool(status.connected());
  DurationField(json, "snapshot_age_ms", view.snapshot_age);
  DurationField(json, "max_staleness_ms", view.max_staleness);
  json.NullableField("last_current", view.last_current);
  json.NullableField("last_error", view.last_error);
  CountField(json, "servers", view.mirror, status.servers());
  CountField(json, "pins", view.mirror, status.pins());
  CountField(json, "domain_policies", view.mirror, status.domain_policies());
  CountField(json, "index_bytes", view.mirror, status.index_bytes());
  DurationField(json, "initial_load_ms", view.initial_load);
  json.NullableField("started", view.started);
  json.EndObject();
}

// "LABEL:  value" with the values aligned; "-" for an absent value.
void Line(absl::string_view label, const std::optional<std::string>& value,
          std::string* out) {
  absl::StrAppendFormat(out, "%-16s %s\n", absl::StrCat(label, ":"),
                        value.value_or("-"));
}

std::optional<std::string> DurationText(
    const std::optional<absl::Duration>& duration) {
  if (!duration) return std::nullopt;
  return absl::FormatDuration(absl::Trunc(*duration, absl::Milliseconds(1)));
}

std::optional<std::string> CountText(bool mirror, uint64_t count) {
  if (!mirror) return std::nullopt;
  return absl::StrCat(count);
}

void AppendText(const v1::ServiceStatus& status, const StatusView& view,
                std::string* out) {
  const auto yes_no = [](bool value) -> std::optional<std::string> {
    return value ? "yes" : "no";
  };
  Line("serving", yes_no(status.serving()), out);
  Line("sync mode", SyncModeLabel(status.sync_mode()), out);
  Line("directory",
       status.directory_uri().empty()
           ? std::nullopt
           : std::optional<std::string>(status.directory_uri()),
       out);
  Line("connected", yes_no(status.connected()), out);
  Line("snapshot age", DurationText(view.snapshot_age), out);
  Line("max staleness", DurationText(view.max_staleness), out);
  Line("last current", view.last_current, out);
  Line("last error", view.last_error, out);
  Line("servers", CountText(view.mirror, status.servers()), out);
  Line("pins", CountText(view.mirror, status.pins()), out);
  Line("domain policies", CountText(view.mirror, status.domain_policies()),
       out);
  Line("index bytes", CountText(view.mirror, status.index_bytes()), out);
  Line("initial load", DurationText(view.initial_load), out);
  Line("started", view.started, out);
}

absl::StatusOr<ExitCode> RunStatus(const Invocation& invocation) {
  if (!invocation.args.positionals().empty()) {
    return UsageError(kCommand, absl::StrCat("status takes no arguments, got ",
                                             invocation.args.positionals()[0]));
  }
  DTRUST_ASSIGN_OR_RETURN(const v1::ServiceStatus status,
                          invocation.dtrustd.GetStatus());
  const StatusView view = ViewOf(status);
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteJson(status, view, json);
    invocation.out->push_back('\n');
  } else {
    AppendText(status, view, invocation.out);
  }
  return status.serving() ? ExitCode::kOk : ExitCode::kUnavailable;
}

}  // namespace

Command StatusCommand() {
  return {.name = "status",
          .summary =
              "show whether dtrustd is serving and how it sees its "
              "directory",
          .help = kHelp,
          .options = {},
          .run = RunStatus};
}

}  // namespace dtrust::cli
