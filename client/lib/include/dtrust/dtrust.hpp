// libdtrust for C++: owning handles over the C API (dtrust.h), header-only,
// so the library's ABI stays the C one. Thread safety and error meaning are
// the C API's.
#ifndef DTRUST_DTRUST_HPP_
#define DTRUST_DTRUST_HPP_

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dtrust/dtrust.h"

namespace dtrust::lib {

// One verification's outcome, copied out of a dtrust_result.
struct Result {
  dtrust_status status = DTRUST_OK;
  dtrust_verdict verdict = DTRUST_VERDICT_NONE;
  std::string reason;

  bool trusted() const { return verdict == DTRUST_VERDICT_TRUSTED; }
};

// A dtrust_client: configure with Set, then Connect; afterwards Verify (and
// the SSL hook) may be used from any thread. Move-only. Set and Connect
// throw std::runtime_error with dtrust_last_error()'s message.
class Client {
 public:
  Client() : client_(dtrust_client_new(), &dtrust_client_free) {
    if (client_ == nullptr) throw std::bad_alloc();
  }

  // Options as for dtrust_client_set ("endpoint", "timeout-ms", ...).
  Client& Set(const std::string& option, const std::string& value) {
    Check(dtrust_client_set(get(), option.c_str(), value.c_str()));
    return *this;
  }
  Client& SetFromEnvironment() {
    Check(dtrust_client_set_from_environment(get()));
    return *this;
  }
  Client& Connect() {
    Check(dtrust_client_connect(get()));
    return *this;
  }
  // dtrust_client_wait_ready: throws when not ready within `timeout_ms`.
  Client& WaitReady(int timeout_ms) {
    Check(dtrust_client_wait_ready(get(), timeout_ms));
    return *this;
  }

  // dtrust_verify: never throws for dtrust's answer (see Result::status).
  Result Verify(std::string_view der, const std::string& expected_server,
                const std::string& expected_domain) {
    const std::unique_ptr<dtrust_result, decltype(&dtrust_result_free)> result(
        dtrust_verify(get(), reinterpret_cast<const unsigned char*>(der.data()),
                      der.size(), expected_server.c_str(),
                      expected_domain.c_str()),
        &dtrust_result_free);
    if (result == nullptr) throw std::bad_alloc();
    return {dtrust_result_status(result.get()),
            dtrust_result_verdict(result.get()),
            dtrust_result_reason(result.get())};
  }

  // For dtrust_ssl_ctx_install; owned by this Client.
  dtrust_client* get() const { return client_.get(); }

 private:
  static void Check(dtrust_status status) {
    if (status != DTRUST_OK) throw std::runtime_error(dtrust_last_error());
  }

  std::unique_ptr<dtrust_client, decltype(&dtrust_client_free)> client_;
};

}  // namespace dtrust::lib

#endif  // DTRUST_DTRUST_HPP_
