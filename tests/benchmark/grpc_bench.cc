// gRPC load generator for dtrustd's DirectTrust service: Verify and Ping,
// closed loop, side by side. See grpc_bench --help and tests/benchmark/
// run_mirror_bench.sh, which drives it.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "server/base/command_line.h"
#include "tests/benchmark/bench_flags.h"
#include "tests/benchmark/bench_stats.h"
#include "tests/benchmark/grpc_load.h"
#include "tests/benchmark/verify_set.h"

namespace dtrust::bench {
namespace {

constexpr char kProgram[] = "grpc_bench";

[[noreturn]] void Usage(const std::string& problem) {
  UsageError(kProgram, problem);
}

struct TargetOption {
  LoadTarget::Spec spec;
  std::string digests;  // Empty: Options::digests.
};

struct Options {
  std::vector<TargetOption> targets;
  std::string endpoint;
  std::optional<Rpc> rpc;
  std::vector<pid_t> server_pids;
  RoundOptions round;
  int channels = 1;
  int rounds = 1;
  std::string digests;
  std::vector<std::pair<std::string, std::string>> ratios;
  bool status = false;
  std::optional<absl::Duration> wait_serving;
};

// The flags that Options holds parsed, as given.
struct TextFlags {
  std::string rpc;
  std::vector<std::string> targets;
  std::string duration;
  std::string warmup;
  std::vector<std::string> ratios;
  std::string wait_serving;
};

absl::Duration ParseDurationFlag(const std::string& flag,
                                 const std::string& text) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration) ||
      duration < absl::ZeroDuration()) {
    Usage(absl::StrCat(flag, ": \"", text, "\" is not a duration (2s, 500ms)"));
  }
  return duration;
}

pid_t ParsePid(const std::string& flag, const std::string& text) {
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 1) {
    Usage(absl::StrCat(flag, ": \"", text, "\" is not a positive integer"));
  }
  return static_cast<pid_t>(value);
}

TargetOption ParseTarget(const std::string& text) {
  TargetOption target;
  LoadTarget::Spec& spec = target.spec;
  std::optional<Rpc> rpc;
  for (absl::string_view field : absl::StrSplit(text, ',')) {
    const std::pair<std::string, std::string> kv =
        absl::StrSplit(field, absl::MaxSplits('=', 1));
    if (kv.first == "label") {
      spec.label = kv.second;
    } else if (kv.first == "rpc") {
      rpc = RpcFromName(kv.second);
      if (!rpc)
        Usage(absl::StrCat("--target: unknown rpc \"", kv.second, "\""));
    } else if (kv.first == "endpoint") {
      spec.endpoint = kv.second;
    } else if (kv.first == "pid") {
      spec.server_pids.push_back(ParsePid("--target pid", kv.second));
    } else if (kv.first == "digests") {
      target.digests = kv.second;
    } else {
      Usage(absl::StrCat("--target: unknown field \"", field, "\""));
    }
  }
  if (spec.label.empty() || spec.endpoint.empty() || !rpc) {
    Usage(absl::StrCat("--target \"", text, "\": needs label, rpc, endpoint"));
  }
  spec.rpc = *rpc;
  return target;
}

void DeclareTargetFlags(CLI::App& app, Options& options, TextFlags& text) {
  app.option_defaults()->group("Targets (at least one)");
  app.add_option("--endpoint", options.endpoint,
                 "one target (with --rpc), labelled by its RPC;\n"
                 "or the dtrustd of --status/--wait-serving")
      ->type_name("E");
  app.add_option("--rpc", text.rpc, "verify or ping")->type_name("RPC");
  AddRepeatableOption(app, "--server-pid", options.server_pids,
                      "a server process (dtrustd, slapd) whose CPU\n"
                      "time is charged to --endpoint's calls;\n"
                      "repeatable")
      ->type_name("P")
      ->check(PositiveInteger());
  AddRepeatableOption(app, "--target", text.targets,
                      "repeatable; pid: a server process (dtrustd,\n"
                      "slapd) whose CPU time is charged to the calls;\n"
                      "digests: this target's certificates (default:\n"
                      "--digests)")
      ->type_name("label=L,rpc=R,endpoint=E[,pid=P]...[,digests=FILE]");
}

