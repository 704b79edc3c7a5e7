# shellcheck shell=bash
# Harness for the Exim end-to-end tests, sourced by the *_test.sh scripts.
# Builds on the Postfix harness (tests/postfix/lib.sh: temp dir, network
# namespace with its own /etc/hosts, certificates, dtrustd, the dtrust CLI,
# swaks, directory stop/resume) and adds private Exim instances:
# - Debian's Exim 4.96 unpacked into a private root by private_exim.sh
#   (installing the package would remove Postfix);
# - each instance has its own configuration, spool and logs in
#   $e2e_work/NAME, listens on ADDRESS:PORT inside the namespace, and
#   includes deploy/exim/*.conf verbatim (Exim's .include) in the sections
#   deploy/exim/ names;
# - dtrustd serves each instance's policy and socketmap sockets in
#   $e2e_work/NAME/spool/dtrust/ (e2e_dtrustd_start: every created
#   instance), a directory of group Debian-exim, as deploy/exim/main.conf
#   says for /run/dtrust/exim;
# - mail for the instance's own domains is stored, once for all its
#   recipients, in $e2e_work/NAME/mail/ID (ID: Exim's message ID).
# Usage: exim_init BUILD_DIR "ADDRESS NAME"..., exim_create...,
# e2e_dtrustd_start, exim_start. The EXIT trap also stops the daemons.
# shellcheck source=../postfix/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../postfix/lib.sh"

exim_binary=
e2e_mta_queued_id=exim_queued_id
e2e_mta_replied=exim_replied
exim_daemons=()  # Instances whose daemon runs (to stop on exit).

exim_cleanup() {
  local name pid
  for name in "${exim_daemons[@]}"; do
    pid=$(head -1 "$e2e_work/$name/exim.pid" 2>/dev/null)
    if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ]; then
      kill -TERM "$pid" 2>/dev/null
      e2e_wait_gone "$pid"
    fi
  done
  e2e_cleanup
}

# exim_init BUILD_DIR HOSTS_LINE...: e2e_init, then the private Exim.
exim_init() {
  e2e_init "$@"
  trap exim_cleanup EXIT
  exim_binary=$("$e2e_src/tests/exim/private_exim.sh") ||
    e2e_fail "cannot install the private Exim (tests/exim/private_exim.sh)"
}

# exim_create NAME HOSTNAME ADDRESS PORT LOCAL_DOMAINS: an instance whose
# configuration is $e2e_work/NAME/exim.conf: main settings, then
# $e2e_work/NAME/main.conf (exim_set appends to it), deploy/exim/main.conf,
# the test's ACLs, deploy/exim/acl.conf, routers (local domains stored,
# others routed by name through /etc/hosts to transport dtrust_smtp) and
# deploy/exim/transport.conf. 127.0.0.1 is the own users' submission client
# (as an MTA's relay_from_hosts): accepted at MAIL and RCPT. Other clients
# are partner MTAs: the MAIL ACL calls dtrust_check_sender, RCPT accepts
# only local domains.
exim_create() {
  local name=$1 host=$2 address=$3 port=$4 domains=$5
  local dir=$e2e_work/$name
  mkdir -p "$dir/spool" "$dir/mail" "$dir/log"
  chown Debian-exim:Debian-exim "$dir/spool" "$dir/mail" "$dir/log"
  install -d -g Debian-exim -m 2750 "$dir/spool/dtrust"
  : >"$dir/main.conf"
  e2e_created+=("$name")
  cat >"$dir/exim.conf" <<EOF
primary_hostname = $host
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
pid_file_path = $dir/exim.pid
daemon_smtp_ports = $port
local_interfaces = $address
domainlist local_domains = $domains
never_users = root
keep_environment =
host_lookup =
rfc1413_hosts =
acl_smtp_mail = test_mail
acl_smtp_rcpt = test_rcpt
DTRUST_POLICY_SOCKET = $dir/spool/dtrust/policy
DTRUST_TLS_POLICY_SOCKET = $dir/spool/dtrust/tls-policy
.include $dir/main.conf
.include $e2e_src/deploy/exim/main.conf

begin acl
.include $e2e_src/deploy/exim/acl.conf
test_mail:
  accept hosts = 127.0.0.1
  require acl = dtrust_check_sender
  accept
test_rcpt:
  accept domains = +local_domains
  accept hosts = 127.0.0.1
  deny message = relay not permitted

begin routers
local:
  driver = accept
  domains = +local_domains
  transport = save_mail
remote:
  driver = manualroute
  route_data = \$domain byname
  transport = dtrust_smtp

begin transports
.include $e2e_src/deploy/exim/transport.conf
save_mail:
  driver = pipe
  command = $dir/save-mail $dir/mail/\$message_exim_id
  batch_max = 100
  message_prefix =
  user = Debian-exim

begin retry
* * F,1h,1m
EOF
  cat >"$dir/save-mail" <<'EOF'
#!/bin/sh
# Pipe transport: stores the message (all its recipients at once) as $1.
cat >"$1.tmp" && mv "$1.tmp" "$1"
EOF
  chmod 755 "$dir/save-mail"
  ln -sf log/mainlog "$dir/maillog"  # Where e2e_fail and e2e_wait_log look.
}

