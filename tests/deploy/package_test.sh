#!/usr/bin/env bash
# The .deb on this machine (as root; it changes the machine, so ctest runs
# it alone): built by `cpack -G DEB` from BUILD-DIR, installed with dpkg,
# dtrustd started the way its installed unit says (ExecStart=, User=, the
# state and runtime directories systemd would make; this machine runs no
# systemd) with the installed /etc/dtrust/dtrustd.conf, a certificate
# published and verified with the installed /usr/bin/dtrust, dtrustd stopped,
# the package purged. Afterwards nothing of it is left but what Debian
# packages keep on purge: the system user and group dtrust (files anywhere
# may still be owned by its uid). The test then removes those too when it
# made them, so the machine is as before.
#   package_test.sh BUILD-DIR
set -euo pipefail
build=$1
scratch=$(mktemp -d)
unit=/lib/systemd/system/dtrustd.service
wants=/etc/systemd/system/multi-user.target.wants/dtrustd.service
failed=0
fail() {
  echo "FAIL: $*" >&2
  failed=1
}
die() {
  echo "FAIL: $*" >&2
  exit 1
}

# What is not ours is not touched: an installed dtrust, or a dtrustd's files
# from elsewhere (deploy/run-dtrustd.sh), stop the test before it changes
# anything.
[ "$(id -u)" = 0 ] || die "needs root (dpkg)"
if dpkg-query -W -f='${Status}' dtrust 2>/dev/null | grep -qv 'not-installed'; then
  die "a dtrust package is installed here already; not touching it"
fi
for path in /etc/dtrust /var/lib/dtrust /run/dtrust "$unit" "$wants"; do
  [ ! -e "$path" ] || die "$path exists already; not touching it"
done
user_existed=no group_existed=no
if getent passwd dtrust >/dev/null; then user_existed=yes; fi
if getent group dtrust >/dev/null; then group_existed=yes; fi

dtrustd_pid=
# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
  if [ -n "$dtrustd_pid" ]; then
    kill "$dtrustd_pid" 2>/dev/null || true
    wait "$dtrustd_pid" 2>/dev/null || true
  fi
  if dpkg-query -W dtrust >/dev/null 2>&1; then
    dpkg --purge dtrust >/dev/null 2>&1 || true
  fi
  rm -rf /run/dtrust
  if [ "$user_existed" = no ] && getent passwd dtrust >/dev/null; then
    userdel dtrust || true
  fi
  if [ "$group_existed" = no ] && getent group dtrust >/dev/null; then
    groupdel dtrust || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

cpack -G DEB -B "$scratch" --config "$build/CPackConfig.cmake" >"$scratch/cpack.log" 2>&1 ||
  die "cpack -G DEB: $(cat "$scratch/cpack.log")"
deb=$(ls "$scratch"/dtrust_*.deb)
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' |
  grep -v '^$' >"$scratch/files"

# Installed: the user the postinst made, the unit enabled and not started.
dpkg -i "$deb" >"$scratch/dpkg.log" 2>&1 || die "dpkg -i: $(cat "$scratch/dpkg.log")"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd dtrust) ||
  die "the postinst made no user dtrust"
[ "$uid" -lt 1000 ] || fail "dtrust is no system user (uid $uid)"
[ "$shell" = /usr/sbin/nologin ] || fail "dtrust's shell is $shell"
[ "$home" = /var/lib/dtrust ] || fail "dtrust's home is $home"
[ "$(readlink "$wants")" = "$unit" ] || fail "the unit is not enabled ($wants)"
pgrep -u dtrust -x dtrustd >/dev/null && fail "installing started dtrustd"
dpkg-query -W -f='${Conffiles}' dtrust | grep -q '^ /etc/dtrust/dtrustd.conf ' ||
  fail "/etc/dtrust/dtrustd.conf is no conffile"
for page in dtrust dtrustd dtrustd.conf; do
  man -w "$page" | grep -q "^/usr/share/man/" || fail "man $page: not installed"
done

