#!/usr/bin/env bash
# Sets up and runs dtrustd on its embedded directory (fresh Debian bookworm,
# as root): installs the packages, builds, installs `dtrust` and `dtrustd`
# into /usr/local, then runs dtrustd in the foreground as the unprivileged
# system user `dtrust` (created if missing), with its data in /var/lib/dtrust
# (dtrust's, mode 0700) and /run/dtrust (dtrust's, 0755) for its unix socket.
# Extra arguments go to dtrustd (e.g. --listen, --data-dir; a data dir
# elsewhere must belong to dtrust). Stop it with Ctrl-C.
# deploy/systemd/dtrustd.service runs it the same way as a service.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" -DBUILD_TESTING=OFF
cmake --install "${DTRUST_BUILD_DIR:-$top/build}" --prefix /usr/local >/dev/null

# The service account: a system user and group, no login, no home of its own.
getent group dtrust >/dev/null || groupadd --system dtrust
getent passwd dtrust >/dev/null ||
  useradd --system --gid dtrust --home-dir /var/lib/dtrust --no-create-home \
    --shell /usr/sbin/nologin --comment "dtrust daemon" dtrust
# Its directories; chown -R takes over data a dtrustd run as root left.
install -d -o dtrust -g dtrust -m 0700 /var/lib/dtrust
chown -R dtrust:dtrust /var/lib/dtrust
install -d -o dtrust -g dtrust -m 0755 /run/dtrust

# Files it creates are its own only (as UMask=0077 in the systemd unit);
# dtrustd sets its sockets' modes itself. No capabilities, none to regain.
umask 0077
exec setpriv --reuid=dtrust --regid=dtrust --init-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all /usr/local/sbin/dtrustd "$@"
