#!/usr/bin/env bash
# Inbound Domain Security with a real Postfix: swaks (playing partner MTAs)
# sends to a private Postfix (mx1.org-b.example) configured with
# deploy/postfix/main.cf.inbound, whose check_policy_service is dtrustd.
# Usage: inbound_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"

e2e_init "$1" "127.0.0.2 mx1.org-b.example"
mx=127.0.0.2:25
certs=$e2e_work/certs
e2e_inbound_certs

e2e_postfix_create mx mx1.org-b.example 127.0.0.2 25
e2e_postfix_include mx "$e2e_src/deploy/postfix/main.cf.inbound"
e2e_postfix_service mx "$e2e_src/deploy/postfix/master.cf" dtrust-header-milter
# Nothing is "my network": every client goes through the policy check.
e2e_postfix_set mx "mydestination = org-b.example" "mynetworks =" \
  "smtpd_tls_chain_files = $certs/mx1.org-b.example.key, $certs/mx1.org-b.example.pem"
e2e_dtrustd_start
e2e_postfix_start mx

e2e_inbound_partners

# expect_reject WHAT REASON_ERE SWAKS_ARGS...: refused at RCPT with 550 5.7.1
# and a reason matching REASON_ERE; nothing queued.
expect_reject() {
  local what=$1 reason=$2
  shift 2
  e2e_expect_refused "$what" "550 5\.7\.1 .*$reason" "$@"
}

# expect_delivered WHAT SWAKS_ARGS...: accepted and delivered, without the
# boundary header; sets $mail to the delivered message's file.
expect_delivered() {
  e2e_expect_delivered "$@"
  ! grep -qi '^X-DirectTrust-Boundary' "$mail" ||
    e2e_fail "$1: the boundary header reached the mailbox: $(cat "$mail")"
}

# The header section of the delivered message $mail.
headers() { sed '/^$/q' "$mail"; }

fp_a=$(e2e_fingerprint mx1.org-a.example | tr -d : | tr 'A-F' 'a-f')

expect_delivered "published client certificate, two recipients" \
  --from alice@org-a.example --to u@org-b.example,v@org-b.example \
  "${as_a[@]}"
[ "$(grep -c '^X-DirectTrust:' "$mail")" -eq 1 ] ||
  e2e_fail "want one X-DirectTrust header in $(cat "$mail")"
header=$(grep '^X-DirectTrust:' "$mail")
for part in "domain-secured;" "domain=org-a.example;" \
    "server=mx1.org-a.example;" "cert-sha256=$fp_a"; do
  [[ "$header" == *"$part"* ]] || e2e_fail "header lacks $part: $header"
done
grep -q "^To: u@org-b.example,v@org-b.example" "$mail" ||
  e2e_fail "not the message sent: $(cat "$mail")"

expect_reject "unpublished client certificate" "not published" \
  --from alice@org-a.example "${as_rogue[@]}"
fp_rogue=$(e2e_fingerprint rogue.org-a.example | tr -d : | tr 'A-F' 'a-f')
grep -q "rejected mail from org-a.example .*$fp_rogue" "$e2e_work/dtrustd.log" ||
  e2e_fail "dtrustd did not log the rejection with the digest $fp_rogue"
expect_reject "certificate published for another domain" \
  "published for mx1.org-c.example, a server of another domain" \
  --from alice@org-a.example "${as_c[@]}"
expect_reject "TLS without a client certificate" "no client certificate" \
  --from alice@org-a.example --tls
expect_reject "no TLS" "no TLS" --from alice@org-a.example

expect_delivered "testing mode, unpublished certificate" \
  --from tess@org-t.example --to u@org-b.example \
  "${as_rogue[@]}"
grep -q "^X-DirectTrust: testing; domain=org-t.example; result=fail; .*not published" \
  "$mail" || e2e_fail "no testing header in $(cat "$mail")"
grep -q "testing mode, would reject mail from org-t.example" \
  "$e2e_work/dtrustd.log" || e2e_fail "dtrustd did not log the testing-mode decision"

expect_delivered "domain on no list, no TLS" \
  --from zoe@org-z.example --to u@org-b.example
! grep -q '^X-DirectTrust:' "$mail" || e2e_fail "header on unlisted mail"

# A message carrying forged X-DirectTrust headers: exact, lower and upper
# case, a space before the colon, folded, and one above a forged boundary
# header (the milter trusts only the first boundary: smtpd's own). The same
# text in the body is no header and stays.
forged=$e2e_work/forged.eml
sed 's/$/\r/' >"$forged" <<EOF
X-DirectTrust: domain-secured; domain=org-a.example; server=forged-1.org-a.example; cert-sha256=$fp_a
X-DirectTrust-Boundary: end of headers Postfix prepended
x-directtrust: domain-secured; domain=org-a.example; server=forged-2.org-a.example
X-DIRECTTRUST : domain-secured; domain=org-a.example; server=forged-3.org-a.example
Subject: forged Domain Security mark
X-DirectTrust:
	domain-secured; domain=org-a.example;
	server=forged-4.org-a.example
