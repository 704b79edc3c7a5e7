#!/usr/bin/env bash
# Outbound Domain Security with real Exim on both ends: org-a's MTA "out"
# routes remote mail to deploy/exim/transport.conf's dtrust_smtp transport,
# which asks dtrustd's socketmap for each destination domain's TLS policy;
# it delivers to org-b's MTA "mx" (deploy/exim/acl.conf inbound), which has
# its own TLS certificate. In the test's network namespace org-b.example,
# org-c.example and org-z.example resolve to mx's 127.0.0.2.
# Usage: outbound_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"

exim_init "$1" "127.0.0.2 org-b.example org-c.example org-z.example" \
  "127.0.0.3 org-d.example"
certs=$e2e_work/certs
for name in mx1.org-a.example mx1.org-b.example decoy.org-c.example; do
  e2e_cert "$name"
done
chmod 644 "$certs"/*.key  # Exim reads its keys as Debian-exim.

exim_create mx mx1.org-b.example 127.0.0.2 25 \
  "org-b.example : org-c.example : org-z.example"
exim_set mx "DTRUST_CLIENT_CAS = $certs/mx1.org-a.example.pem" \
  "tls_certificate = $certs/mx1.org-b.example.pem" \
  "tls_privatekey = $certs/mx1.org-b.example.key"
exim_create out mx1.org-a.example 127.0.0.1 25 org-a.example
exim_set out "tls_certificate = $certs/mx1.org-a.example.pem" \
  "tls_privatekey = $certs/mx1.org-a.example.key"
# DTRUST_TIMEOUT: a hung dtrustd shows within a second.
exim_set out "DTRUST_TIMEOUT = 1s" \
  "DTRUST_SMTP_CERTIFICATE = $certs/mx1.org-a.example.pem" \
  "DTRUST_SMTP_PRIVATEKEY = $certs/mx1.org-a.example.key"
# org-d.example's server offers no STARTTLS: a private Postfix instance
# (tests/postfix/lib.sh) without TLS settings.
e2e_postfix_create plain mx1.org-d.example 127.0.0.3 25
e2e_postfix_set plain "mydestination = org-d.example" "mynetworks ="
e2e_dtrustd_start
exim_start mx
exim_start out
e2e_postfix_start plain

# Both organizations secure their mail with each other; org-c.example has
# published a certificate, but not the one its server presents;
# org-z.example is on no list.
e2e_dtrust domain add org-a.example --receive
e2e_dtrust domain add org-b.example --send
e2e_dtrust domain add org-c.example --send
e2e_dtrust domain add org-d.example --send
e2e_dtrust publish --server mx1.org-a.example --domain org-a.example \
  "$certs/mx1.org-a.example.pem"
e2e_dtrust publish --server mx1.org-b.example --domain org-b.example \
  "$certs/mx1.org-b.example.pem"
e2e_dtrust publish --server mx1.org-c.example --domain org-c.example \
  "$certs/decoy.org-c.example.pem"
e2e_dtrust publish --server mx1.org-d.example --domain org-d.example \
  "$certs/decoy.org-c.example.pem"

# delivered ID TO: out sent ID to mx (127.0.0.2) over TLS, and mx stored
# it; sets $mail to the stored message.
delivered() {
  local id=$1 to=$2
  e2e_wait_log out "$id (=>|==|\*\*) $to "
  local line
  line=$(grep -E "$id (=>|==|\*\*) $to " "$e2e_work/out/maillog" | tail -1)
  [[ "$line" =~ " => $to R=remote T=dtrust_smtp H=".*" [127.0.0.2] X=TLS" ]] ||
    e2e_fail "$id not sent to $to over TLS: $line"
  local mx_id
  mx_id=$(sed -nE "s/.*250 OK id=([-0-9A-Za-z]+)\".*/\1/p" <<<"$line")
  [ -n "$mx_id" ] || e2e_fail "no message ID from mx in: $line"
  mail=$(e2e_mail_file mx "$mx_id")
  e2e_wait_file "$mail"
}

