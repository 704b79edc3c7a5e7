#!/usr/bin/env bash
# Runs one libFuzzer harness: first every regression input once (each must
# pass), then fuzzing for SECONDS from the seed corpus. New inputs go to a
# scratch corpus, never into the source tree; a failing input is saved in
# the scratch directory, printed (hex) and the test fails.
#   run_fuzzer.sh FUZZER SEED_DIR REGRESSION_DIR SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 regressions=$3 seconds=$4
name=$(basename "$fuzzer")
scratch=$(mktemp -d "/tmp/dtrust-$name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/corpus" "$scratch/artifacts"

if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
  "$fuzzer" -runs=0 "$regressions"/*
fi

# -timeout: one input taking over 10 s is a finding (a hostile input must
# get a quick answer); -rss_limit_mb bounds memory; -max_len allows a
# certificate chain or a PKCS#12 file.
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=16384 -print_final_stats=1 -artifact_prefix="$scratch/artifacts/" \
  "$scratch/corpus" "$seeds" 2>"$scratch/log" || status=$?
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
  "$scratch/log" | sed "s/^/$name /" || true
if [ "$status" != 0 ]; then
  tail -n 60 "$scratch/log" >&2
  for artifact in "$scratch"/artifacts/*; do
    [ -e "$artifact" ] || continue
    echo "failing input $(basename "$artifact") (add it to $regressions):" >&2
    od -A d -t x1 "$artifact" | head -n 64 >&2
  done
  exit 1
fi
