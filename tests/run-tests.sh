#!/usr/bin/env bash
# Sets up and runs every dtrust test (fresh Debian bookworm, as root):
# installs the packages, builds with tests, runs ctest. The tests start their
# own slapd (and dtrustd) instances on loopback and remove them afterwards.
# DTRUST_WERROR=ON (as .ci/run sets) builds with -Werror.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${DTRUST_BUILD_DIR:-$top/build}
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" -DBUILD_TESTING=ON -DDTRUST_WERROR="${DTRUST_WERROR:-OFF}"
cd "$build"

# Every test carries exactly one tier label (tests/CMakeLists.txt).
untiered=$(ctest -N -LE '^(unit|slapd|e2e|bench|lint)$' |
  sed -n 's/^Total Tests: //p')
if [ "$untiered" != 0 ]; then
  echo "run-tests: $untiered tests without a tier label:" >&2
  ctest -N -LE '^(unit|slapd|e2e|bench|lint)$' >&2
  exit 1
fi

# The unit tier runs where slapd cannot start (its binary masked in a private
# mount namespace), which proves it needs no server; then everything else.
status=0
unshare --mount sh -c \
  'mount --bind /bin/false /usr/sbin/slapd &&
   exec ctest --output-on-failure -j 2 --timeout 300 -L "^unit\$"' ||
  status=1
ctest --output-on-failure -j 2 --timeout 300 -LE '^unit$' || status=1
exit $status