# exim_set NAME "option = value"...: main-section settings of NAME.
exim_set() {
  local name=$1
  shift
  printf '%s\n' "$@" >>"$e2e_work/$name/main.conf"
}

# exim NAME ARGS...: runs NAME's Exim with ARGS in the namespace.
exim() {
  local name=$1
  shift
  e2e_ns "$exim_binary" -C "$e2e_work/$name/exim.conf" "$@"
}

# exim_start NAME: checks NAME's configuration, starts its daemon (no queue
# runner: the tests retry by hand) and waits until it listens.
exim_start() {
  local name=$1
  exim "$name" -bV >"$e2e_work/$name/check.log" 2>&1 ||
    e2e_fail "exim $name configuration: $(cat "$e2e_work/$name/check.log")"
  exim_daemons+=("$name")
  exim "$name" -bd || e2e_fail "exim $name -bd failed"
  e2e_wait_log "$name" "daemon started"
}

# Stops dtrustd (SIGSTOP): its sockets still accept connections, but
# nothing answers; exim_dtrustd_resume continues it.
exim_dtrustd_hang() {
  kill -STOP "$e2e_dtrustd_pid" || e2e_fail "SIGSTOP dtrustd"
  e2e_stopped_pids+=("$e2e_dtrustd_pid")
}
exim_dtrustd_resume() {
  kill -CONT "$e2e_dtrustd_pid" || e2e_fail "SIGCONT dtrustd"
  e2e_stopped_pids=()
}

# exim_queued_id: Exim's message ID from the last swaks transcript's
# "250 OK id=ID".
exim_queued_id() {
  e2e_swaks_replied "250 OK id=" | sed -E 's/.*id=([-0-9A-Za-z]+).*/\1/' |
    tail -1
}

# exim_replied ERE: true when a server reply in the last swaks transcript
# matches ERE; prints it. Exim wraps long replies over several lines
# ("550-5.7.1 first part", ..., "550 5.7.1 last part"): they are joined
# into one "550 5.7.1 first part ... last part" first.
exim_replied() {
  sed -nE 's/^<[-~*]+ +([0-9]{3})([- ])(([2-5]\.[0-9]+\.[0-9]+ )?)(.*)/\1\2\3\t\5/p' \
    "$e2e_work/swaks.out" |
    awk -F'\t' '{
        code = substr($1, 1, 3)
        text = (text == "") ? code " " substr($1, 5) $2 : text " " $2
        if (substr($1, 4, 1) == " ") { print text; text = "" }
      }' | grep -E -- "^($1)"
}

# exim_retry NAME ID: asks NAME to deliver queued message ID now.
exim_retry() {
  exim "$1" -M "$2" >/dev/null 2>&1
}

# exim_in_queue NAME ID: true when ID is still in NAME's queue.
exim_in_queue() {
  exim "$1" -bp | grep -q -- " $2 "
}
