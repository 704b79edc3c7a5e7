#include "server/grpc/grpc_listeners.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/grpc/metrics_interceptor.h"

namespace dtrust {
namespace {

constexpr absl::string_view kUnixPrefix = "unix:";

std::shared_ptr<grpc::ServerCredentials> TcpCredentials(
    const GrpcListenOptions& options) {
  if (options.tls_cert_pem.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions tls(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  tls.pem_key_cert_pairs.push_back(
      {.private_key = options.tls_key_pem, .cert_chain = options.tls_cert_pem});
  return grpc::SslServerCredentials(tls);
}

int Milliseconds(absl::Duration duration) {
  return static_cast<int>(absl::ToInt64Milliseconds(duration));
}

// Everything in `limits` that is a channel argument or server option.
void ApplyLimits(const GrpcLimits& limits, grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             limits.max_streams_per_connection);
  grpc::ResourceQuota quota("dtrustd");
  quota.SetMaxThreads(limits.max_threads);
  quota.Resize(static_cast<size_t>(limits.max_memory_bytes));
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             Milliseconds(limits.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             Milliseconds(limits.keepalive_timeout));
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Milliseconds(limits.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             limits.max_ping_strikes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             Milliseconds(limits.max_connection_idle));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                             Milliseconds(limits.max_connection_age));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                             Milliseconds(limits.max_connection_age_grace));
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC,
      Milliseconds(limits.poller_timeout));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServing>> GrpcServing::Start(
    const GrpcListenOptions& options,
    const std::vector<grpc::Service*>& services) {
  std::unique_ptr<GrpcServing> serving(new GrpcServing());
  // Server reflection (grpc.reflection.v1alpha) on every server built from
  // now on, so generic gRPC tools can call dtrustd without its .proto.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::shared_ptr<grpc::ServerCredentials> credentials =
      TcpCredentials(options);
  std::vector<std::pair<std::string, std::unique_ptr<int>>> tcp;
  for (const std::string& address : options.addresses) {
    if (absl::StartsWith(address, kUnixPrefix)) continue;
    tcp.emplace_back(address, std::make_unique<int>(0));
    builder.AddListeningPort(address, credentials, tcp.back().second.get());
  }
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  ApplyLimits(options.limits, builder);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(NewMetricsInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  serving->server_ = builder.BuildAndStart();
  if (serving->server_ == nullptr) {
    return absl::FailedPreconditionError(
        "cannot start the gRPC server (bad TLS certificate or key?)");
  }
  for (const auto& [address, port] : tcp) {
    if (*port == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot listen on ", address,
                       " (address in use, or not HOST:PORT?)"));
    }
  }
  size_t next_tcp = 0;
  for (const std::string& address : options.addresses) {
    if (!absl::StartsWith(address, kUnixPrefix)) {
      const std::string& host = tcp[next_tcp].first;
      serving->addresses_.push_back(absl::StrCat(
          host.substr(0, host.rfind(':')), ":", *tcp[next_tcp].second));
      ++next_tcp;
      continue;
    }
    absl::StatusOr<std::unique_ptr<UnixGrpcListener>> listener =
        UnixGrpcListener::Start(address.substr(kUnixPrefix.size()),
                                serving->server_.get());
    if (!listener.ok()) return listener.status();
    serving->unix_listeners_.push_back(*std::move(listener));
    serving->addresses_.push_back(address);
  }
  if (options.on_listener_stuck && !tcp.empty()) {
    std::vector<std::string> bound;
    for (const std::string& address : serving->addresses_) {
      if (!absl::StartsWith(address, kUnixPrefix)) bound.push_back(address);
    }
    absl::StatusOr<std::unique_ptr<ListenerWatchdog>> watchdog =
        ListenerWatchdog::Start(bound, !options.tls_cert_pem.empty(), {},
                                options.on_listener_stuck);
    if (!watchdog.ok()) return watchdog.status();
    serving->watchdog_ = *std::move(watchdog);
  }
  return serving;
}

void GrpcServing::Shutdown(absl::Duration grace) {
  watchdog_.reset();  // A listener closed now is not stuck.
  unix_listeners_.clear();
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoSeconds(grace));
  server_->Wait();
  server_.reset();
}

}  // namespace dtrust
