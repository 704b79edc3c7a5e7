#!/usr/bin/env bash
# The sanitizer tier (CI runs it after tests/run-tests.sh): builds dtrust
# with clang, AddressSanitizer + UndefinedBehaviorSanitizer and the fuzzer's
# instrumentation in its own build directory, then runs the unit and slapd
# tests there (any sanitizer report fails them) and each libFuzzer harness
# for DTRUST_FUZZ_SECONDS (default 30) from its committed corpus.
# Fresh Debian bookworm, as root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${DTRUST_SANITIZE_BUILD_DIR:-$top/build-sanitize}
"$top/deploy/install-deps.sh"
export CC=clang-14 CXX=clang++-14
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBUILD_TESTING=ON -DDTRUST_SANITIZE=ON -DDTRUST_FUZZ=ON \
  -DDTRUST_FUZZ_SECONDS="${DTRUST_FUZZ_SECONDS:-30}" >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
# halt_on_error: the first report ends the test (and fails it).
export ASAN_OPTIONS=halt_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
ctest --output-on-failure -j 2 --timeout 600 -L '^(unit|slapd)$' || status=1
ctest --output-on-failure -j 2 -L '^fuzz$' || status=1
exit $status
