#!/usr/bin/env bash
# libdtrust as a C programmer gets it: installed into a scratch prefix, a C
# program built with exactly `cc prog.c $(pkg-config --cflags --libs dtrust)`
# (strict C99, warnings as errors) and run; the library exports only dtrust_*
# and carries its SONAME.
#   pkg_config_test.sh BUILD-DIR
set -euo pipefail
build=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build/client/lib" --prefix "$scratch/prefix" >/dev/null
pc=$(find "$scratch/prefix" -name dtrust.pc)
export PKG_CONFIG_PATH=${pc%/dtrust.pc}
libdir=$(pkg-config --variable=libdir dtrust)

cat >"$scratch/prog.c" <<'PROG'
#include <dtrust/dtrust.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  static const unsigned char kNotACertificate[] = {0x30, 0x03, 0x02, 0x01};
  dtrust_client* client = dtrust_client_new();
  if (dtrust_client_set(client, "colour", "red") != DTRUST_ERR_INVALID_ARGUMENT)
    return 10;
  printf("%s\n", dtrust_last_error());
  if (dtrust_client_set(client, "endpoint", "unix:/nonexistent.sock") ||
      dtrust_client_set(client, "timeout-ms", "200") ||
      dtrust_client_connect(client) != DTRUST_OK)
    return 11;
  dtrust_result* result = dtrust_verify(client, kNotACertificate,
                                        sizeof kNotACertificate, NULL,
                                        "org-b.example");
  printf("%d %s %s\n", dtrust_result_status(result),
         dtrust_verdict_name(dtrust_result_verdict(result)),
         dtrust_result_reason(result));
  dtrust_result_free(result);
  dtrust_client_free(client);
  return 0;
}
PROG
# shellcheck disable=SC2046  # pkg-config's words are meant to split
cc -std=c99 -pedantic -Wall -Wextra -Werror "$scratch/prog.c" -o "$scratch/prog" \
  $(pkg-config --cflags --libs dtrust)
out=$(LD_LIBRARY_PATH=$libdir "$scratch/prog")
echo "$out"
grep -q 'unknown option "colour"' <<<"$out" || { echo "FAIL: no option error"; exit 1; }
grep -q '^1 NONE peer certificate' <<<"$out" || { echo "FAIL: bad certificate not refused"; exit 1; }

readelf -d "$libdir/libdtrust.so.0" | grep -q 'SONAME.*\[libdtrust.so.0\]' ||
  { echo "FAIL: no SONAME libdtrust.so.0"; exit 1; }
others=$(nm -D --defined-only "$libdir/libdtrust.so.0" |
  awk '$2 ~ /^[TDBVWR]$/ && $3 !~ /^dtrust_/ {print $3}')
[ -z "$others" ] || { echo "FAIL: exports beyond dtrust_*: $others"; exit 1; }
[ -f "$(pkg-config --variable=includedir dtrust)/dtrust/dtrust.hpp" ] ||
  { echo "FAIL: no C++ header installed"; exit 1; }
echo "pkg_config_test: ok"