void DeclareLoadFlags(CLI::App& app, Options& options, TextFlags& text) {
  app.option_defaults()->group("Load options");
  AddPositiveOption(app, "--concurrency", options.round.concurrency, "N",
                    "calls outstanding (default 1)");
  AddPositiveOption(app, "--channels", options.channels, "M",
                    "connections per target (default 1)");
  AddPositiveOption(app, "--threads", options.round.threads, "T",
                    "client threads (default 1)");
  app.add_option("--duration", text.duration,
                 "measured time per round and target (default 2s)")
      ->type_name("D");
  app.add_option("--warmup", text.warmup,
                 "unmeasured time before it (default 500ms)")
      ->type_name("D");
  AddPositiveOption(app, "--rounds", options.rounds, "R",
                    "rounds; each runs every target in turn, the\n"
                    "order reversed every other round (default 1)");
  app.add_option("--digests", options.digests,
                 "published certificates, \"<sha256 hex> <domain>\"\n"
                 "per line (bulk_ldif --digests); verify needs them")
      ->type_name("FILE");
  app.add_option("--unpublished", options.round.unpublished_fraction,
                 "share of Verify calls for unpublished digests")
      ->type_name("F")
      ->check(CLI::Range(0.0, 1.0));
  AddRepeatableOption(app, "--ratio", text.ratios,
                      "also report A's figures over B's, per round\n"
                      "(repeatable; A and B are target labels)")
      ->type_name("A/B");
}

void DeclareStatusFlags(CLI::App& app, Options& options, TextFlags& text) {
  app.option_defaults()->group("Status (with --endpoint)");
  app.add_flag("--status", options.status, "print GetStatus as JSON");
  app.add_option("--wait-serving", text.wait_serving,
                 "wait (at most D) until GetStatus says serving")
      ->type_name("D");
}

// Sets what `text` holds in `options`.
void ApplyTextFlags(const TextFlags& text, Options& options) {
  if (!text.rpc.empty()) {
    options.rpc = RpcFromName(text.rpc);
    if (!options.rpc) Usage(absl::StrCat("--rpc: unknown \"", text.rpc, "\""));
  }
  for (const std::string& target : text.targets) {
    options.targets.push_back(ParseTarget(target));
  }
  if (!text.duration.empty()) {
    options.round.duration = ParseDurationFlag("--duration", text.duration);
    if (options.round.duration == absl::ZeroDuration()) {
      Usage("--duration must be positive");
    }
  }
  if (!text.warmup.empty()) {
    options.round.warmup = ParseDurationFlag("--warmup", text.warmup);
  }
  for (const std::string& value : text.ratios) {
    std::pair<std::string, std::string> ratio =
        absl::StrSplit(value, absl::MaxSplits('/', 1));
    if (ratio.first.empty() || ratio.second.empty()) {
      Usage(absl::StrCat("--ratio: \"", value, "\" is not LABEL_A/LABEL_B"));
    }
    options.ratios.push_back(std::move(ratio));
  }
  if (!text.wait_serving.empty()) {
    options.wait_serving =
        ParseDurationFlag("--wait-serving", text.wait_serving);
  }
}

// Checks how the targets combine; --endpoint with --rpc becomes a target.
void CheckTargets(Options& options) {
  if (!options.endpoint.empty() || options.rpc) {
    if (options.endpoint.empty() || !options.rpc) {
      Usage("--endpoint and --rpc go together");
    }
    options.targets.push_back(
        {{std::string(RpcName(*options.rpc)), options.endpoint, *options.rpc,
          options.server_pids},
         ""});
  } else if (!options.server_pids.empty()) {
    Usage("--server-pid goes with --endpoint; use pid= in --target");
  }
  if (options.targets.empty()) Usage("no target");
  std::map<std::string, int> labels;
  for (const TargetOption& target : options.targets) {
    if (labels[target.spec.label]++ > 0) {
      Usage(absl::StrCat("two targets labelled \"", target.spec.label, "\""));
    }
  }
  for (const auto& [a, b] : options.ratios) {
    if (!labels.count(a) || !labels.count(b)) {
      Usage(absl::StrCat("--ratio ", a, "/", b, ": no such target label"));
    }
  }
}

Options ParseOptions(int argc, char** argv) {
  CLI::App app(
      "gRPC load on dtrustd: Verify and Ping, closed loop, side by side.\n"
      "grpc_bench TARGET... [LOAD OPTIONS] loads each target and reports;\n"
      "grpc_bench --endpoint E --status|--wait-serving D asks GetStatus.",
      kProgram);
  app.footer(
      "Prints a Markdown report, then one line of JSON. Exit status 1 if any "
      "call\nfailed or answered an unexpected verdict, 2 on bad usage.");
  app.get_formatter()->column_width(24);
  Options options;
  TextFlags text;
  DeclareTargetFlags(app, options, text);
  DeclareLoadFlags(app, options, text);
  DeclareStatusFlags(app, options, text);
  ParseFlagsOrExit(app, argc, argv);
  ApplyTextFlags(text, options);
  if (options.status || options.wait_serving) {
    if (options.endpoint.empty()) {
      Usage("--status/--wait-serving need --endpoint");
    }
    return options;
  }
  CheckTargets(options);
  return options;
}

