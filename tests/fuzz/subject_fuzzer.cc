// RFC 4514 subject parsing for `dtrust request` and `dtrust selfsign`
// (--subject "CN=mx1.example,O=Example"): what parses must encode as an
// X.509 name, and that name, printed back as RFC 4514, must parse again.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "client/x509_name.h"
#include "tests/fuzz/fuzz_support.h"

DTRUST_FUZZ_QUIET_LOGS()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dtrust::cli::Subject;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Subject> subject = Subject::Parse(input, "--subject");
  if (!subject.ok()) return 0;
  const auto name = subject->ToX509Name();
  dtrust::fuzz::Require(name.ok(), "a parsed subject does not encode");
  const absl::StatusOr<Subject> again =
      Subject::Parse(dtrust::cli::FormatRfc4514(name->get()), "--subject");
  dtrust::fuzz::Require(again.ok(), "a printed subject does not parse again");
  const auto& before = subject->attributes();
  const auto& after = again->attributes();
  dtrust::fuzz::Require(before.size() == after.size(),
                        "a printed subject parses to other attributes");
  for (size_t i = 0; i < before.size(); ++i) {
    dtrust::fuzz::Require(
        before[i].type == after[i].type && before[i].value == after[i].value,
        "a printed subject parses to other attributes");
  }
  return 0;
}