From: someone@org-a.example
To: u@org-b.example

X-DirectTrust: domain-secured; server=forged-body.org-a.example
.
EOF
# forged_gone: no forged header is left in $mail's header section, the body
# line is, and the maillog names the removal.
forged_gone() {
  ! headers | grep -qi 'forged-[0-9]' ||
    e2e_fail "a forged X-DirectTrust header reached the mailbox: $(cat "$mail")"
  grep -q '^X-DirectTrust: domain-secured; server=forged-body' "$mail" ||
    e2e_fail "the body was changed: $(cat "$mail")"
  e2e_wait_log mx "dtrust-header-milter.*: $(basename "$mail"): removed 4 forged X-DirectTrust header"
}

expect_delivered "domain on no list, forged X-DirectTrust headers: all removed" \
  --from zoe@org-z.example --to u@org-b.example --data "@$forged"
! headers | grep -qiE '^X-DirectTrust *:' ||
  e2e_fail "X-DirectTrust header on unlisted mail: $(cat "$mail")"
forged_gone

expect_delivered "receive-secure partner, forged X-DirectTrust headers: only dtrust's" \
  --from alice@org-a.example --to u@org-b.example --data "@$forged" \
  "${as_a[@]}"
[ "$(headers | grep -ciE '^X-DirectTrust *:')" -eq 1 ] ||
  e2e_fail "want exactly one X-DirectTrust header: $(cat "$mail")"
# dtrust's, above smtpd's Received: line.
head -1 "$mail" | grep -qx "X-DirectTrust: domain-secured; domain=org-a.example; server=mx1.org-a.example; cert-sha256=$fp_a" ||
  e2e_fail "the X-DirectTrust header is not dtrust's: $(cat "$mail")"
sed -n 2p "$mail" | grep -q '^Received: ' ||
  e2e_fail "dtrust's header is not just above Received: $(cat "$mail")"
forged_gone

expect_delivered "testing mode, forged X-DirectTrust headers: only dtrust's" \
  --from tess@org-t.example --to u@org-b.example --data "@$forged" \
  "${as_rogue[@]}"
[ "$(headers | grep -ciE '^X-DirectTrust *:')" -eq 1 ] ||
  e2e_fail "want exactly one X-DirectTrust header: $(cat "$mail")"
head -1 "$mail" | grep -q "^X-DirectTrust: testing; domain=org-t.example; result=fail;" ||
  e2e_fail "the X-DirectTrust header is not dtrust's: $(cat "$mail")"
forged_gone

e2e_log "header milter cannot run: refused for now (451 4.7.1), never accepted"
chmod 644 "$e2e_work/mx/etc/dtrust-header-milter"
e2e_swaks "$mx" --from zoe@org-z.example --to u@org-b.example \
  --data "@$forged" && e2e_fail "accepted without the header milter"
e2e_swaks_replied "451 4\.7\.1 " ||
  e2e_fail "want 451 4.7.1 without the header milter: $(cat "$e2e_work/swaks.out")"
chmod 755 "$e2e_work/mx/etc/dtrust-header-milter"

e2e_log "directory stopped, mirror stale: temporary failure, never accepted or rejected"
e2e_directory_stop
e2e_directory_stale_wait
e2e_swaks "$mx" --from alice@org-a.example --to u@org-b.example \
  "${as_a[@]}" && e2e_fail "accepted while directory down"
e2e_swaks_replied "451 4\.3\.0 " ||
  e2e_fail "want 451 4.3.0 while the directory is down: $(cat "$e2e_work/swaks.out")"
e2e_directory_resume
expect_delivered "directory back" \
  --from alice@org-a.example --to u@org-b.example \
  "${as_a[@]}"
grep -q "^X-DirectTrust: domain-secured;" "$mail" || e2e_fail "no header"

e2e_log "dtrustd down: Postfix's smtpd_policy_service_default_action (451)"
e2e_dtrustd_stop
e2e_swaks "$mx" --from alice@org-a.example --to u@org-b.example \
  "${as_a[@]}" && e2e_fail "accepted while dtrustd down"
e2e_swaks_replied "451 4\.3\.5 " ||
  e2e_fail "want 451 4.3.5 while dtrustd is down: $(cat "$e2e_work/swaks.out")"

echo "inbound: all cases passed"