// Status mode: GetStatus once, or until it says serving.
int PrintStatus(const Options& options) {
  auto stub = v1::DirectTrust::NewStub(grpc::CreateChannel(
      options.endpoint, grpc::InsecureChannelCredentials()));
  const absl::Time deadline =
      absl::Now() + options.wait_serving.value_or(absl::ZeroDuration());
  for (;;) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(2));
    v1::ServiceStatus status;
    const grpc::Status result =
        stub->GetStatus(&context, v1::GetStatusRequest(), &status);
    const bool done =
        result.ok() && (!options.wait_serving || status.serving());
    if (done || absl::Now() >= deadline) {
      if (!result.ok()) {
        std::fprintf(stderr,
                     "grpc_bench: GetStatus on %s: gRPC status %d: %s\n",
                     options.endpoint.c_str(), result.error_code(),
                     result.error_message().c_str());
        return 1;
      }
      google::protobuf::util::JsonPrintOptions json;
      json.always_print_primitive_fields = true;
      json.preserve_proto_field_names = true;
      std::string text;
      if (!google::protobuf::util::MessageToJsonString(status, &text, json)
               .ok()) {
        std::fprintf(stderr, "grpc_bench: cannot print the status as JSON\n");
        return 1;
      }
      std::printf("%s\n", text.c_str());
      if (!done) {
        std::fprintf(stderr, "grpc_bench: %s not serving after %s\n",
                     options.endpoint.c_str(),
                     absl::FormatDuration(*options.wait_serving).c_str());
      }
      return done ? 0 : 1;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// The figures reported per target and per ratio, with how to read them
// from a round.
struct Figure {
  const char* name;  // JSON key.
  int decimals;      // In the Markdown table.
  double (*get)(const RoundResult&);
};
constexpr Figure kFigures[] = {
    {"calls_per_s", 0, [](const RoundResult& r) { return r.calls_per_second; }},
    {"p50_us", 1, [](const RoundResult& r) { return r.p50_us; }},
    {"p99_us", 1, [](const RoundResult& r) { return r.p99_us; }},
    {"p999_us", 1, [](const RoundResult& r) { return r.p999_us; }},
    {"client_cpu_us", 1, [](const RoundResult& r) { return r.client_cpu_us; }},
    {"server_cpu_us", 1, [](const RoundResult& r) { return r.server_cpu_us; }},
};

Spread FigureSpread(const std::vector<RoundResult>& rounds, const Figure& f) {
  std::vector<double> values;
  for (const RoundResult& round : rounds) values.push_back(f.get(round));
  return SpreadOf(std::move(values));
}

Spread RatioSpread(const std::vector<RoundResult>& a,
                   const std::vector<RoundResult>& b, const Figure& f) {
  std::vector<double> values;
  for (size_t i = 0; i < a.size(); ++i) {
    const double denominator = f.get(b[i]);
    if (denominator > 0) values.push_back(f.get(a[i]) / denominator);
  }
  return SpreadOf(std::move(values));
}

int RunLoad(const Options& options) {
  // The digest lists, each loaded once.
  std::map<std::string, VerifySet> sets;
  std::vector<std::unique_ptr<LoadTarget>> targets;
  for (const TargetOption& option : options.targets) {
    const std::string& path =
        option.digests.empty() ? options.digests : option.digests;
    const VerifySet* set = nullptr;
    if (!path.empty()) {
      if (!sets.count(path)) {
        absl::StatusOr<VerifySet> loaded = VerifySet::Load(path);
        if (!loaded.ok()) {
          std::fprintf(stderr, "grpc_bench: %s\n",
                       std::string(loaded.status().message()).c_str());
          return 1;
        }
        sets.emplace(path, *std::move(loaded));
      }
      set = &sets.at(path);
    }
    absl::StatusOr<std::unique_ptr<LoadTarget>> target =
        LoadTarget::Connect(option.spec, options.channels, set);
    if (!target.ok()) {
      std::fprintf(stderr, "grpc_bench: %s\n",
                   std::string(target.status().message()).c_str());
      return 1;
    }
    targets.push_back(*std::move(target));
  }
  // results[t][r]: target t in round r.
  std::vector<std::vector<RoundResult>> results(targets.size());
  int64_t errors = 0;
  for (int round = 0; round < options.rounds; ++round) {
    for (size_t k = 0; k < targets.size(); ++k) {
      const size_t t = round % 2 == 0 ? k : targets.size() - 1 - k;
      absl::StatusOr<RoundResult> result = targets[t]->Run(options.round);
      if (!result.ok()) {
        std::fprintf(stderr, "grpc_bench: %s: %s\n",
                     targets[t]->spec().label.c_str(),
                     std::string(result.status().message()).c_str());
        return 1;
      }
      if (result->errors > 0) {
        std::fprintf(stderr,
                     "grpc_bench: %s round %d: %lld errors, first: %s\n",
                     targets[t]->spec().label.c_str(), round + 1,
                     static_cast<long long>(result->errors),
                     result->first_error.c_str());
      }
      errors += result->errors;
      results[t].push_back(*std::move(result));
    }
  }

  const RoundOptions& r = options.round;
  std::printf(
      "concurrency %d, %d channel(s) per target, %d client thread(s); %d "
      "round(s) of %s (after %s warmup) per target, interleaved; "
      "median (min–max) over rounds\n\n"
      "| target | rpc | calls/s | p50 µs | p99 µs | p99.9 µs | errors | "
      "client CPU µs/call | server CPU µs/call |\n"
      "|---|---|---|---|---|---|---|---|---|\n",
      r.concurrency, options.channels, r.threads, options.rounds,
      absl::FormatDuration(r.duration).c_str(),
      absl::FormatDuration(r.warmup).c_str());
  std::string json = absl::StrFormat(
      R"({"concurrency":%d,"channels":%d,"threads":%d,"rounds":%d,)"
      R"("duration_s":%.3f,"warmup_s":%.3f,"unpublished":%.3f,"targets":[)",
      r.concurrency, options.channels, r.threads, options.rounds,
      absl::ToDoubleSeconds(r.duration), absl::ToDoubleSeconds(r.warmup),
      r.unpublished_fraction);
  std::map<std::string, size_t> index;
  for (size_t t = 0; t < targets.size(); ++t) {
    const LoadTarget::Spec& spec = targets[t]->spec();
    index[spec.label] = t;
    int64_t target_errors = 0;
    for (const RoundResult& round : results[t]) target_errors += round.errors;
    std::vector<std::string> cells;
    for (const Figure& figure : kFigures) {
      cells.push_back(
          FormatSpread(FigureSpread(results[t], figure), figure.decimals));
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %lld | %s | %s |\n",
                spec.label.c_str(), std::string(RpcName(spec.rpc)).c_str(),
                cells[0].c_str(), cells[1].c_str(), cells[2].c_str(),
                cells[3].c_str(), static_cast<long long>(target_errors),
                cells[4].c_str(), cells[5].c_str());
    absl::StrAppend(&json, t == 0 ? "" : ",",
                    "{\"label\":", JsonString(spec.label),
                    ",\"rpc\":", JsonString(RpcName(spec.rpc)),
                    ",\"endpoint\":", JsonString(spec.endpoint),
                    ",\"errors\":", target_errors);
    for (const Figure& figure : kFigures) {
      absl::StrAppend(&json, ",\"", figure.name,
                      "\":", SpreadJson(FigureSpread(results[t], figure)));
    }
    std::vector<std::string> calls;
    for (const RoundResult& round : results[t]) {
      calls.push_back(absl::StrCat(round.calls));
    }
    absl::StrAppend(&json, ",\"calls\":[", absl::StrJoin(calls, ","), "]}");
  }
  absl::StrAppend(&json, "],\"ratios\":[");
  if (!options.ratios.empty()) {
    std::printf(
        "\n| ratio (per round) | calls/s | p50 | p99 | p99.9 |\n"
        "|---|---|---|---|---|\n");
  }
  for (size_t i = 0; i < options.ratios.size(); ++i) {
    const auto& [a, b] = options.ratios[i];
    const std::vector<RoundResult>& ra = results[index[a]];
    const std::vector<RoundResult>& rb = results[index[b]];
    std::printf("| %s / %s | %s | %s | %s | %s |\n", a.c_str(), b.c_str(),
                FormatSpread(RatioSpread(ra, rb, kFigures[0]), 2).c_str(),
                FormatSpread(RatioSpread(ra, rb, kFigures[1]), 2).c_str(),
                FormatSpread(RatioSpread(ra, rb, kFigures[2]), 2).c_str(),
                FormatSpread(RatioSpread(ra, rb, kFigures[3]), 2).c_str());
    absl::StrAppend(&json, i == 0 ? "" : ",",
                    "{\"name\":", JsonString(absl::StrCat(a, "/", b)));
    for (int f = 0; f < 4; ++f) {
      absl::StrAppend(&json, ",\"", kFigures[f].name,
                      "\":", SpreadJson(RatioSpread(ra, rb, kFigures[f])));
    }
    absl::StrAppend(&json, "}");
  }
  absl::StrAppend(&json, "],\"errors\":", errors, "}");
  std::printf("\n%s\n", json.c_str());
  return errors > 0 ? 1 : 0;
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) {
  // Debian's abseil checks every lock for deadlock cycles (a debug feature,
  // several us per gRPC call); off, as in NDEBUG builds of abseil.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const dtrust::bench::Options options =
      dtrust::bench::ParseOptions(argc, argv);
  if (options.status || options.wait_serving) {
    return dtrust::bench::PrintStatus(options);
  }
  return dtrust::bench::RunLoad(options);
}
