#!/bin/bash
# The live mirror's benchmark (issue 4), side by side in one run on this
# machine, printed as Markdown on stdout (progress on stderr):
#   (a) gRPC Verify answered by the mirror (--directory-sync=refresh-and-persist)
#       vs the same Verify answered by one indexed LDAP search per request
#       (--directory-sync=none) vs the empty RPC Ping, at concurrency 1 and 32;
#   (b) Postfix socketmap and policy requests/s and p99 (postfix_bench), with
#       and without the mirror;
#   (c) revocation latency: a change written into LDAP -> first answer
#       showing it (revocation_bench), with the mirror, without it, and
#       with the polling mirror (--directory-sync=poll);
#   (d) 1k, 100k and 1M published certificates, bulk-loaded with slapadd:
#       Verify p50, dtrustd RSS and index size, initial sync time.
# Everything runs on private slapd and dtrustd instances in a temporary
# directory, removed at the end (--keep keeps it, with every log and JSON).
#
#   run_mirror_bench.sh [--quick] [--build DIR] [--sizes "1000 100000 1000000"]
#                       [--rounds 5] [--trials 100] [--keep]
#
# --quick: small sizes and short runs (about 20 s), the ctest smoke test; its
# figures mean nothing. Needs slapd, slapadd, ldapsearch (slapd, ldap-utils)
# and jq. Exit status 0 when every step ran without error.
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
INVOCATION="tests/benchmark/run_mirror_bench.sh$(printf ' %q' "$@")"
BUILD=$SOURCE_DIR/build
QUICK=0
SIZES="1000 100000 1000000"
ROUNDS=5
TRIALS=100
KEEP=0
usage() {
  echo "usage: $0 [--quick] [--build DIR] [--sizes \"N...\"] [--rounds R]" \
       "[--trials T] [--keep]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --build) BUILD=${2:?}; shift ;;
    --sizes) SIZES=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --trials) TRIALS=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    *) usage ;;
  esac
  shift
done
if [ $QUICK = 1 ]; then
  SIZES="1000"; ROUNDS=2; TRIALS=10
  MAIN_CERTS=400; DURATION=300ms; WARMUP=100ms
else
  MAIN_CERTS=10000; DURATION=2s; WARMUP=500ms
fi

