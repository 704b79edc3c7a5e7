#!/usr/bin/env bash
# Inbound Domain Security with a real Exim: swaks (playing partner MTAs)
# sends to a private Exim (mx1.org-b.example) whose MAIL ACL calls
# deploy/exim/acl.conf's dtrust_check_sender, which asks dtrustd's policy
# service through ${readsocket}.
# Usage: inbound_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"

exim_init "$1" "127.0.0.2 mx1.org-b.example"
mx=127.0.0.2:25
certs=$e2e_work/certs
e2e_inbound_certs
chmod 644 "$certs"/*.key  # Exim reads its key as Debian-exim.

exim_create mx mx1.org-b.example 127.0.0.2 25 org-b.example
# DTRUST_TIMEOUT: a hung dtrustd shows within a second.
exim_set mx "DTRUST_TIMEOUT = 1s" \
  "tls_certificate = $certs/mx1.org-b.example.pem" \
  "tls_privatekey = $certs/mx1.org-b.example.key"
e2e_dtrustd_start
exim_start mx

e2e_inbound_partners

# The header section of the delivered message $mail.
headers() { sed '/^$/q' "$mail"; }

fp_a=$(e2e_fingerprint mx1.org-a.example | tr -d : | tr 'A-F' 'a-f')

e2e_expect_delivered "published client certificate, two recipients" \
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

e2e_expect_refused "unpublished client certificate" "550 5\.7\.1 .*not published" \
  --from alice@org-a.example "${as_rogue[@]}"
fp_rogue=$(e2e_fingerprint rogue.org-a.example | tr -d : | tr 'A-F' 'a-f')
grep -q "rejected mail from org-a.example .*$fp_rogue" "$e2e_work/dtrustd.log" ||
  e2e_fail "dtrustd did not log the rejection with the digest $fp_rogue"
e2e_expect_refused "certificate published for another domain" \
  "550 5\.7\.1 .*published for mx1.org-c.example, a server of another domain" \
  --from alice@org-a.example "${as_c[@]}"
e2e_expect_refused "TLS without a client certificate" \
  "550 5\.7\.1 .*no client certificate" --from alice@org-a.example --tls
e2e_expect_refused "no TLS" "550 5\.7\.1 .*no TLS" --from alice@org-a.example

e2e_expect_delivered "testing mode, unpublished certificate" \
  --from tess@org-t.example --to u@org-b.example "${as_rogue[@]}"
grep -q "^X-DirectTrust: testing; domain=org-t.example; result=fail; .*not published" \
  "$mail" || e2e_fail "no testing header in $(cat "$mail")"

e2e_expect_delivered "domain on no list, no TLS" \
  --from zoe@org-z.example --to u@org-b.example
! grep -q '^X-DirectTrust:' "$mail" || e2e_fail "header on unlisted mail"

# A message carrying forged X-DirectTrust headers: exact, lower and upper
# case, a space before the colon, folded. The same text in the body is no header and stays.
forged=$e2e_work/forged.eml
sed 's/$/\r/' >"$forged" <<EOT
X-DirectTrust: domain-secured; domain=org-a.example; server=forged-1.org-a.example; cert-sha256=$fp_a
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
EOT
# forged_gone: no forged header is left in $mail's header section; the body
# line is.
forged_gone() {
  ! headers | grep -qi 'forged-[0-9]' ||
    e2e_fail "a forged X-DirectTrust header reached the mailbox: $(cat "$mail")"
  grep -q '^X-DirectTrust: domain-secured; server=forged-body' "$mail" ||
    e2e_fail "the body was changed: $(cat "$mail")"
}

e2e_expect_delivered "domain on no list, forged X-DirectTrust headers: all removed" \
  --from zoe@org-z.example --to u@org-b.example --data "@$forged"
! headers | grep -qiE '^X-DirectTrust *:' ||
  e2e_fail "X-DirectTrust header on unlisted mail: $(cat "$mail")"
forged_gone

e2e_expect_delivered "receive-secure partner, forged X-DirectTrust headers: only dtrust's" \
  --from alice@org-a.example --to u@org-b.example --data "@$forged" \
  "${as_a[@]}"
[ "$(headers | grep -ciE '^X-DirectTrust *:')" -eq 1 ] ||
  e2e_fail "want exactly one X-DirectTrust header: $(cat "$mail")"
# dtrust's, above Exim's Received: line.
head -1 "$mail" | grep -qx "X-DirectTrust: domain-secured; domain=org-a.example; server=mx1.org-a.example; cert-sha256=$fp_a" ||
  e2e_fail "the X-DirectTrust header is not dtrust's: $(cat "$mail")"
forged_gone

e2e_log "dtrustd hung: 451 4.3.5 after DTRUST_TIMEOUT, never accepted"
exim_dtrustd_hang
start=$SECONDS
e2e_expect_refused "... published certificate" "451 4\.3\.5 " \
  --from alice@org-a.example "${as_a[@]}"
[ $((SECONDS - start)) -le 5 ] ||
  e2e_fail "the refusal took $((SECONDS - start)) s with DTRUST_TIMEOUT = 1s"
exim_dtrustd_resume
e2e_expect_delivered "dtrustd continued" \
  --from alice@org-a.example --to u@org-b.example "${as_a[@]}"

e2e_log "directory stopped, mirror stale: temporary failure, never accepted or rejected"
e2e_directory_stop
e2e_directory_stale_wait
e2e_expect_refused "... published certificate" "451 4\.3\.0 " \
  --from alice@org-a.example "${as_a[@]}"
e2e_directory_resume
e2e_expect_delivered "directory back" \
  --from alice@org-a.example --to u@org-b.example "${as_a[@]}"
grep -q "^X-DirectTrust: domain-secured;" "$mail" || e2e_fail "no header"

e2e_log "dtrustd down: 451 4.3.5 from the ACL"
e2e_dtrustd_stop
e2e_expect_refused "... published certificate" "451 4\.3\.5 " \
  --from alice@org-a.example "${as_a[@]}"
e2e_expect_refused "... domain on no list" "451 4\.3\.5 " \
  --from zoe@org-z.example

echo "exim inbound: all cases passed"
