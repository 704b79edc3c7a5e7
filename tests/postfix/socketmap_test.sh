#!/usr/bin/env bash
# dtrustd's socketmap queried by Postfix's own client, `postmap -q`, the way
# smtp_tls_policy_maps does: listed, unlisted, [host]:port and parent-domain
# keys, testing mode, nothing published, directory down.
# Usage: socketmap_test.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"

e2e_init "$1"
e2e_dtrustd_start
certs=$e2e_work/certs
for name in mx1.org-b.example mx2.org-b.example mx1.org-t.example; do
  e2e_cert "$name"
done
e2e_dtrust domain add org-b.example --send
e2e_dtrust domain add org-t.example --send --testing
e2e_dtrust domain add org-e.example --send
e2e_dtrust domain add org-r.example --receive
e2e_dtrust publish --server mx1.org-b.example --domain org-b.example \
  "$certs/mx1.org-b.example.pem"
e2e_dtrust publish --server mx2.org-b.example --domain org-b.example \
  --pin key "$certs/mx2.org-b.example.pem"
e2e_dtrust publish --server mx1.org-t.example --domain org-t.example \
  "$certs/mx1.org-t.example.pem"

# postmap needs a config dir; its main.cf only sets the compatibility level.
mkdir -p "$e2e_work/postmap"
echo "compatibility_level = 3.7" >"$e2e_work/postmap/main.cf"
map="socketmap:unix:$e2e_work/dtrust/tls-policy:dtrust"

# Normalized digests (upper-case hex, no colons) of the pins.
hex() { tr -d : | tr 'a-f' 'A-F'; }
cert_b1=$(e2e_fingerprint mx1.org-b.example | hex)
spki_b2=$(openssl x509 -in "$certs/mx2.org-b.example.pem" -noout -pubkey |
  openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 | hex)

# lookup KEY: sets $answer and $status from `postmap -q KEY`.
lookup() {
  answer=$(postmap -c "$e2e_work/postmap" -q "$1" "$map" 2>"$e2e_work/postmap.err")
  status=$?
  echo "$1 -> [$status] $answer $(cat "$e2e_work/postmap.err")"
}

# pins: the digests of the "fingerprint match=..." answer, sorted, one line.
pins() {
  [[ "$answer" =~ ^fingerprint\ match=[0-9A-Fa-f:|]+$ ]] ||
    e2e_fail "not a fingerprint policy: $answer"
  tr '|' '\n' <<<"${answer#fingerprint match=}" | hex | sort | tr '\n' ' '
}

expect_pins() {
  local key=$1
  shift
  lookup "$key"
  [ "$status" -eq 0 ] || e2e_fail "$key: postmap exit $status"
  local want
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [ "$(pins)" = "$want" ] || e2e_fail "$key: pins $(pins), want $want"
}

# NOTFOUND: exit 1, silently.
expect_notfound() {
  lookup "$1"
  if [ "$status" -ne 1 ] || [ -n "$answer" ] || [ -s "$e2e_work/postmap.err" ]; then
    e2e_fail "$1: want NOTFOUND, got exit $status: $answer"
  fi
}

# expect_temp KEY REASON_ERE: TEMP, which postmap reports as a query error
# (exit 1 too, but fatal) after logging dtrustd's reason.
expect_temp() {
  lookup "$1"
  if [ "$status" -eq 0 ] || [ -n "$answer" ]; then
    e2e_fail "$1: want a lookup error (TEMP), got exit $status: $answer"
  fi
  if ! grep -qE "socketmap server temporary error: dtrust: .*$2" "$e2e_work/postmap.err" ||
      ! grep -q "fatal: table $map: query error" "$e2e_work/postmap.err"; then
    e2e_fail "$1: no TEMP /$2/: $(cat "$e2e_work/postmap.err")"
  fi
}

e2e_log "send-secure domain: every pin of its servers (certificate and key)"
expect_pins org-b.example "$cert_b1" "$spki_b2"
e2e_log "next hops from transport maps / relayhost"
expect_pins "[org-b.example]:25" "$cert_b1" "$spki_b2"
expect_pins "[mx1.org-b.example]:25" "$cert_b1"
expect_pins "[mx2.org-b.example]" "$spki_b2"
expect_pins "mx1.org-b.example:2525" "$cert_b1"
e2e_log "case and trailing dot do not matter"
expect_pins ORG-B.Example. "$cert_b1" "$spki_b2"
e2e_log "NOTFOUND: parent-domain probe, unlisted, receive-only, IP literal"
expect_notfound .org-b.example
expect_notfound .example
expect_notfound unlisted.example
expect_notfound sub.org-b.example
expect_notfound org-r.example
expect_notfound "[127.0.0.2]:25"
expect_notfound "[unpublished.example]:25"
e2e_log "testing mode: mail flows with opportunistic TLS"
lookup org-t.example
if [ "$status" -ne 0 ] || [ "$answer" != may ]; then
  e2e_fail "org-t.example: want may, got exit $status: $answer"
fi
e2e_log "send-secure, nothing published: TEMP, never NOTFOUND"
expect_temp org-e.example "no valid certificate"

e2e_log "several keys on one connection (postmap -q -): answered in order"
printf '%s\n' org-b.example unlisted.example "[mx1.org-b.example]:25" |
  postmap -c "$e2e_work/postmap" -q - "$map" >"$e2e_work/batch.out" ||
  e2e_fail "postmap -q - failed"
cut -f1 "$e2e_work/batch.out" | tr '\n' ' ' | grep -qx "org-b.example \[mx1.org-b.example\]:25 " ||
  e2e_fail "batch answers: $(cat "$e2e_work/batch.out")"
grep -q "^\[mx1.org-b.example\]:25	fingerprint match=" "$e2e_work/batch.out" ||
  e2e_fail "batch answers: $(cat "$e2e_work/batch.out")"

e2e_log "directory stopped: answered from the mirror while it is fresh"
e2e_directory_stop
expect_pins org-b.example "$cert_b1" "$spki_b2"
e2e_log "... then TEMP for listed and unlisted keys alike"
e2e_directory_stale_wait
expect_temp org-b.example "directory unavailable"
expect_temp unlisted.example "directory unavailable"
e2e_directory_resume
expect_pins org-b.example "$cert_b1" "$spki_b2"

echo "socketmap: all cases passed"
