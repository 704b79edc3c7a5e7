# shellcheck shell=bash
# Harness for the Postfix end-to-end tests, sourced by the *_test.sh scripts.
#
# Each test runs in its own temp dir and its own network namespace:
# - private Postfix instances (`postfix -c DIR`: own config, queue and data
#   directories, maillog_file instead of syslog) listen on loopback addresses
#   *inside* the namespace, so ports (even 25) never collide with other tests
#   or services on the machine. As in Debian's default master.cf, smtpd and
#   smtp run chrooted in the queue directory;
# - the namespace's /etc/hosts (ip netns exec bind-mounts /etc/netns/NS/hosts;
#   chrooted daemons get a copy in the queue directory) names the test
#   servers, e.g. "127.0.0.2 org-b.example": with smtp_dns_support_level =
#   disabled, Postfix's smtp client resolves next hops through it, so the key
#   it sends to smtp_tls_policy_maps is a domain or server name, never an IP
#   literal, and the machine's /etc/hosts is not touched;
# - one real dtrustd (embedded directory in the temp dir) serves gRPC, the
#   policy service and the socketmap on unix sockets: in the temp dir, and in
#   each instance's queue directory, where the instances reach them as
#   dtrust/policy and dtrust/tls-policy exactly as deploy/postfix/ says.
# An EXIT trap stops every process the test started (by pid), deletes the
# namespace and /etc/netns/NS, and removes the temp dir, also on failure.
#
# Usage: e2e_init BUILD_DIR "ADDRESS NAME..."... (the namespace's hosts
# lines), then the e2e_* functions below. Needs root (network namespaces,
# Postfix).

set -uo pipefail

# shellcheck disable=SC2034  # Used by the test scripts.
e2e_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
e2e_build=
e2e_work=
e2e_netns=
e2e_dtrustd_pid=
e2e_created=()    # Instances made by e2e_postfix_create.
e2e_instances=()  # Instances started (to stop on exit).
e2e_stopped_pids=()  # SIGSTOPped by the test: SIGCONT before cleanup.

e2e_log() { echo "== $*"; }

# Prints the end of every log, then exits 1 (the EXIT trap cleans up).
e2e_fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$e2e_work"/*/maillog "$e2e_work"/dtrustd.log; do
    [ -f "$log" ] || continue
    echo "---- tail $log" >&2
    tail -25 "$log" >&2
  done
  exit 1
}

e2e_cleanup() {
  local pid name master_pid
  for pid in "${e2e_stopped_pids[@]}"; do
    [ "$pid" -gt 0 ] && kill -CONT "$pid" 2>/dev/null
  done
  for name in "${e2e_instances[@]}"; do
    master_pid=$(e2e_master_pid "$name")
    e2e_postfix "$name" postfix abort >/dev/null 2>&1
    e2e_wait_gone "$master_pid"
  done
  if [ -n "$e2e_dtrustd_pid" ]; then
    kill -TERM "$e2e_dtrustd_pid" 2>/dev/null
    wait "$e2e_dtrustd_pid" 2>/dev/null
  fi
  if [ -n "$e2e_netns" ]; then
    ip netns delete "$e2e_netns" 2>/dev/null
    rm -rf "/etc/netns/$e2e_netns"
  fi
  [ -n "$e2e_work" ] && rm -rf "$e2e_work"
}

# Waits up to 5 s for a Postfix master to exit, then kills its process group
# (master and its daemons). Ignores empty/invalid PIDs.
e2e_wait_gone() {
  local pid=$1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null
}

