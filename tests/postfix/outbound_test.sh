#!/usr/bin/env bash
# Outbound Domain Security with real Postfix on both ends: org-a's MTA "out"
# (deploy/postfix/main.cf.outbound: smtp_tls_policy_maps is dtrustd's
# socketmap) delivers to org-b's MTA "mx" (deploy/postfix/main.cf.inbound),
# which has its own TLS certificate. In the test's network namespace
# org-b.example, mx1.org-b.example and mx1.org-c.example resolve to mx's
# 127.0.0.2, so the TLS policy keys are names, as with real DNS:
# - mail to org-b.example: the recipient domain is the next hop (no MX in
#   /etc/hosts: its address record), key "org-b.example";
# - mail to org-c.example: transport map to smtp:[mx1.org-c.example]:25, key
#   "[mx1.org-c.example]:25", a published server of a send-secure domain.
# Usage: outbound_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"

e2e_init "$1" "127.0.0.2 org-b.example mx1.org-b.example mx1.org-c.example"
certs=$e2e_work/certs
for name in mx1.org-a.example mx1.org-b.example decoy.org-c.example; do
  e2e_cert "$name"
done

e2e_postfix_create mx mx1.org-b.example 127.0.0.2 25
e2e_postfix_include mx "$e2e_src/deploy/postfix/main.cf.inbound"
e2e_postfix_service mx "$e2e_src/deploy/postfix/master.cf" dtrust-header-milter
e2e_postfix_set mx "mydestination = org-b.example, org-c.example" \
  "mynetworks =" \
  "smtpd_tls_chain_files = $certs/mx1.org-b.example.key, $certs/mx1.org-b.example.pem"

e2e_postfix_create out mx1.org-a.example 127.0.0.1 25
e2e_postfix_include out "$e2e_src/deploy/postfix/main.cf.outbound"
echo "org-c.example smtp:[mx1.org-c.example]:25" >"$e2e_work/out/etc/transport"
e2e_postfix_set out "mynetworks = 127.0.0.0/8" \
  "transport_maps = texthash:$e2e_work/out/etc/transport" \
  "smtp_tls_chain_files = $certs/mx1.org-a.example.key, $certs/mx1.org-a.example.pem"

e2e_dtrustd_start
e2e_postfix_start mx
e2e_postfix_start out

# Both organizations secure their mail with each other; org-c.example's
# server has published a certificate, but not the one it presents.
e2e_dtrust domain add org-a.example --receive
e2e_dtrust domain add org-b.example --send
e2e_dtrust domain add org-c.example --send
e2e_dtrust publish --server mx1.org-a.example --domain org-a.example \
  "$certs/mx1.org-a.example.pem"
e2e_dtrust publish --server mx1.org-b.example --domain org-b.example \
  "$certs/mx1.org-b.example.pem"
e2e_dtrust publish --server mx1.org-c.example --domain org-c.example \
  "$certs/decoy.org-c.example.pem"

# delivered ID TO NEXT_HOP: out sent ID to NEXT_HOP over a verified TLS
# connection, and mx stored it; sets $mail to the stored message.
delivered() {
  local id=$1 to=$2 hop=$3
  local sent_line="$id: to=<$to>, relay=$hop\[127\.0\.0\.2\]:25, .*status=sent \(250 "
  e2e_wait_log out "$id: to=<$to>, .*status=(sent|bounced)"
  grep -qE "$sent_line" "$e2e_work/out/maillog" ||
    e2e_fail "$id not sent to $hop: $(grep "$id: to=" "$e2e_work/out/maillog" | tail -1)"
  # Every delivery to $hop so far went over a verified connection.
  local sent verified
  sent=$(grep -cE "relay=$hop\[127\.0\.0\.2\]:25, .*status=sent" "$e2e_work/out/maillog")
  verified=$(grep -c "Verified TLS connection established to $hop\[127\.0\.0\.2\]:25" \
    "$e2e_work/out/maillog")
  [ "$verified" -ge "$sent" ] ||
    e2e_fail "$sent deliveries to $hop, only $verified verified TLS connections"
  local mx_id
  mx_id=$(sed -nE "s/.*$id: to=<$to>.*status=sent \(250 .* queued as ([0-9A-Za-z]+)\).*/\1/p" \
    "$e2e_work/out/maillog" | tail -1)
  mail=$(e2e_mail_file mx "$mx_id")
  e2e_wait_file "$mail"
}

