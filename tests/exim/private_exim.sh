#!/usr/bin/env bash
# Installs Debian's Exim (exim4-daemon-heavy 4.96) into a private root for the
# Exim end-to-end tests, without making it the system MTA: installing the
# package the usual way would remove Postfix (both provide
# mail-transport-agent), which the Postfix tests need. Idempotent: does
# nothing when ROOT already holds the binary. Run as root.
#
# - the .debs are fetched with `apt-get download` and unpacked with
#   `dpkg-deb -x` into ROOT (default /opt/dtrust-exim): no maintainer scripts
#   run, no system configuration changes;
# - the shared libraries the binary needs that Postfix does not already
#   pull in are packages of their own (deploy/install-deps.sh installs them);
# - Exim's compiled-in user Debian-exim is created (system user, no home);
# - Exim re-executes itself as /usr/sbin/exim4 for deliveries and queue
#   runs: that path becomes a symbolic link to ROOT's binary (Postfix does
#   not use it).
# Prints ROOT/usr/sbin/exim4, the binary to run with -C CONFIG.
# Usage: private_exim.sh [ROOT]
set -euo pipefail

root=${1:-/opt/dtrust-exim}
exim=$root/usr/sbin/exim4

[ "$(id -u)" -eq 0 ] || { echo "private_exim: must run as root" >&2; exit 1; }

if [ ! -x "$exim" ]; then
  download=$(mktemp -d /tmp/dtrust-exim-debs-XXXXXX)
  # apt-get download fetches as user _apt when it can write there.
  chown _apt "$download" 2>/dev/null || true
  trap 'rm -rf "$download"' EXIT
  (cd "$download" && apt-get download -q exim4-daemon-heavy exim4-base \
    >/dev/null) || {
    echo "private_exim: apt-get download failed (apt-get update first?)" >&2
    exit 1
  }
  mkdir -p "$root"
  for deb in "$download"/*.deb; do
    dpkg-deb -x "$deb" "$root"
  done
fi

id Debian-exim >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin Debian-exim

if [ "$(readlink /usr/sbin/exim4 2>/dev/null)" != "$exim" ]; then
  if [ -e /usr/sbin/exim4 ] && [ ! -L /usr/sbin/exim4 ]; then
    echo "private_exim: /usr/sbin/exim4 is a real Exim: use it" >&2
    exit 1
  fi
  ln -sfn "$exim" /usr/sbin/exim4
fi

missing=$(ldd "$exim" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
  echo "private_exim: $exim needs $missing (run deploy/install-deps.sh)" >&2
  exit 1
fi
echo "$exim"