# e2e_init BUILD_DIR HOSTS_LINE...: temp dir, namespace whose /etc/hosts
# holds localhost and the given lines.
e2e_init() {
  e2e_build=$1
  shift
  [ "$(id -u)" -eq 0 ] || { echo "FAIL: must run as root" >&2; exit 1; }
  for tool in postfix postmap postqueue postcat swaks openssl ip; do
    command -v "$tool" >/dev/null ||
      { echo "FAIL: $tool missing (deploy/install-deps.sh installs it)" >&2; exit 1; }
  done
  trap e2e_cleanup EXIT
  trap 'exit 143' TERM INT HUP  # Runs the EXIT trap (ctest timeout, ^C).
  e2e_work=$(mktemp -d /tmp/dtrust-postfix-XXXXXX)
  # Postfix daemons (users postfix, nobody) must reach the queues in here.
  chmod 755 "$e2e_work"
  mkdir -p "$e2e_work/certs"
  # dtrustd's sockets (mode 0660) take the group of this setgid directory,
  # so Postfix's daemons (group postfix) can connect, as deploy/ documents.
  install -d -g postfix -m 2750 "$e2e_work/dtrust"
  e2e_netns=dtrust-e2e-$$
  mkdir -p "/etc/netns/$e2e_netns"
  {
    echo "127.0.0.1 localhost"
    printf '%s\n' "$@"
  } >"/etc/netns/$e2e_netns/hosts"
  ip netns add "$e2e_netns" || e2e_fail "cannot create network namespace $e2e_netns"
  ip -n "$e2e_netns" link set lo up || e2e_fail "cannot bring up lo in $e2e_netns"
  # Postfix accepts as inet_interfaces only addresses an interface has.
  local address
  for address in $(printf '%s\n' "$@" | awk '$1 != "127.0.0.1" {print $1}' | sort -u); do
    ip -n "$e2e_netns" address add "$address/32" dev lo ||
      e2e_fail "cannot add $address to lo in $e2e_netns"
  done
}

# Runs a command inside the test's network namespace.
e2e_ns() { ip netns exec "$e2e_netns" "$@"; }

# e2e_cert NAME: a self-signed P-256 certificate $e2e_work/certs/NAME.pem
# (key NAME.key) for CN=NAME.
e2e_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$1" -days 30 -keyout "$e2e_work/certs/$1.key" \
    -out "$e2e_work/certs/$1.pem" 2>/dev/null || e2e_fail "openssl req for $1"
}

# The inbound scenario's certificates (self-signed, in $e2e_work/certs): the
# receiving mx1.org-b.example, partners mx1.org-a.example and
# mx1.org-c.example, and rogue.org-a.example (never published).
e2e_inbound_certs() {
  local name
  for name in mx1.org-b.example mx1.org-a.example rogue.org-a.example \
      mx1.org-c.example; do
    e2e_cert "$name"
  done
}

# The inbound scenario's lists and pins (dtrustd running): org-a.example
# enforced, org-t.example testing, org-z.example on no list; mx1.org-a and
# mx1.org-c published for their domains. Sets the swaks STARTTLS options
# as_a (published, org-a), as_rogue (not published), as_c (published, org-c).
e2e_inbound_partners() {
  local certs=$e2e_work/certs
  e2e_dtrust domain add org-a.example --receive
  e2e_dtrust domain add org-t.example --receive --testing
  e2e_dtrust publish --server mx1.org-a.example --domain org-a.example \
    "$certs/mx1.org-a.example.pem"
  e2e_dtrust publish --server mx1.org-c.example --domain org-c.example \
    "$certs/mx1.org-c.example.pem"
  as_a=(--tls --tls-cert "$certs/mx1.org-a.example.pem"
        --tls-key "$certs/mx1.org-a.example.key")
  as_rogue=(--tls --tls-cert "$certs/rogue.org-a.example.pem"
            --tls-key "$certs/rogue.org-a.example.key")
  as_c=(--tls --tls-cert "$certs/mx1.org-c.example.pem"
        --tls-key "$certs/mx1.org-c.example.key")
}

# The MTA under test, for the scenario helpers below: how the last swaks
# transcript's queue ID and replies are read. The Exim harness
# (tests/exim/lib.sh) points them at its own functions.
e2e_mta_queued_id=e2e_queued_id
e2e_mta_replied=e2e_swaks_replied

# e2e_send TO: submits a message from alice@org-a.example to TO at the MTA
# on 127.0.0.1:25; sets $id to its queue ID there.
e2e_send() {
  e2e_swaks 127.0.0.1:25 --from alice@org-a.example --to "$1" ||
    e2e_fail "out refused mail to $1: $(cat "$e2e_work/swaks.out")"
  id=$("$e2e_mta_queued_id")
  [ -n "$id" ] || e2e_fail "no queue ID: $(cat "$e2e_work/swaks.out")"
}

