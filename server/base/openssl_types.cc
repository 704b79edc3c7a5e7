#include "server/base/openssl_types.h"

#include <openssl/err.h>

namespace dtrust {

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

absl::string_view BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return absl::string_view(data, size > 0 ? static_cast<size_t>(size) : 0);
}

}  // namespace dtrust
