// Tiny local status macros (Debian's abseil 20220623 ships none).
#ifndef DTRUST_SERVER_BASE_STATUS_MACROS_H_
#define DTRUST_SERVER_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the status of `expr` from the enclosing function unless it is OK.
#define DTRUST_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status dtrust_status_ = (expr);          \
    if (!dtrust_status_.ok()) return dtrust_status_; \
  } while (0)

#define DTRUST_STATUS_CONCAT_INNER_(a, b) a##b
#define DTRUST_STATUS_CONCAT_(a, b) DTRUST_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status unless OK,
// otherwise moves the value into `lhs` (which may be a declaration).
#define DTRUST_ASSIGN_OR_RETURN(lhs, rexpr) \
  DTRUST_ASSIGN_OR_RETURN_IMPL_(            \
      DTRUST_STATUS_CONCAT_(dtrust_statusor_, __LINE__), lhs, rexpr)

#define DTRUST_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = *std::move(statusor)

#endif  // DTRUST_SERVER_BASE_STATUS_MACROS_H_