# e2e_expect_refused WHAT REPLY_ERE SWAKS_ARGS...: the inbound MTA ($mx,
# ADDRESS:PORT) refuses mail to u@org-b.example with a reply matching
# REPLY_ERE; nothing is queued.
e2e_expect_refused() {
  local what=$1 reply=$2
  shift 2
  e2e_log "$what"
  e2e_swaks "$mx" --to u@org-b.example "$@" &&
    e2e_fail "$what: accepted: $(cat "$e2e_work/swaks.out")"
  "$e2e_mta_replied" "$reply" >/dev/null ||
    e2e_fail "$what: no /$reply/: $(cat "$e2e_work/swaks.out")"
  [ -z "$("$e2e_mta_queued_id")" ] || e2e_fail "$what: queued anyway"
}

# e2e_expect_delivered WHAT SWAKS_ARGS...: the inbound MTA ($mx, instance
# "mx") accepts and stores the mail; sets $mail to the stored message's file.
e2e_expect_delivered() {
  local what=$1 id
  shift
  e2e_log "$what"
  e2e_swaks "$mx" "$@" ||
    e2e_fail "$what: refused: $(cat "$e2e_work/swaks.out")"
  id=$("$e2e_mta_queued_id")
  [ -n "$id" ] || e2e_fail "$what: no queue ID: $(cat "$e2e_work/swaks.out")"
  mail=$(e2e_mail_file mx "$id")
  e2e_wait_file "$mail"
}

# e2e_fingerprint NAME: SHA-256 of the certificate, as openssl prints it
# (upper-case hex with colons, the form Postfix uses).
e2e_fingerprint() {
  openssl x509 -noout -fingerprint -sha256 -in "$e2e_work/certs/$1.pem" |
    sed 's/.*=//'
}

# Starts dtrustd (embedded directory; --ldap-timeout 1s and --max-staleness
# 3s so that a stopped directory shows, and its mirror goes stale, quickly)
# and waits until it is ready. It serves gRPC, the policy
# service and the socketmap on unix sockets in $e2e_work/dtrust, and the
# latter two also in the queue directory of every instance created so far,
# where chrooted Postfix daemons find them (DIR/spool/dtrust/...).
e2e_dtrustd_start() {
  local args=() dir
  for dir in "$e2e_work" "${e2e_created[@]/#/$e2e_work/}"; do
    [ "$dir" = "$e2e_work" ] || dir=$dir/spool
    args+=(--policy-listen "unix:$dir/dtrust/policy"
           --socketmap-listen "unix:$dir/dtrust/tls-policy")
  done
  "$e2e_build/server/dtrustd" --data-dir "$e2e_work/data" \
    --listen "unix:$e2e_work/dtrust/grpc" "${args[@]}" \
    --ldap-timeout 1s --max-staleness 3s >"$e2e_work/dtrustd.log" 2>&1 &
  e2e_dtrustd_pid=$!
  for _ in $(seq 100); do
    grep -q "dtrustd ready" "$e2e_work/dtrustd.log" && break
    kill -0 "$e2e_dtrustd_pid" 2>/dev/null || e2e_fail "dtrustd exited"
    sleep 0.1
  done
  grep -q "dtrustd ready" "$e2e_work/dtrustd.log" ||
    e2e_fail "dtrustd did not become ready"
  export DTRUST_ENDPOINT="unix:$e2e_work/dtrust/grpc"
}

# Stops dtrustd (SIGTERM; it stops its slapd) and waits for it.
e2e_dtrustd_stop() {
  kill -TERM "$e2e_dtrustd_pid" 2>/dev/null
  wait "$e2e_dtrustd_pid"
  e2e_dtrustd_pid=
}

# The embedded slapd dtrustd runs (its child).
e2e_slapd_pid() {
  local pid
  pid=$(pgrep -P "$e2e_dtrustd_pid" -x slapd | head -1)
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || [ "$pid" -le 1 ]; then
    e2e_fail "no slapd child of dtrustd"
  fi
  echo "$pid"
}

