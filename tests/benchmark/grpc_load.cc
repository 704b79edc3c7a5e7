#include "tests/benchmark/grpc_load.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "tests/benchmark/bench_stats.h"

namespace dtrust::bench {
namespace {

// A call that has not completed after this is an error (a hung server).
constexpr absl::Duration kCallDeadline = absl::Seconds(30);
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);

int64_t NowNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// xorshift64*: cheap per-call randomness for picking digests.
uint64_t NextRandom(uint64_t& state) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

std::string DescribeStatus(const grpc::Status& status) {
  return absl::StrCat("gRPC status ", status.error_code(), ": ",
                      status.error_message());
}

// One slot of the closed loop: a call in flight, restarted by its owner on
// completion. Its address is the completion queue tag.
class Call {
 public:
  explicit Call(v1::DirectTrust::Stub* stub) : stub_(stub) {}
  virtual ~Call() = default;

  // Starts the next call on `cq`.
  void Start(grpc::CompletionQueue* cq) {
    Reset();  // The previous call's reader lives in its context's arena.
    context_.emplace();
    context_->set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoSeconds(kCallDeadline));
    start_ns_ = NowNs();
    Issue(cq);
  }
  int64_t start_ns() const { return start_ns_; }
  // After completion: empty if the call succeeded with the expected answer,
  // else what went wrong.
  virtual std::string Outcome() = 0;

 protected:
  virtual void Reset() = 0;
  virtual void Issue(grpc::CompletionQueue* cq) = 0;

  v1::DirectTrust::Stub* const stub_;
  std::optional<grpc::ClientContext> context_;
  grpc::Status status_;

 private:
  int64_t start_ns_ = 0;
};

class PingCall : public Call {
 public:
  using Call::Call;

  std::string Outcome() override {
    return status_.ok() ? std::string() : DescribeStatus(status_);
  }

 private:
  void Reset() override { reader_.reset(); }
  void Issue(grpc::CompletionQueue* cq) override {
    reader_ = stub_->PrepareAsyncPing(&*context_, request_, cq);
    reader_->StartCall();
    reader_->Finish(&response_, &status_, this);
  }

  v1::PingRequest request_;
  v1::PingResponse response_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::PingResponse>> reader_;
};

class VerifyCall : public Call {
 public:
  VerifyCall(v1::DirectTrust::Stub* stub, const VerifySet* set,
             double unpublished_fraction, uint64_t seed)
      : Call(stub),
        set_(set),
        unpublished_fraction_(unpublished_fraction),
        random_(seed | 1) {}

  std::string Outcome() override {
    if (!status_.ok()) return DescribeStatus(status_);
    if (response_->verdict() == expected_) return std::string();
    return absl::StrCat("sha256 ", absl::BytesToHexString(request_.sha256()),
                        ": verdict ", v1::Verdict_Name(response_->verdict()),
                        ", expected ", v1::Verdict_Name(expected_), " (",
                        response_->reason(), ")");
  }

 private:
  void Reset() override {
    reader_.reset();
    response_ = nullptr;
    arena_.Reset();
  }
  void Issue(grpc::CompletionQueue* cq) override {
    // Parsed into an arena reused call after call, as a client at this rate
    // would: no allocation per answer field.
    response_ =
        google::protobuf::Arena::CreateMessage<v1::VerifyResponse>(&arena_);
    const uint64_t pick = NextRandom(random_);
    if (unpublished_fraction_ > 0 &&
        static_cast<double>(NextRandom(random_) >> 11) * 0x1.0p-53 <
            unpublished_fraction_) {
      const std::array<char, 32>& digest = set_->Unpublished(pick);
      request_.set_sha256(digest.data(), digest.size());
      request_.clear_expected_domain();
      expected_ = v1::NOT_PUBLISHED;
    } else {
      const VerifySet::Item& item = set_->Published(pick);
      request_.set_sha256(item.sha256.data(), item.sha256.size());
      request_.set_expected_domain(item.domain);
      expected_ = v1::TRUSTED;
    }
    reader_ = stub_->PrepareAsyncVerify(&*context_, request_, cq);
    reader_->StartCall();
    reader_->Finish(response_, &status_, this);
  }

  static google::protobuf::ArenaOptions FirstBlock(char* block, size_t size) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = size;
    return options;
  }

  const VerifySet* const set_;
  const double unpublished_fraction_;
  uint64_t random_;
  v1::VerifyRequest request_;
  alignas(8) char arena_block_[4096];
  google::protobuf::Arena arena_{
      FirstBlock(arena_block_, sizeof(arena_block_))};
  v1::VerifyResponse* response_ = nullptr;
  v1::Verdict expected_ = v1::TRUSTED;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::VerifyResponse>> reader_;
};

struct Window {
  int64_t begin_ns = 0;
  int64_t end_ns = 0;
};

// What one client thread saw in the window.
struct ThreadResult {
  std::vector<int64_t> latencies_ns{};
  int64_t errors = 0;
  std::string first_error{};
};

// Keeps `calls` going on `cq` until the window ends, then drains them.
void Drive(grpc::CompletionQueue* cq, std::vector<std::unique_ptr<Call>>& calls,
           Window window, ThreadResult* result) {
  for (std::unique_ptr<Call>& call : calls) call->Start(cq);
  size_t outstanding = calls.size();
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && cq->Next(&tag, &ok)) {
    Call* call = static_cast<Call*>(tag);
    const int64_t now = NowNs();
    if (now >= window.begin_ns && now <= window.end_ns) {
      // Finish's tag always completes with ok; a failure is in the status.
      std::string error =
          ok ? call->Outcome() : std::string("completion queue failure");
      if (error.empty()) {
        result->latencies_ns.push_back(now - call->start_ns());
      } else if (result->errors++ == 0) {
        result->first_error = std::move(error);
      }
    }
    if (now < window.end_ns) {
      call->Start(cq);
    } else {
      --outstanding;
    }
  }
}

double ProcessCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) /
             1e6;
}

// utime + stime of every thread of `pid`, from /proc/PID/stat.
absl::StatusOr<double> OtherProcessCpuSeconds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  // Fields after "(comm) ": state is field 3, utime 14, stime 15.
  const size_t paren = stat.rfind(')');
  if (!in || paren == std::string::npos) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": has process ", pid, " exited?"));
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat("cannot parse ", path));
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

absl::StatusOr<double> ServerCpuSeconds(const std::vector<pid_t>& pids) {
  double total = 0;
  for (const pid_t pid : pids) {
    absl::StatusOr<double> seconds = OtherProcessCpuSeconds(pid);
    if (!seconds.ok()) return seconds.status();
    total += *seconds;
  }
  return total;
}

void SleepUntilNs(int64_t deadline_ns) {
  const int64_t now = NowNs();
  if (deadline_ns > now) absl::SleepFor(absl::Nanoseconds(deadline_ns - now));
}

}  // namespace

std::optional<Rpc> RpcFromName(absl::string_view name) {
  if (name == "verify") return Rpc::kVerify;
  if (name == "ping") return Rpc::kPing;
  return std::nullopt;
}

absl::string_view RpcName(Rpc rpc) {
  return rpc == Rpc::kVerify ? "verify" : "ping";
}

absl::StatusOr<std::unique_ptr<LoadTarget>> LoadTarget::Connect(
    Spec spec, int channels, const VerifySet* set) {
  if (spec.rpc == Rpc::kVerify && set == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target ", spec.label, ": verify needs certificates (--digests)"));
  }
  std::unique_ptr<LoadTarget> target(new LoadTarget(std::move(spec), set));
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoSeconds(kConnectTimeout);
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    // A channel of its own, not one shared subchannel for all.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
        target->spec_.endpoint, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(deadline)) {
      return absl::UnavailableError(
          absl::StrCat("target ", target->spec_.label, ": cannot connect to ",
                       target->spec_.endpoint, " within ",
                       absl::FormatDuration(kConnectTimeout)));
    }
    target->stubs_.push_back(v1::DirectTrust::NewStub(channel));
  }
  return target;
}

absl::StatusOr<RoundResult> LoadTarget::Run(const RoundOptions& options) {
  const int threads =
      std::max(1, std::min(options.threads, options.concurrency));
  std::vector<grpc::CompletionQueue> queues(threads);
  std::vector<std::vector<std::unique_ptr<Call>>> calls(threads);
  for (int i = 0; i < options.concurrency; ++i) {
    v1::DirectTrust::Stub* stub = stubs_[i % stubs_.size()].get();
    std::unique_ptr<Call> call;
    if (spec_.rpc == Rpc::kPing) {
      call = std::make_unique<PingCall>(stub);
    } else {
      call = std::make_unique<VerifyCall>(
          stub, set_, options.unpublished_fraction,
          0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(i + 1) ^ NowNs());
    }
    calls[i % threads].push_back(std::move(call));
  }
  Window window;
  window.begin_ns = NowNs() + absl::ToInt64Nanoseconds(options.warmup);
  window.end_ns = window.begin_ns + absl::ToInt64Nanoseconds(options.duration);
  std::vector<ThreadResult> results(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(Drive, &queues[t], std::ref(calls[t]), window,
                         &results[t]);
  }
  SleepUntilNs(window.begin_ns);
  const double client_begin = ProcessCpuSeconds();
  absl::StatusOr<double> server_begin = ServerCpuSeconds(spec_.server_pids);
  SleepUntilNs(window.end_ns);
  const double client_end = ProcessCpuSeconds();
  absl::StatusOr<double> server_end = ServerCpuSeconds(spec_.server_pids);
  for (std::thread& worker : workers) worker.join();
  for (grpc::CompletionQueue& queue : queues) {
    queue.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) {
    }
  }
  if (!server_begin.ok()) return server_begin.status();
  if (!server_end.ok()) return server_end.status();

  RoundResult round;
  std::vector<double> latencies_us;
  for (ThreadResult& result : results) {
    for (const int64_t ns : result.latencies_ns) {
      latencies_us.push_back(static_cast<double>(ns) / 1e3);
    }
    if (round.errors == 0 && result.errors > 0) {
      round.first_error = result.first_error;
    }
    round.errors += result.errors;
  }
  round.calls = static_cast<int64_t>(latencies_us.size());
  round.calls_per_second = static_cast<double>(round.calls) /
                           absl::ToDoubleSeconds(options.duration);
  round.p50_us = Quantile(latencies_us, 0.5);
  round.p99_us = Quantile(latencies_us, 0.99);
  round.p999_us = Quantile(latencies_us, 0.999);
  if (round.calls > 0) {
    const double calls = static_cast<double>(round.calls);
    round.client_cpu_us = (client_end - client_begin) * 1e6 / calls;
    round.server_cpu_us = (*server_end - *server_begin) * 1e6 / calls;
  }
  return round;
}

}  // namespace dtrust::bench
