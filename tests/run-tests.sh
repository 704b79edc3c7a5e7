#!/usr/bin/env bash
# Sets up and runs every dtrust test (fresh Debian bookworm, as root):
# installs the packages, builds with tests, runs ctest. The tests start their
# own slapd (and dtrustd) instances on loopback and remove them afterwards.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${DTRUST_BUILD_DIR:-$top/build}
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" -DBUILD_TESTING=ON
cd "$build"
ctest --output-on-failure -j 2 --timeout 300