# deferred ID TO WHY_ERE: the last delivery attempt of ID to TO was
# deferred, its TLS handshake failed because dtrust_smtp's event_action
# refused the certificate for a reason matching WHY_ERE, and ID is still
# queued.
deferred() {
  local id=$1 to=$2 why=$3
  e2e_wait_log out "$id (=>|==|\*\*) $to "
  local last refusal
  last=$(grep -E "$id (=>|==|\*\*) $to " "$e2e_work/out/maillog" | tail -1)
  [[ "$last" =~ " == $to R=remote T=dtrust_smtp defer ".*"TLS session" ]] ||
    e2e_fail "want deferred after a failed TLS handshake: $last"
  refusal=$(grep "$id SSL verify denied by event-action: depth=0: " \
    "$e2e_work/out/maillog" | tail -1)
  [[ "$refusal" =~ $why ]] || e2e_fail "refused without /$why/: $refusal"
  exim_in_queue out "$id" || e2e_fail "$id is no longer queued"
}

e2e_log "send-secure org-b.example, published certificate: delivered"
e2e_send u@org-b.example
delivered "$id" u@org-b.example
# And org-b's inbound check saw org-a's published client certificate.
grep -q "^X-DirectTrust: domain-secured; domain=org-a.example; server=mx1.org-a.example;" \
  "$mail" || e2e_fail "no domain-secured header in $(cat "$mail")"
[ "$(grep -ci '^X-DirectTrust' "$mail")" -eq 1 ] ||
  e2e_fail "want one X-DirectTrust header: $(cat "$mail")"

e2e_log "send-secure org-c.example, presented certificate not published: deferred"
e2e_send u@org-c.example
deferred "$id" u@org-c.example \
  "dtrust: certificate sha256 $(e2e_fingerprint mx1.org-b.example | tr -d :) is not published for org-c.example"
e2e_log "... org-c publishes the certificate its server presents: delivered"
e2e_dtrust publish --server mx1.org-c.example "$certs/mx1.org-b.example.pem"
exim_retry out "$id"
delivered "$id" u@org-c.example

e2e_log "send-secure org-d.example, server without STARTTLS: deferred, never sent in clear"
e2e_send u@org-d.example
e2e_wait_log out "$id (=>|==|\*\*) u@org-d.example "
last=$(grep -E "$id (=>|==|\*\*) u@org-d.example " "$e2e_work/out/maillog" | tail -1)
[[ "$last" =~ " == u@org-d.example R=remote T=dtrust_smtp defer ".*"TLS" ]] ||
  e2e_fail "want deferred for want of TLS: $last"
exim_in_queue out "$id" || e2e_fail "$id is no longer queued"
[ -z "$(ls "$e2e_work/plain/mail")" ] || e2e_fail "org-d.example got mail in clear"

e2e_log "domain on no list: delivered (opportunistic TLS), certificate unchecked"
e2e_send u@org-z.example
delivered "$id" u@org-z.example

e2e_log "dtrustd hung: deferred after DTRUST_TIMEOUT, never sent unverified"
exim_dtrustd_hang
start=$SECONDS
e2e_send u@org-b.example
deferred "$id" u@org-b.example "dtrust: org-b.example: TEMP dtrustd unreachable"
# Two questions (hosts_require_tls, event_action) of DTRUST_TIMEOUT each.
[ $((SECONDS - start)) -le 6 ] ||
  e2e_fail "the deferral took $((SECONDS - start)) s with DTRUST_TIMEOUT = 1s"
exim_dtrustd_resume
exim_retry out "$id"
delivered "$id" u@org-b.example

e2e_log "directory stopped, mirror stale: deferred, nothing lost"
e2e_directory_stop
e2e_directory_stale_wait
e2e_send u@org-b.example
deferred "$id" u@org-b.example "dtrust: org-b.example: TEMP .*directory unavailable"
e2e_directory_resume
e2e_log "... directory back: delivered"
exim_retry out "$id"
delivered "$id" u@org-b.example

e2e_log "after unpublishing org-b's certificate: deferred"
e2e_dtrust unpublish --server mx1.org-b.example "$certs/mx1.org-b.example.pem"
e2e_send u@org-b.example
deferred "$id" u@org-b.example \
  "dtrust: org-b.example: TEMP .*no valid certificate is published"

e2e_log "... org-b.example switched to testing mode: delivered with TLS, unverified"
e2e_dtrust domain add org-b.example --send --testing
exim_retry out "$id"
delivered "$id" u@org-b.example

e2e_log "dtrustd stopped: deferred, never sent unverified"
e2e_dtrust domain add org-b.example --send
e2e_dtrustd_stop
e2e_send u@org-b.example
deferred "$id" u@org-b.example "dtrust: org-b.example: TEMP dtrustd unreachable"

echo "exim outbound: all cases passed"
