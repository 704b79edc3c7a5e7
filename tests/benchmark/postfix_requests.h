// What the Postfix protocol benchmarks publish and ask: one server and
// certificate per mail domain, socketmap lookups and policy requests for
// them, and how to tell where a reply ends.
#ifndef DTRUST_TESTS_BENCHMARK_POSTFIX_REQUESTS_H_
#define DTRUST_TESTS_BENCHMARK_POSTFIX_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/benchmark/load_client.h"

namespace dtrust::bench {

// "org-I.example".
std::string Domain(int i);

struct Published {
  std::string cert_fingerprint;  // Postfix form: upper-case colon hex.
  std::string spki_fingerprint;
};

// Publishes one server and certificate per domain through dtrustd's gRPC
// `endpoint` and lists every domain as send- and receive-secure. An error
// names the call that failed.
absl::StatusOr<std::vector<Published>> Populate(const std::string& endpoint,
                                                int domains);

// Length of the first complete netstring in `buffer`, or 0. A malformed
// length counts as complete (the whole buffer), so that the reply check
// reports it.
size_t NetstringLength(const std::string& buffer);

// Length of the first complete policy reply (up to the empty line), or 0.
size_t PolicyReplyLength(const std::string& buffer);

// The i-th socketmap lookup ("dtrust org-N.example" as a netstring) of a
// run over `domains` domains, and whether a reply is a pin answer.
std::string SocketmapRequest(int64_t i, int domains);
bool IsSocketmapPin(const std::string& reply);

// The i-th policy request (RCPT, TLS with the published certificate of
// domain i % size) of connection `connection`, and whether a reply marks
// the message domain-secured.
std::string PolicyRequest(int64_t i, int connection,
                          const std::vector<Published>& published);
bool IsDomainSecured(const std::string& reply);

// A socketmap or policy load over `domains` published domains.
LoadSpec SocketmapLoad(int domains);
LoadSpec PolicyLoad(const std::vector<Published>* published, int tag);

}  // namespace dtrust::bench

#endif  // DTRUST_TESTS_BENCHMARK_POSTFIX_REQUESTS_H_
