#!/usr/bin/env bash
# Runs clang-tidy with the tree's .clang-tidy over every dtrust source file
# (server/, client/, tests/) in BUILD's compile_commands.json. Fails on any
# finding (the config makes every check an error).
# Usage: clang_tidy.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
top=$1
build=$2
if ! command -v run-clang-tidy-14 >/dev/null; then
  echo "clang_tidy: run-clang-tidy-14 missing (deploy/install-deps.sh installs clang-tidy-14)" >&2
  exit 1
fi
# Generated protobuf sources live in BUILD; only the tree's own files count.
exec run-clang-tidy-14 -quiet -clang-tidy-binary "$(command -v clang-tidy-14)" -p "$build" -j "$(nproc)" \
  "^$top/(server|client|tests)/.*\.cc\$"
