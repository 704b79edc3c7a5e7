// Reading small files whole.
#ifndef DTRUST_SERVER_BASE_FILES_H_
#define DTRUST_SERVER_BASE_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace dtrust {

// The contents of the file at `path`, which must be at most `max_bytes`
// (checked without reading more than max_bytes + 1). InvalidArgument naming
// the file if it cannot be read, is a directory or is too large.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          size_t max_bytes);

}  // namespace dtrust

#endif  // DTRUST_SERVER_BASE_FILES_H_
