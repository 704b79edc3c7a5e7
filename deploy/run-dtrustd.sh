#!/usr/bin/env bash
# Sets up and runs dtrustd on its embedded directory (fresh Debian bookworm,
# as root): installs the packages, builds, installs `dtrust` and `dtrustd`
# into /usr/local, then runs dtrustd in the foreground with its data in
# /var/lib/dtrust, serving gRPC on 127.0.0.1:7750. Extra arguments go to
# dtrustd (e.g. --listen, --data-dir). Stop it with Ctrl-C.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" -DBUILD_TESTING=OFF
cmake --install "${DTRUST_BUILD_DIR:-$top/build}" --prefix /usr/local >/dev/null
exec /usr/local/sbin/dtrustd "$@"