# Stops / resumes the directory (SIGSTOP/SIGCONT of dtrustd's slapd).
e2e_directory_stop() {
  local pid
  pid=$(e2e_slapd_pid) || exit 1
  kill -STOP "$pid" || e2e_fail "SIGSTOP slapd $pid"
  e2e_stopped_pids+=("$pid")
}
# Waits (at most 20 s) until dtrustd no longer serves: its mirror of the
# stopped directory is older than --max-staleness (`dtrust status` exit 3).
e2e_directory_stale_wait() {
  local _
  for _ in $(seq 200); do
    "$e2e_build/client/dtrust" status >/dev/null 2>&1 || return 0
    sleep 0.1
  done
  e2e_fail "dtrustd still serving 20 s after the directory stopped"
}
# Resumes the directory and waits (at most 20 s) until dtrustd serves again
# (`dtrust status` exit 0): it reconnects in the background with backoff, and
# until then its answers are still temporary failures.
e2e_directory_resume() {
  local pid _
  for pid in "${e2e_stopped_pids[@]}"; do
    kill -CONT "$pid" 2>/dev/null
  done
  e2e_stopped_pids=()
  for _ in $(seq 200); do
    "$e2e_build/client/dtrust" status >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  e2e_fail "dtrustd not serving 20 s after the directory resumed"
}

# Runs the dtrust CLI against the test's dtrustd; fails the test on error.
e2e_dtrust() {
  "$e2e_build/client/dtrust" "$@" >>"$e2e_work/dtrust-cli.log" 2>&1 ||
    e2e_fail "dtrust $*: $(tail -3 "$e2e_work/dtrust-cli.log")"
}

# e2e_postfix_create NAME HOSTNAME ADDRESS PORT: a private Postfix instance
# in $e2e_work/NAME (etc/, spool/, maillog, mail/ for delivered messages)
# with smtpd on ADDRESS:PORT in the namespace, and ADDRESS its only own
# address (so delivering to another loopback address is no "mail loops back
# to myself"). Mail for mydestination is delivered to mail/QUEUE_ID by a
# pipe transport. Add settings with e2e_postfix_set, then start dtrustd,
# then e2e_postfix_start.
e2e_postfix_create() {
  local name=$1 host=$2 address=$3 port=$4
  local dir=$e2e_work/$name
  mkdir -p "$dir/etc" "$dir/spool/etc" "$dir/mail"
  chown nobody "$dir/mail"
  # As in Debian's master.cf, smtpd and smtp run chrooted in the queue
  # directory: they resolve names with its etc/ files and reach dtrustd's
  # sockets as dtrust/... (start dtrustd after creating the instances).
  cp "/etc/netns/$e2e_netns/hosts" "$dir/spool/etc/hosts"
  cp /etc/services /etc/nsswitch.conf "$dir/spool/etc/"
  install -d -g postfix -m 2750 "$dir/spool/dtrust"
  e2e_created+=("$name")
  cat >"$dir/save-mail" <<'EOF'
#!/bin/sh
# Pipe transport: stores the message as $1, atomically.
cat >"$1.tmp" && mv "$1.tmp" "$1"
EOF
  chmod 755 "$dir/save-mail"
  cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.7
queue_directory = $dir/spool
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $e2e_work
myhostname = $host
inet_interfaces = $address
smtp_bind_address = $address
inet_protocols = ipv4
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
local_transport = save-mail
smtp_dns_support_level = disabled
smtp_host_lookup = native
biff = no
EOF
  cat >"$dir/etc/master.cf" <<EOF
$address:$port inet n - y - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - y - - smtp
relay     unix - - y - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
save-mail unix - n n - - pipe user=nobody argv=$dir/save-mail $dir/mail/\${queue_id}
EOF
}

# e2e_postfix NAME COMMAND ARGS...: runs a Postfix command (postfix,
# postqueue, postconf, ...) with NAME's config directory, in the namespace.
# Every Postfix command checks inet_interfaces against the interfaces it
# sees, and outside the namespace 127.0.0.2 is none.
e2e_postfix() {
  local name=$1 command=$2
  shift 2
  e2e_ns "$command" -c "$e2e_work/$name/etc" "$@"
}

# e2e_postfix_set NAME "param = value"...: sets main.cf parameters (postconf
# -e: replaces an earlier setting in place).
e2e_postfix_set() {
  local name=$1
  shift
  e2e_postfix "$name" postconf -e "$@" || e2e_fail "postconf -e $*"
}

