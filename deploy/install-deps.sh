#!/usr/bin/env bash
# Installs the Debian bookworm packages dtrust needs to build, run and test.
# Idempotent: does nothing when everything is already installed. Run as root.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config
  libldap-dev libssl-dev libabsl-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libgtest-dev libgmock-dev
  # run: the embedded directory, and the LDAP/OpenSSL tools tests use
  slapd ldap-utils openssl
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# slapd's package scripts configure a system directory we never use: dtrust
# runs its own slapd instances from their own config files.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
