#!/usr/bin/env bash
# The man pages built from --help (deploy/man/make-man.sh): lint-clean for
# mandoc -T lint, groff -ww and man -l, and in step with --help both ways:
# every option of the help text is in the page, and every option the page
# names is one of the help text's. dtrust(1) covers each command (its help,
# `dtrust help COMMAND`), and dtrustd.conf(5) has one setting per long option
# of dtrustd but --config, --check-config and --help, and an example that
# dtrustd --check-config accepts.
#   man_pages_test.sh BUILD-DIR
set -euo pipefail
build=$1
man=$build/deploy/man
dtrust=$build/client/dtrust
dtrustd=$build/server/dtrustd
failed=0
fail() {
  echo "FAIL: $*" >&2
  failed=1
}

# The --long-options a text names, one per line, sorted.
options_in() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
# A page's roff source as text: \- is -, font and spacing escapes go.
page_text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\[,/&]//g' "$1"; }
# Fails unless the two sorted lists are equal, naming what each lacks.
same_options() {
  local what=$1 help=$2 page=$3 missing extra
  missing=$(comm -23 <(echo "$help") <(echo "$page"))
  extra=$(comm -13 <(echo "$help") <(echo "$page"))
  [ -z "$missing" ] || fail "$what: in --help, not in the page: ${missing//$'\n'/ }"
  [ -z "$extra" ] || fail "$what: in the page, not in --help: ${extra//$'\n'/ }"
}

for page in dtrust.1 dtrustd.8 dtrustd.conf.5; do
  if [ ! -s "$man/$page" ] || [ ! -s "$man/$page.gz" ]; then
    fail "$man/$page(.gz) not built"
    continue
  fi
  lint=$(mandoc -T lint "$man/$page" 2>&1) || true
  [ -z "$lint" ] || fail "mandoc -T lint $page: $lint"
  warnings=$(groff -ww -man -z "$man/$page" 2>&1) || fail "groff $page failed"
  [ -z "$warnings" ] || fail "groff -ww $page: $warnings"
  for width in 60 80 132; do
    warnings=$(MANWIDTH=$width man -l "$man/$page.gz" 2>&1 >/dev/null) ||
      fail "man -l $page.gz failed"
    [ -z "$warnings" ] || fail "MANWIDTH=$width man -l $page.gz: $warnings"
  done
done

commands=$("$dtrust" --help |
  sed -n '/^Commands:$/,/^$/s/^  \([a-z-]*\) .*/\1/p' | grep -vx help)
[ -n "$commands" ] || fail "no commands in dtrust --help"
dtrust_help=$({
  "$dtrust" --help
  for command in $commands; do "$dtrust" help "$command"; done
} | options_in)
same_options "dtrust(1)" "$dtrust_help" "$(page_text "$man/dtrust.1" | options_in)"
for command in $commands; do
  grep -qx ".SS \"dtrust $command:\"" "$man/dtrust.1" ||
    fail "dtrust(1) has no section for dtrust $command"
done

dtrustd_help=$("$dtrustd" --help | options_in)
same_options "dtrustd(8)" "$dtrustd_help" \
  "$(page_text "$man/dtrustd.8" | options_in)"

# dtrustd.conf(5): its settings ("name = ARG" entries) are the long options
# dtrustd declares but the three that are no config lines; the options its text
# names are dtrustd's.
declared=$("$dtrustd" --help |
  sed -n 's/^  \(-h,\)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' | sort -u)
settings=$(page_text "$man/dtrustd.conf.5" |
  sed -n 's/^\([a-z][a-z0-9-]*\) = .*/--\1/p' | sort -u)
same_options "dtrustd.conf(5) settings" \
  "$(grep -vx -e --config -e --check-config -e --help <<<"$declared")" \
  "$settings"
extra=$(comm -13 <(echo "$dtrustd_help") \
  <(page_text "$man/dtrustd.conf.5" | options_in))
[ -z "$extra" ] || fail "dtrustd.conf(5) names options dtrustd lacks: ${extra//$'\n'/ }"

# dtrustd.conf(5)'s example is a valid configuration (its password file
# made here).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo secret >"$scratch/ldap.pw"
page_text "$man/dtrustd.conf.5" | sed -n '/^\.SH EXAMPLES/,/^\.fi/p' |
  sed -e '1,2d' -e '$d' -e "s|/etc/dtrust/ldap.pw|$scratch/ldap.pw|" \
    >"$scratch/dtrustd.conf"
chmod 0644 "$scratch/dtrustd.conf"
"$dtrustd" --config "$scratch/dtrustd.conf" --check-config >/dev/null 2>&1 ||
  fail "dtrustd.conf(5)'s example: $("$dtrustd" --config "$scratch/dtrustd.conf" --check-config 2>&1)"

[ "$failed" = 0 ] && echo "man pages: lint-clean and in step with --help"
exit "$failed"