# e2e_postfix_include NAME FILE: sets every parameter of a main.cf snippet
# (deploy/postfix/main.cf.*), continuation lines joined, comments dropped.
e2e_postfix_include() {
  local name=$1 file=$2 setting
  [ -r "$file" ] || e2e_fail "cannot read $file"
  while IFS= read -r setting; do
    e2e_postfix_set "$name" "$setting"
  done < <(awk '/^#/ || /^[ \t]*$/ {next}
                /^[ \t]/ {sub(/^[ \t]+/, " "); line = line $0; next}
                {if (line != "") print line; line = $0}
                END {if (line != "") print line}' "$file")
}

# e2e_postfix_service NAME FILE SERVICE: appends SERVICE's entry (its line
# and continuation lines) from a master.cf snippet (deploy/postfix/master.cf)
# to NAME's master.cf verbatim, except that /etc/postfix/ becomes NAME's
# config directory, where each file the entry names there is installed
# (mode 0755) from FILE's directory.
e2e_postfix_service() {
  local name=$1 file=$2 service=$3 entry path
  local etc=$e2e_work/$name/etc
  [ -r "$file" ] || e2e_fail "cannot read $file"
  entry=$(awk -v service="$service" '
    $1 == service && /^[^ \t#]/ {found = 1; print; next}
    found && /^[ \t]+[^ \t]/ {print; next}
    {found = 0}' "$file")
  [ -n "$entry" ] || e2e_fail "no service $service in $file"
  while read -r path; do
    install -m 755 "$(dirname "$file")/${path#/etc/postfix/}" "$etc/" ||
      e2e_fail "cannot install ${path#/etc/postfix/} for $service"
  done < <(grep -oE '/etc/postfix/[^ ]+' <<<"$entry")
  echo "${entry//\/etc\/postfix\//$etc/}" >>"$etc/master.cf"
}

# The pid of instance NAME's master (empty if it never started).
e2e_master_pid() {
  head -1 "$e2e_work/$1/spool/pid/master.pid" 2>/dev/null | tr -d ' '
}

# Starts instance NAME in the namespace and waits for its master.
e2e_postfix_start() {
  local name=$1
  local dir=$e2e_work/$name
  # Postfix waits seconds for config files modified "just now": backdate.
  touch -d '-10 seconds' "$dir/etc/main.cf" "$dir/etc/master.cf"
  e2e_instances+=("$name")
  # Errors before the maillog runs are silent; postconf names bad settings.
  e2e_postfix "$name" postfix start >"$dir/start.log" 2>&1 ||
    e2e_fail "postfix $name did not start: $(cat "$dir/start.log")" \
      "$(e2e_postfix "$name" postconf 2>&1 >/dev/null)"
  e2e_wait_log "$name" "daemon started"
}

# e2e_wait_log NAME ERE: waits up to 15 s for a line matching ERE in NAME's
# maillog.
e2e_wait_log() {
  local name=$1 pattern=$2
  for _ in $(seq 150); do
    grep -qE -- "$pattern" "$e2e_work/$name/maillog" 2>/dev/null && return 0
    sleep 0.1
  done
  e2e_fail "$name maillog: no /$pattern/"
}

# e2e_mail_file NAME ID: where NAME's pipe transport stores message ID.
e2e_mail_file() { echo "$e2e_work/$1/mail/$2"; }

# e2e_wait_file FILE: waits up to 15 s for FILE to exist.
e2e_wait_file() {
  for _ in $(seq 150); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  e2e_fail "$1 did not appear"
}

# e2e_swaks ADDRESS:PORT ARGS...: swaks to that server in the namespace; its
# transcript goes to $e2e_work/swaks.out, its exit status is returned.
e2e_swaks() {
  local server=$1
  shift
  e2e_ns swaks --server "$server" --timeout 20 "$@" \
    >"$e2e_work/swaks.out" 2>&1
}

# e2e_swaks_replied ERE: true when a server reply in the last swaks
# transcript matches ERE (swaks marks replies "<-", "<~" after STARTTLS,
# "<**" / "<~*" for errors); prints the matching lines.
e2e_swaks_replied() {
  grep -E -- "^<[-~*]+ +($1)" "$e2e_work/swaks.out"
}

# The queue ID from the last swaks transcript's "250 ... queued as ID".
e2e_queued_id() {
  e2e_swaks_replied "250 .*queued as " | sed -E 's/.*queued as ([0-9A-Za-z]+).*/\1/' |
    tail -1
}

# e2e_in_queue NAME ID: true when ID is still in NAME's queue.
e2e_in_queue() {
  e2e_postfix "$1" postqueue -j | grep -q "\"queue_id\": *\"$2\""
}

# e2e_retry NAME ID: asks NAME to deliver queued message ID now.
e2e_retry() {
  e2e_postfix "$1" postqueue -i "$2" || e2e_fail "postqueue -i $2"
}
