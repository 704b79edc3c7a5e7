#!/usr/bin/env bash
# Runs the README's walkthrough block line by line, exactly as written, against
# a real dtrustd on its embedded directory, and checks every "# VERDICT"
# comment against what `dtrust` printed and its exit status.
# Usage: walkthrough_test.sh README.md BUILD_DIR
set -uo pipefail
readme=$1
build=$2
work=$(mktemp -d /tmp/dtrust-readme-XXXXXX)
dtrustd_pid=
cleanup() {
  [ -n "$dtrustd_pid" ] && kill "$dtrustd_pid" 2>/dev/null && wait "$dtrustd_pid"
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/dtrustd.log" ] && tail -20 "$work/dtrustd.log"; exit 1; }

"$build/server/dtrustd" --data-dir "$work/data" --listen "unix:$work/dtrustd.sock" \
  >"$work/dtrustd.log" 2>&1 &
dtrustd_pid=$!
for _ in $(seq 100); do
  grep -q "dtrustd ready" "$work/dtrustd.log" && break
  kill -0 "$dtrustd_pid" 2>/dev/null || fail "dtrustd exited"
  sleep 0.1
done
grep -q "dtrustd ready" "$work/dtrustd.log" || fail "dtrustd did not become ready"

export PATH="$build/client:$build/server:$PATH"
export DTRUST_ENDPOINT="unix:$work/dtrustd.sock"
cd "$work"
# The walkthrough verifies an unpublished "other.pem": make one.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=other.example" -keyout other.key -out other.pem -days 30 2>/dev/null

# The first ``` block after "## Walkthrough"; join "\" continuations.
block=$(awk '/^## Walkthrough/{w=1} w&&/^```/{if(inb){exit}inb=1;next} inb' "$readme" |
        sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
[ -n "$block" ] || fail "no walkthrough block in $readme"
checked=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  command=${line%%#*}
  expected=
  if [[ "$line" == *"#"* ]]; then
    expected=$(sed -E 's/.*# ([A-Z_]+).*/\1/' <<<"$line")
    [[ "$expected" =~ ^[A-Z_]+$ ]] || expected=
  fi
  echo "\$ $command"
  output=$(bash -c "$command" 2>&1)
  status=$?
  echo "$output"
  if [ -n "$expected" ]; then
    first_word=$(head -1 <<<"$output" | awk '{print $1}')
    [ "$first_word" = "$expected" ] || fail "expected $expected, got: $output"
    want_status=1
    [ "$expected" = TRUSTED ] && want_status=0
    [ "$status" -eq "$want_status" ] || fail "exit status $status for $expected, want $want_status"
    checked=$((checked + 1))
  else
    [ "$status" -eq 0 ] || fail "exit status $status: $command"
  fi
done <<<"$block"
[ "$checked" -eq 4 ] || fail "checked $checked verdicts, the walkthrough has 4"
echo "walkthrough: 1 passed, 0 failed"
