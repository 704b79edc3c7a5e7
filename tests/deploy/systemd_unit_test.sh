#!/usr/bin/env bash
# Holds deploy/systemd/dtrustd.service to its sandbox: systemd-analyze's
# overall exposure level must be at most 2.0 ("OK"). Offline: needs the
# systemd-analyze binary (package systemd), not a running systemd.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
unit=$top/deploy/systemd/dtrustd.service
limit=2.0

report=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) || {
  echo "$report" >&2
  echo "FAIL: systemd-analyze security failed on $unit" >&2
  exit 1
}
# "→ Overall exposure level for dtrustd.service: 1.1 OK 🙂"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
if [ -z "$exposure" ]; then
  echo "$report" >&2
  echo "FAIL: no \"Overall exposure level\" line in systemd-analyze's output" >&2
  exit 1
fi
if ! awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e <= l) }'; then
  echo "$report" >&2
  echo "FAIL: $unit: exposure $exposure, above $limit" >&2
  exit 1
fi
echo "dtrustd.service: exposure $exposure (at most $limit)"
