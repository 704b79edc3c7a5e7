// The certificates grpc_bench asks dtrustd about: published ones, read from
// the digest list bulk_ldif writes, and random digests published nowhere.
#ifndef DTRUST_TESTS_BENCHMARK_VERIFY_SET_H_
#define DTRUST_TESTS_BENCHMARK_VERIFY_SET_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dtrust::bench {

// Immutable after Load; thread-safe.
class VerifySet {
 public:
  struct Item {
    std::array<char, 32> sha256{};  // Raw digest bytes.
    std::string domain{};           // Mail domain its server serves.
  };

  // Reads `path`: one published certificate per line, "<sha256 hex>
  // <mail domain>" (64 hex digits, any case; the domain may be left out).
  // Blank lines are skipped. InvalidArgument naming the file and line for
  // anything else; NotFound if it cannot be opened or lists nothing.
  // Also draws 4096 random digests (a fixed seed: the same ones every run)
  // which, at 2^-256 odds each of hitting a published one, verify as
  // NOT_PUBLISHED.
  static absl::StatusOr<VerifySet> Load(const std::string& path);

  size_t published_size() const { return published_.size(); }
  // The published item at `random` modulo the count.
  const Item& Published(uint64_t random) const {
    return published_[random % published_.size()];
  }
  // A random unpublished digest, as 32 raw bytes.
  const std::array<char, 32>& Unpublished(uint64_t random) const {
    return unpublished_[random % unpublished_.size()];
  }

 private:
  std::vector<Item> published_;
  std::vector<std::array<char, 32>> unpublished_;
};

}  // namespace dtrust::bench

#endif  // DTRUST_TESTS_BENCHMARK_VERIFY_SET_H_