BENCH=$BUILD/tests/benchmark
DTRUSTD=$BUILD/server/dtrustd
for tool in "$DTRUSTD" "$BENCH/grpc_bench" "$BENCH/bulk_ldif" \
            "$BENCH/revocation_bench" "$BENCH/postfix_bench" \
            /usr/sbin/slapd /usr/sbin/slapadd /usr/bin/ldapsearch; do
  [ -x "$tool" ] || { echo "$0: $tool is missing (build first?)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 1; }

WORK=$(mktemp -d /tmp/dtrust-mirror-bench-XXXXXX)
SUFFIX="dc=example,dc=org"
BIND_DN="cn=dtrustd,$SUFFIX"
echo -n "mirror-bench-password" > "$WORK/bind.pw"
PIDS=()  # Every process started here, stopped at exit.

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if [ "$pid" -gt 0 ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${PIDS[@]}"; do
    [ "$pid" -gt 0 ] && wait "$pid" 2>/dev/null || true
  done
  if [ $KEEP = 1 ]; then
    echo "kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%T)] $*" >&2; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }  # Seconds since $1.
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# stop PID: SIGTERM to a child started here, then wait for it and forget it
# (so that cleanup never signals a reused pid).
stop() {
  local pid=$1 kept=() p
  [ "$pid" -gt 0 ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

# make_directory NAME CERTS: a slapd database in $WORK/NAME holding the base
# entry, dtrustd's account and CERTS bulk-loaded certificates (none for 0);
# sets SLAPADD_S and DIGESTS (the digest list). Not started.
make_directory() {
  local name=$1 certs=$2 dir=$WORK/$1
  mkdir -p "$dir/db"
  cat > "$dir/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include $SOURCE_DIR/deploy/ldap/dtrust.schema
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
loglevel none
database mdb
suffix "$SUFFIX"
directory $dir/db
maxsize 17179869184
index objectClass,cn eq
index dtrustCertSha256,dtrustSpkiSha256,dtrustMailDomain eq
index entryUUID,entryCSN eq
limits dn.exact="$BIND_DN" size=unlimited time=unlimited
access to attrs=userPassword by anonymous auth by * none
access to dn.subtree="$SUFFIX" by dn.exact="$BIND_DN" write by * none
overlay syncprov
syncprov-checkpoint 100 5
syncprov-sessionlog 10000
EOF
  cat > "$dir/base.ldif" <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
o: example
dc: example

dn: $BIND_DN
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: dtrustd
userPassword: $(cat "$WORK/bind.pw")

EOF
  DIGESTS=$dir/digests
  if [ "$certs" -gt 0 ]; then
    log "$name: writing $certs certificates (bulk_ldif)"
    "$BENCH/bulk_ldif" --certs "$certs" --base-dn "$SUFFIX" \
        --out "$dir/bulk.ldif" --digests "$DIGESTS"
  else
    printf 'dn: ou=servers,%s\nobjectClass: organizationalUnit\nou: servers\n\ndn: ou=domains,%s\nobjectClass: organizationalUnit\nou: domains\n\n' \
        "$SUFFIX" "$SUFFIX" > "$dir/bulk.ldif"
    : > "$DIGESTS"
  fi
  # Not -w as well: slapadd 2.5.13 -q -w aborts (heap corruption) on larger
  # inputs; syncprov finds the contextCSN from the entries at start instead.
  log "$name: slapadd -q"
  local start; start=$(now)
  cat "$dir/base.ldif" "$dir/bulk.ldif" |
      /usr/sbin/slapadd -q -f "$dir/slapd.conf" -b "$SUFFIX" \
      > "$dir/slapadd.log" 2>&1 ||
      { cat "$dir/slapadd.log" >&2; return 1; }
  SLAPADD_S=$(elapsed "$start")
  rm -f "$dir/bulk.ldif"
}

# start_slapd NAME: starts the slapd of make_directory NAME on a free port;
# sets SLAPD_PID and LDAP_URI.
start_slapd() {
  local dir=$WORK/$1 attempt port
  for attempt in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 40000 ))
    LDAP_URI="ldap://127.0.0.1:$port/"
    /usr/sbin/slapd -f "$dir/slapd.conf" -h "$LDAP_URI" -d none \
        > "$dir/slapd.log" 2>&1 &
    SLAPD_PID=$!
    PIDS+=("$SLAPD_PID")
    local deadline=$(( SECONDS + 30 ))
    while [ $SECONDS -lt $deadline ] && kill -0 "$SLAPD_PID" 2>/dev/null; do
      if ldapsearch -x -H "$LDAP_URI" -o nettimeout=1 -s base -b "" \
          namingContexts > /dev/null 2>&1; then
        return 0
      fi
      sleep 0.05
    done
    stop "$SLAPD_PID"  # Port taken, most likely: try another.
  done
  echo "$0: slapd for $1 does not start; its log:" >&2
  cat "$dir/slapd.log" >&2
  return 1
}

# start_dtrustd NAME MODE [ARGS...]: dtrustd --directory-sync=MODE on
# unix:$WORK/NAME.sock against LDAP_URI; returns once GetStatus says serving.
# Sets DTRUSTD_PID, ENDPOINT, READY_S (launch -> serving) and STATUS (the
# GetStatus JSON).
start_dtrustd() {
  local name=$1 mode=$2
  shift 2
  ENDPOINT=unix:$WORK/$name.sock
  local start; start=$(now)
  "$DTRUSTD" --listen "$ENDPOINT" --ldap-uri "$LDAP_URI" --base-dn "$SUFFIX" \
      --bind-dn "$BIND_DN" --bind-password-file "$WORK/bind.pw" \
      --directory-sync="$mode" "$@" > "$WORK/$name.log" 2>&1 &
  DTRUSTD_PID=$!
  PIDS+=("$DTRUSTD_PID")
  until grep -qs "dtrustd ready" "$WORK/$name.log"; do
    if ! kill -0 "$DTRUSTD_PID" 2>/dev/null; then
      echo "$0: dtrustd $name exited; its log:" >&2
      cat "$WORK/$name.log" >&2
      return 1
    fi
    sleep 0.01
  done
  STATUS=$("$BENCH/grpc_bench" --endpoint "$ENDPOINT" --wait-serving 1800s) || {
    echo "$0: dtrustd $name not serving; its log:" >&2
    tail -20 "$WORK/$name.log" >&2
    return 1
  }
  READY_S=$(elapsed "$start")
}

# The Duration field $1 of STATUS (protobuf JSON: "1.5s") in seconds with 3
# decimals, or "-" when absent.
duration_s() {
  jq -r "$1 // \"-\" | if . == \"-\" then . else
         sub(\"s$\"; \"\") | tonumber * 1000 | round / 1000 | tostring end" \
      <<< "$STATUS"
}

# grpc_bench ARGS...: runs it, keeps its JSON line as $WORK/$OUT.json and
# prints its Markdown.
grpc_bench() {
  "$BENCH/grpc_bench" --duration "$DURATION" --warmup "$WARMUP" \
      --rounds "$ROUNDS" "$@" > "$WORK/$OUT.out"
  grep -v '^{' "$WORK/$OUT.out"
  grep '^{' "$WORK/$OUT.out" > "$WORK/$OUT.json"
}

# ---------------------------------------------------------------------------
cat <<EOF
# dtrust mirror benchmark

Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), \
$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, \
Linux $(uname -r) ($(. /etc/os-release && echo "$PRETTY_NAME")); \
$(/usr/sbin/slapd -VV 2>&1 | sed -n 's/.*\(slapd [0-9.]*\).*/OpenLDAP \1/p' | head -1); \
load average at start: $(cut -d' ' -f1-3 /proc/loadavg).
slapd, dtrustd and the load generators share the machine's CPUs.
Run: \`$INVOCATION\` (sizes $SIZES, $ROUNDS rounds, $TRIALS trials)
at $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$SOURCE_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -n "$(git -C "$SOURCE_DIR" status --porcelain 2>/dev/null)" ] && echo " (with uncommitted changes)").
EOF
[ $QUICK = 1 ] && echo && echo "**--quick: a smoke test; these figures mean nothing.**"

# (a) Verify: mirror vs LDAP per request vs Ping ------------------------------
log "main directory: $MAIN_CERTS certificates"
make_directory main "$MAIN_CERTS"
start_slapd main
MAIN_SLAPD=$SLAPD_PID
MAIN_URI=$LDAP_URI
start_dtrustd mirror refresh-and-persist \
    --socketmap-listen "unix:$WORK/mirror.socketmap" \
    --policy-listen "unix:$WORK/mirror.policy"
MIRROR_PID=$DTRUSTD_PID
MIRROR=$ENDPOINT
start_dtrustd none none
NONE_PID=$DTRUSTD_PID
NONE=$ENDPOINT

cat <<EOF

## (a) gRPC Verify: mirror vs one LDAP search per request vs the empty RPC

$MAIN_CERTS published certificates ($(( (MAIN_CERTS + 3) / 4 )) servers, 4 certificates each). Verify by certificate
SHA-256 and expected mail domain, a random published certificate per call (answer TRUSTED). Targets
interleaved in $ROUNDS rounds of $DURATION each (after $WARMUP warmup), order reversed every other round;
median (min–max) over the rounds. *mirror*: dtrustd --directory-sync=refresh-and-persist; *none*: dtrustd
--directory-sync=none (every Verify is an indexed LDAP search). Client: grpc_bench (async gRPC, one
thread) over dtrustd's unix socket, one connection at concurrency 1, four at 32. CPU per call: of
grpc_bench (client) and of dtrustd + slapd (server).
EOF
for concurrency in 1 32; do
  log "(a) concurrency $concurrency"
  echo
  echo "### concurrency $concurrency"
  echo
  OUT=verify-c$concurrency grpc_bench --concurrency "$concurrency" \
      --channels $([ "$concurrency" = 1 ] && echo 1 || echo 4) \
      --digests "$WORK/main/digests" \
      --target "label=mirror-verify,rpc=verify,endpoint=$MIRROR,pid=$MIRROR_PID,pid=$MAIN_SLAPD" \
      --target "label=mirror-ping,rpc=ping,endpoint=$MIRROR,pid=$MIRROR_PID,pid=$MAIN_SLAPD" \
      --target "label=none-verify,rpc=verify,endpoint=$NONE,pid=$NONE_PID,pid=$MAIN_SLAPD" \
      --ratio mirror-verify/mirror-ping --ratio mirror-verify/none-verify
done
cat <<EOF

Goals: Verify/Ping ≤ 1.15× (p50 ratio above), ≥ 30,000 Verify/s at concurrency 32, mirror ≥ 3× none
(calls/s ratio mirror-verify/none-verify).
EOF

# (b) Postfix protocols -------------------------------------------------------
cat <<EOF

## (b) Postfix socketmap and policy delegation

postfix_bench$([ $QUICK = 1 ] && echo " --quick") (its own slapd and dtrustd; 100 domains with one server and certificate each, all
send- and receive-secure; closed-loop clients on dtrustd's unix sockets; then Postfix's own postmap).
EOF
for mode in refresh-and-persist none; do
  log "(b) postfix_bench, --directory-sync=$mode"
  echo
  echo "### dtrustd --directory-sync=$mode"
  echo
  "$BENCH/postfix_bench" $([ $QUICK = 1 ] && echo --quick) \
      --dtrustd-arg "--directory-sync=$mode"
done

# (c) Revocation latency ------------------------------------------------------
cat <<EOF

## (c) Changes written into LDAP by someone else: acknowledgement → first answer showing them

revocation_bench, $TRIALS trials each: a fresh certificate added to the directory with an LDAP add, Verify
polled in a tight loop on the dtrustd measured until TRUSTED; the pin entry deleted, polled until
NOT_PUBLISHED; then a domain put on and taken off the send-secure list (LDAP modify of its
dtrustSendSecurity), ListDomainPolicies polled. Latency from the LDAP operation's acknowledgement.
EOF
# revocation NAME ENDPOINT TRIALS [ARGS...]
revocation() {
  local name=$1 endpoint=$2 trials=$3
  shift 3
  log "(c) revocation latency, $name"
  printf '\n### %s\n\n' "$name"
  "$BENCH/revocation_bench" --endpoint "$endpoint" --ldap-uri "$MAIN_URI" \
      --base-dn "$SUFFIX" --bind-dn "$BIND_DN" \
      --bind-password-file "$WORK/bind.pw" --trials "$trials" "$@" \
      > "$WORK/revocation-$name.out"
  grep -v '^{' "$WORK/revocation-$name.out"
  grep '^{' "$WORK/revocation-$name.out" > "$WORK/revocation-$name.json"
}
revocation mirror "$MIRROR" "$TRIALS"
revocation none "$NONE" "$TRIALS"
stop "$MIRROR_PID"
stop "$NONE_PID"
if [ $QUICK = 0 ]; then
  # Polling sees additions and modifications (modifyTimestamp) at the next
  # poll, deletions only at the next full read: slow, so fewer trials.
  start_dtrustd poll poll --poll-interval 1s
  echo
  echo "*poll*: dtrustd --directory-sync=poll --poll-interval 1s (a full read every 10th poll, the default)."
  revocation poll "$ENDPOINT" $(( TRIALS < 10 ? TRIALS : 10 )) --timeout 60s
  stop "$DTRUSTD_PID"
fi
echo
echo "Goal: unpublish → NOT_PUBLISHED and a domain-list change within 50 ms p99 (mirror)."
stop "$MAIN_SLAPD"

# (d) Scale -------------------------------------------------------------------
cat <<EOF

## (d) Directory size: $(echo $SIZES | sed 's/ /, /g') published certificates

Each size bulk-loaded with \`slapadd -q\` into a stopped slapd of its own (4 certificates per server, 2 servers
per mail domain; real, distinct self-signed P-256 certificates from bulk_ldif), then its slapd and one
dtrustd of each mode started; all kept running, so that the Verify runs of every size and mode are
interleaved (concurrency 1, $ROUNDS rounds of $DURATION, median (min–max)). *serving after*: dtrustd launch →
GetStatus serving (the mirror's initial load included); *initial load*: GetStatus initial_load. RSS:
VmRSS of the mirror dtrustd when serving and after the Verify runs; ΔRSS per certificate against
the mirror dtrustd of an empty directory (first row). Index: GetStatus index_bytes.

| certificates | slapadd s | mirror serving after s | initial load s | RSS serving MiB | RSS after load MiB | ΔRSS B/cert | index bytes | index B/cert | Verify p50 µs mirror | Verify p50 µs none |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
declare -A SLAPADD READY INITIAL INDEX RSS M_PIDS
TARGETS=()
for certs in 0 $SIZES; do
  log "(d) $certs certificates"
  make_directory "size-$certs" "$certs"
  SLAPADD[$certs]=$SLAPADD_S
  start_slapd "size-$certs"
  size_slapd=$SLAPD_PID
  start_dtrustd "size-$certs-mirror" refresh-and-persist
  M_PIDS[$certs]=$DTRUSTD_PID
  READY[$certs]=$READY_S
  INITIAL[$certs]=$(duration_s .initial_load)
  INDEX[$certs]=$(jq -r '.index_bytes | tonumber' <<< "$STATUS")
  RSS[$certs]=$(rss_mib "$DTRUSTD_PID")
  pins=$(jq -r '.pins | tonumber' <<< "$STATUS")
  if [ "$pins" != "$certs" ]; then
    echo "$0: the mirror holds $pins pins, not $certs" >&2
    exit 1
  fi
  if [ "$certs" = 0 ]; then
    stop "$DTRUSTD_PID"
    stop "$size_slapd"
    continue
  fi
  TARGETS+=(--target "label=mirror-$certs,rpc=verify,endpoint=$ENDPOINT,pid=$DTRUSTD_PID,pid=$size_slapd,digests=$DIGESTS")
  start_dtrustd "size-$certs-none" none
  TARGETS+=(--target "label=none-$certs,rpc=verify,endpoint=$ENDPOINT,pid=$DTRUSTD_PID,pid=$size_slapd,digests=$DIGESTS")
done
SMALL=$(echo $SIZES | awk '{ print $1 }')
LARGE=$(echo $SIZES | awk '{ print $NF }')
log "(d) Verify, every size interleaved"
RATIOS=()
if [ "$SMALL" != "$LARGE" ]; then
  RATIOS=(--ratio "mirror-$LARGE/mirror-$SMALL" --ratio "none-$LARGE/none-$SMALL")
fi
OUT=sizes grpc_bench --concurrency 1 "${TARGETS[@]}" "${RATIOS[@]}" \
    > "$WORK/sizes.md"
printf '| 0 | %.1f | %.2f | %s | %s | - | - | %s | - | - | - |\n' \
    "${SLAPADD[0]}" "${READY[0]}" "${INITIAL[0]}" "${RSS[0]}" "${INDEX[0]}"
for certs in $SIZES; do
  jq -r --arg certs "$certs" --arg slapadd "${SLAPADD[$certs]}" \
      --arg ready "${READY[$certs]}" --arg initial "${INITIAL[$certs]}" \
      --arg rss "${RSS[$certs]}" --arg rss_after "$(rss_mib "${M_PIDS[$certs]}")" \
      --arg base "${RSS[0]}" --arg index "${INDEX[$certs]}" '
      def p50($which): .targets[] | select(.label == $which) | .p50_us |
          "\(.median * 10 | round / 10) (\(.min * 10 | round / 10)–\(.max * 10 | round / 10))";
      ($certs | tonumber) as $n |
      "| \($certs) | \($slapadd | tonumber * 10 | round / 10) | \($ready | tonumber * 100 | round / 100) | \($initial) | \($rss) | \($rss_after) | \((($rss | tonumber) - ($base | tonumber)) * 1048576 / $n | round) | \($index) | \(($index | tonumber) / $n | round) | \(p50("mirror-\($certs)")) | \(p50("none-\($certs)")) |"
      ' "$WORK/sizes.json"
done
echo
echo "The Verify runs in full:"
echo
cat "$WORK/sizes.md"

# Summary against the issue's goals -------------------------------------------
jq -r -n --slurpfile c1 "$WORK/verify-c1.json" \
    --slurpfile c32 "$WORK/verify-c32.json" \
    --slurpfile rev "$WORK/revocation-mirror.json" \
    --slurpfile sizes "$WORK/sizes.json" \
    --arg s "$SMALL" --arg l "$LARGE" --arg index "${INDEX[$LARGE]}" '
  def ratio($run; $name; $figure): $run.ratios[] | select(.name == $name) | .[$figure].median;
  def target($run; $which; $figure): $run.targets[] | select(.label == $which) | .[$figure].median;
  def x: (. * 100 | round / 100 | tostring) + "×";
  def ms: (. * 100 | round / 100 | tostring) + " ms";
  def row($goal; $value; $shown; $met): "| \($goal) | \($shown) | \(if $met then "yes" else "**no**" end) |";
  "\n## Against the goals (medians)\n",
  "| goal | measured | met |", "|---|---|---|",
  (ratio($c1[0]; "mirror-verify/mirror-ping"; "p50_us") as $v |
    row("Verify / Ping p50 at concurrency 1 ≤ 1.15×"; $v; $v | x; $v <= 1.15)),
  (ratio($c32[0]; "mirror-verify/mirror-ping"; "p50_us") as $v |
    row("Verify / Ping p50 at concurrency 32 ≤ 1.15×"; $v; $v | x; $v <= 1.15)),
  (target($c32[0]; "mirror-verify"; "calls_per_s") as $v |
    row("Verify/s at concurrency 32 ≥ 30,000"; $v; $v | round; $v >= 30000)),
  (ratio($c1[0]; "mirror-verify/none-verify"; "calls_per_s") as $v |
    row("mirror / none Verify/s at concurrency 1 ≥ 3×"; $v; $v | x; $v >= 3)),
  (ratio($c32[0]; "mirror-verify/none-verify"; "calls_per_s") as $v |
    row("mirror / none Verify/s at concurrency 32 ≥ 3×"; $v; $v | x; $v >= 3)),
  ($rev[0].unpublish.p99_ms as $v |
    row("unpublish → NOT_PUBLISHED p99 ≤ 50 ms"; $v; $v | ms; $v <= 50)),
  ([$rev[0].domain_off.p99_ms, $rev[0].domain_on.p99_ms] | max as $v |
    row("domain-list change p99 ≤ 50 ms (the slower of off, on)"; $v;
        $v | ms; $v <= 50)),
  (if $s == $l then empty else
    ratio($sizes[0]; "mirror-\($l)/mirror-\($s)"; "p50_us") as $v |
    row("Verify p50 at \($l) ≤ 1.2× that at \($s)"; $v; $v | x; $v <= 1.2)
   end),
  ((($index | tonumber) / ($l | tonumber)) as $v |
    row("mirror index ≤ 150 bytes per certificate (at \($l))"; $v;
        "\($v | round) B"; $v <= 150))
'
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine disturbs the figures)."
log "done"