# Started as the unit says, by hand.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
run_user=$(sed -n 's/^User=//p' "$unit")
[ "${exec_start%% *}" = /usr/sbin/dtrustd ] || fail "ExecStart=$exec_start"
[ "$run_user" = dtrust ] || fail "User=$run_user"
as_dtrust=(setpriv --reuid=dtrust --regid=dtrust --init-groups --no-new-privs)
install -d -o dtrust -g dtrust -m 0700 /var/lib/dtrust # StateDirectory=
install -d -o dtrust -g dtrust -m 0755 /run/dtrust     # RuntimeDirectory=
"${as_dtrust[@]}" /usr/sbin/dtrustd --check-config >"$scratch/check.log" 2>&1 ||
  fail "the installed config is refused: $(cat "$scratch/check.log")"
grep -q "configuration valid (/etc/dtrust/dtrustd.conf)" "$scratch/check.log" ||
  fail "dtrustd --check-config did not read /etc/dtrust/dtrustd.conf: $(cat "$scratch/check.log")"
# shellcheck disable=SC2086  # ExecStart= is split into words as systemd does
(umask 0077 && exec "${as_dtrust[@]}" $exec_start) >"$scratch/dtrustd.log" 2>&1 &
dtrustd_pid=$!
for _ in $(seq 300); do
  grep -q "dtrustd ready" "$scratch/dtrustd.log" && break
  kill -0 "$dtrustd_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "dtrustd ready" "$scratch/dtrustd.log" ||
  die "dtrustd did not get ready in 30 s: $(cat "$scratch/dtrustd.log")"

# Published and verified with the installed CLI, over the unix socket.
/usr/bin/dtrust selfsign --subject CN=mx1.pkg-test.example \
  --dns-name mx1.pkg-test.example --key "$scratch/mx1.key" \
  --out "$scratch/mx1.pem" >/dev/null || fail "dtrust selfsign"
/usr/bin/dtrust publish --server mx1.pkg-test.example \
  --domain pkg-test.example "$scratch/mx1.pem" >/dev/null || fail "dtrust publish"
verdict=$(/usr/bin/dtrust verify "$scratch/mx1.pem" --domain pkg-test.example) ||
  fail "dtrust verify: $verdict"
grep -q '^TRUSTED' <<<"$verdict" || fail "verify said: $verdict"
/usr/bin/dtrust selfsign --subject CN=other.example --key "$scratch/o.key" \
  --out "$scratch/o.pem" >/dev/null || fail "dtrust selfsign"
set +e
verdict=$(/usr/bin/dtrust verify "$scratch/o.pem")
status=$?
set -e
if [ "$status" != 1 ] || ! grep -q '^NOT_PUBLISHED' <<<"$verdict"; then
  fail "verify of an unpublished certificate: exit $status, $verdict"
fi
[ -d /var/lib/dtrust/db ] || fail "no embedded directory in /var/lib/dtrust"

# Stopped (SIGTERM, as systemd does); systemd would remove /run/dtrust.
kill "$dtrustd_pid"
(sleep 30 && kill -KILL "$dtrustd_pid") >/dev/null 2>&1 &
watchdog=$!
status=0
wait "$dtrustd_pid" || status=$?
kill "$watchdog" 2>/dev/null || true
[ "$status" = 0 ] || fail "dtrustd exited $status on SIGTERM (137: killed after 30 s)"
dtrustd_pid=
rm -rf /run/dtrust

# Purged: none of the package's files, no config, no data, no unit state.
dpkg --purge dtrust >"$scratch/dpkg.log" 2>&1 || fail "dpkg --purge: $(cat "$scratch/dpkg.log")"
dpkg-query -W dtrust >/dev/null 2>&1 && fail "dpkg still knows dtrust after purge"
while read -r path; do
  # Directories other packages own (/usr, /usr/share/man, ...) stay.
  [ -d "$path" ] && dpkg -S "$path" >/dev/null 2>&1 && continue
  [ ! -e "$path" ] || fail "left after purge: $path"
done <"$scratch/files"
for path in /etc/dtrust /var/lib/dtrust "$wants" \
  /var/lib/systemd/deb-systemd-helper-enabled/dtrustd.service.dsh-also \
  /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/dtrustd.service \
  /var/lib/systemd/deb-systemd-helper-masked/dtrustd.service \
  /etc/systemd/system/dtrustd.service; do
  if [ -e "$path" ] || [ -L "$path" ]; then fail "left after purge: $path"; fi
done
getent passwd dtrust >/dev/null || fail "purge removed the user dtrust (Debian keeps it)"

[ "$failed" = 0 ] && echo "$(basename "$deb"): installed, served, purged clean"
exit "$failed"
