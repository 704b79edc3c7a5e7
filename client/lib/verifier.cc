#include "client/lib/verifier.h"

#include "absl/strings/str_cat.h"

namespace dtrust::lib {

absl::StatusOr<VerifyAnswer> RpcVerifier::Verify(const VerifyQuery& query) {
  v1::VerifyRequest request;
  request.set_sha256(std::string(query.sha256.bytes()));
  request.set_spki_sha256(std::string(query.spki_sha256.bytes()));
  request.set_expected_server(query.expected_server);
  request.set_expected_domain(query.expected_domain);
  absl::StatusOr<v1::VerifyResponse> response = dtrustd_->Verify(request);
  if (!response.ok()) {
    return absl::UnavailableError(std::string(response.status().message()));
  }
  if (response->verdict() <= v1::VERDICT_UNSPECIFIED ||
      response->verdict() > v1::PIN_NOT_YET_ACTIVE) {
    return absl::UnavailableError(
        absl::StrCat("dtrustd answered an unknown verdict (",
                     static_cast<int>(response->verdict()), ")"));
  }
  return VerifyAnswer{
      .verdict = static_cast<dtrust_verdict>(response->verdict()),
      .reason = response->reason()};
}

}  // namespace dtrust::lib
