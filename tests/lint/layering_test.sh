#!/usr/bin/env bash
# Checks the dependency rules of docs/architecture.md on the sources: each
# directory includes only the dtrust directories it may depend on, and
# libldap, gRPC and prometheus-cpp stay in the adapters that own them.
# Usage: layering_test.sh SOURCE_DIR
set -uo pipefail
cd "$1"

# directory -> the dtrust directories its files may include (besides itself).
declare -A allowed=(
  [server/base]=""
  [server/core]="server/base"
  [server/auth]="server/base server/core"
  [server/mirror]="server/base server/core"
  [server/postfix]="server/base server/core"
  [server/metrics]="server/base server/core"
  [server/ldap]="server/base server/core server/auth server/mirror"
  [server/embedded]="server/base server/core server/auth server/ldap"
  [server/grpc]="server/base server/core server/auth server/mirror dtrust/v1"
  [client]="server/base server/core dtrust/v1"
  [client/lib]="client server/base server/core server/mirror dtrust/v1 dtrust"
  [client/lib/include/dtrust]="dtrust"
  [client/examples]="dtrust"
)
# directory -> system headers its files may not include (extended regex).
declare -A forbidden=(
  [server/base]="<(ldap|lber)\.h>|grpcpp/|\"prometheus/"
  [server/core]="<(ldap|lber)\.h>|grpcpp/|\"prometheus/"
  [server/auth]="<(ldap|lber)\.h>|grpcpp/|\"prometheus/"
  [server/mirror]="<(ldap|lber)\.h>|grpcpp/|\"prometheus/"
  [server/postfix]="<(ldap|lber)\.h>|grpcpp/|\"prometheus/"
  [server/metrics]="<(ldap|lber)\.h>|grpcpp/"
  [server/ldap]="grpcpp/|\"prometheus/"
  [server/embedded]="grpcpp/|\"prometheus/"
  [server/grpc]="<(ldap|lber)\.h>|\"prometheus/"
  [client]="<(ldap|lber)\.h>|\"prometheus/"
  [client/lib]="<(ldap|lber)\.h>|\"prometheus/"
  # The installed headers stand alone: C/C++ standard headers only.
  [client/lib/include/dtrust]="<(ldap|lber)\.h>|<(openssl|grpcpp|google)/|\"absl/|prometheus/"
  # The examples use nothing but the installed API (and OpenSSL).
  [client/examples]="<(ldap|lber)\.h>|<grpcpp/|\"absl/|prometheus/"
)

failures=0
for dir in "${!allowed[@]}"; do
  ok_dirs="$dir ${allowed[$dir]}"
  files=("$dir"/*.h "$dir"/*.cc "$dir"/*.hpp "$dir"/*.c)
  files=($(ls "${files[@]}" 2>/dev/null))
  while IFS=: read -r file line include; do
    target=$(sed -E 's|^#include "([^"]*)/[^/"]*".*|\1|' <<<"$include")
    permitted=no
    for ok in $ok_dirs; do
      [ "$target" = "$ok" ] && permitted=yes
    done
    if [ $permitted = no ]; then
      echo "$file:$line: $dir may not include $target: $include"
      failures=$((failures + 1))
    fi
  done < <(grep -Hn -E '^#include "(server|client|dtrust)/' "${files[@]}")
  while IFS= read -r hit; do
    echo "$hit: not allowed in $dir"
    failures=$((failures + 1))
  done < <(grep -Hn -E "^#include ${forbidden[$dir]}" "${files[@]}" |
    grep -E "${forbidden[$dir]}")
done
if [ $failures -ne 0 ]; then
  echo "layering: $failures include(s) break the rules of docs/architecture.md"
  exit 1
fi
echo "layering: every include follows docs/architecture.md"
