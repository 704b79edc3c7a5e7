#!/usr/bin/env bash
# The .deb as `cpack -G DEB` builds it from BUILD-DIR (into a scratch
# directory, so the build directory's own package is left alone): lintian
# reports no error and no warning (the info-level tags that remain are listed
# in the README, "Install from a package"), the version is the Debian
# changelog's, /etc/dtrust/dtrustd.conf is a conffile, and the dependencies
# name the libraries and slapd.
#   lintian_test.sh BUILD-DIR SOURCE-DIR
set -euo pipefail
build=$1 source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
fail() {
  echo "FAIL: $*" >&2
  failed=1
}

cpack -G DEB -B "$scratch" --config "$build/CPackConfig.cmake" >"$scratch/cpack.log" 2>&1 || {
  cat "$scratch/cpack.log" >&2
  echo "FAIL: cpack -G DEB" >&2
  exit 1
}
deb=$(ls "$scratch"/dtrust_*.deb)

report=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v '^running with root privileges' || true)
if grep -q '^[EW]: ' <<<"$report"; then
  fail "lintian $deb:"$'\n'"$report"
fi

version=$(dpkg-deb -f "$deb" Version)
changelog_version=$(dpkg-parsechangelog -l "$source/deploy/debian/changelog" -S Version)
[ "$version" = "$changelog_version" ] ||
  fail "package version $version, changelog's $changelog_version"

dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/dtrust/dtrustd.conf ||
  fail "/etc/dtrust/dtrustd.conf is no conffile"

depends=$(dpkg-deb -f "$deb" Depends)
for package in slapd adduser libldap- libgrpc++ libprotobuf libssl; do
  grep -q "\(^\|, \)$package" <<<"$depends" || fail "Depends lacks $package: $depends"
done

[ "$failed" = 0 ] && echo "$(basename "$deb"): lintian clean; conffiles and Depends right"
exit "$failed"
