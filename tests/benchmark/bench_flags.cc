#include "tests/benchmark/bench_flags.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dtrust::bench {

void UsageError(absl::string_view program, absl::string_view problem) {
  const std::string name(program);
  std::fprintf(stderr, "%s: %s (see %s --help)\n", name.c_str(),
               std::string(problem).c_str(), name.c_str());
  std::exit(2);
}

const CLI::Validator& PositiveInteger() {
  static const CLI::Validator* const kPositiveInteger = new CLI::Validator(
      [](std::string& text) -> std::string {
        int64_t number = 0;
        if (absl::SimpleAtoi(text, &number) && number >= 1) return "";
        return absl::StrCat("\"", text, "\" is not a positive integer");
      },
      /*validator_desc=*/"");
  return *kPositiveInteger;
}

void ParseFlagsOrExit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    std::exit(0);
  } catch (const CLI::ParseError& error) {
    UsageError(app.get_name(), error.what());
  }
}

}  // namespace dtrust::bench