# deferred ID TO WHY_ERE: the first delivery attempt of ID was deferred with
# a reason matching WHY_ERE, and ID is still queued.
deferred() {
  local id=$1 to=$2 why=$3
  e2e_wait_log out "$id: to=<$to>, .*status=(sent|deferred|bounced)"
  local last
  last=$(grep -E "$id: to=<$to>, .*status=" "$e2e_work/out/maillog" | tail -1)
  [[ "$last" =~ status=deferred ]] || e2e_fail "want deferred: $last"
  [[ "$last" =~ $why ]] || e2e_fail "deferred without /$why/: $last"
  e2e_in_queue out "$id" || e2e_fail "$id is no longer queued"
}

e2e_log "send-secure org-b.example, published certificate: delivered"
e2e_send u@org-b.example
delivered "$id" u@org-b.example org-b.example
# And org-b's inbound check saw org-a's published client certificate.
grep -q "^X-DirectTrust: domain-secured; domain=org-a.example; server=mx1.org-a.example;" \
  "$mail" || e2e_fail "no domain-secured header in $(cat "$mail")"
# Once, and without the boundary header (deploy/postfix/dtrust-header-milter).
[ "$(grep -ci '^X-DirectTrust' "$mail")" -eq 1 ] ||
  e2e_fail "want one X-DirectTrust header, nothing else: $(cat "$mail")"

e2e_log "send-secure org-c.example, presented certificate not published: deferred"
e2e_send u@org-c.example
deferred "$id" u@org-c.example "dsn=4\.7\.5, .*Server certificate not verified"
e2e_log "... org-c publishes the certificate its server presents: delivered"
e2e_dtrust publish --server mx1.org-c.example "$certs/mx1.org-b.example.pem"
e2e_retry out "$id"
delivered "$id" u@org-c.example mx1.org-c.example

e2e_log "directory stopped, mirror stale: deferred, nothing lost"
e2e_directory_stop
e2e_directory_stale_wait
e2e_send u@org-b.example
deferred "$id" u@org-b.example "dsn=4\.7\.5, .*client TLS configuration problem"
grep -q "socketmap server temporary error: dtrust: directory unavailable" \
  "$e2e_work/out/maillog" || e2e_fail "no TEMP answer from dtrustd"
e2e_directory_resume
e2e_log "... directory back: delivered"
e2e_retry out "$id"
delivered "$id" u@org-b.example org-b.example

e2e_log "after unpublishing org-b's certificate: deferred"
e2e_dtrust unpublish --server mx1.org-b.example "$certs/mx1.org-b.example.pem"
e2e_send u@org-b.example
deferred "$id" u@org-b.example "dsn=4\.7\.5, .*client TLS configuration problem"
grep -q "temporary error: dtrust: org-b.example is send-secure but no valid certificate is published" \
  "$e2e_work/out/maillog" || e2e_fail "no TEMP answer naming the reason"

e2e_log "... org-b.example switched to testing mode: delivered with TLS, unverified"
e2e_dtrust domain add org-b.example --send --testing
e2e_retry out "$id"
e2e_wait_log out "$id: to=<u@org-b.example>, relay=org-b.example\[127\.0\.0\.2\]:25, .*status=sent \(250 "
grep -q "Untrusted TLS connection established to org-b.example" "$e2e_work/out/maillog" ||
  e2e_fail "testing mode delivery was not over TLS"
grep -q "org-b.example is send-secure in testing mode" "$e2e_work/dtrustd.log" ||
  e2e_fail "dtrustd did not log the testing-mode lookup"

e2e_log "dtrustd stopped: deferred, never sent unverified"
e2e_dtrust domain add org-b.example --send
e2e_dtrustd_stop
e2e_send u@org-b.example
deferred "$id" u@org-b.example "dsn=4\.7\.5, .*client TLS configuration problem"

echo "outbound: all cases passed"
