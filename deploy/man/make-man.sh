#!/usr/bin/env bash
# Generates a man page from the --help text of the built binaries, so the
# page and --help cannot drift apart (tests/deploy/man_pages_test.sh checks
# that every option of --help is in the page and every option in the page is
# in --help).
#
#   make-man.sh dtrust  DTRUST-BINARY  VERSION INCLUDE-FILE OUT   # dtrust(1)
#   make-man.sh dtrustd DTRUSTD-BINARY VERSION INCLUDE-FILE OUT   # dtrustd(8)
#   make-man.sh dtrustd.conf DTRUSTD-BINARY VERSION TEMPLATE OUT  # dtrustd.conf(5)
#
# dtrust(1) and dtrustd(8) are help2man's work on the help text (for dtrust:
# the top-level help followed by each command's, under COMMANDS), with the
# hand-written sections of INCLUDE-FILE (help2man's --include format). For
# dtrustd.conf(5), TEMPLATE is a hand-written page whose line @SETTINGS@ is
# replaced by one entry per long option of `dtrustd --help`, as a config
# line. The date is SOURCE_DATE_EPOCH's (reproducible builds), else today's.
# OUT is written, and OUT.gz (gzip -9n) beside it for installation.
set -euo pipefail
kind=$1 binary=$2 version=$3 include=$4 out=$5
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# dtrust's help for the man page: the top-level help (its option list as
# OPTIONS, its exit codes as EXIT STATUS), then under COMMANDS each command's
# help without the global options and exit codes every command repeats.
dtrust_help_all() {
  "$binary" --help | sed -e 's/^usage:/Usage:/' \
    -e 's/^Global options (before or after the command):$/Options:/' \
    -e 's/^Exit codes:$/*Exit status*/'
  echo
  echo "*Commands*"
  local command
  for command in $("$binary" --help |
    sed -n '/^Commands:$/,/^$/s/^  \([a-z-]*\) .*/\1/p'); do
    [ "$command" = help ] && continue
    echo "dtrust $command:"
    "$binary" help "$command" |
      sed -e '/^Global options (before or after the command):$/,$d' \
        -e 's/^usage: /  /' -e 's/^       dtrust/  dtrust/' \
        -e "s/^Options:\$/Options of dtrust $command:/" \
        -e "s/^Commands:\$/Commands of dtrust $command:/" |
      sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
    echo
  done
}

# dtrustd.conf(5)'s settings: each long option of dtrustd's help (but
# --config, --check-config and --help, which are not config lines) as
# ".TP / name = ARG / its help text", under its group's heading.
conf_settings() {
  "$binary" --help | awk '
    function flush() {
      if (name != "" && section != "") { print ".SS \"" section "\""; section = "" }
      if (name != "") { print ".TP"; print head; print text }
      name = ""; text = ""
    }
    # An option line: "  --name ARG", the help text from column 28 on
    # (when the option is shorter) or on the lines below.
    function option(line,    arg) {
      flush()
      if (length(line) > 27 && substr(line, 27, 1) == " ") {
        text = substr(line, 28)
        line = substr(line, 1, 26)
      }
      sub(/^ *(-h,)?--/, "", line)
      sub(/ +$/, "", line)
      name = line
      sub(/[ =].*/, "", name)
      arg = substr(line, length(name) + 2)
      sub(/=.*/, "", arg)
      if (arg == "") arg = "true|false"
      head = "\\fB" name "\\fR = \\fI" arg "\\fR"
      if (name == "config" || name == "check-config" || name == "help") name = ""
    }
    /^Usage:/ { usage = 1; next }
    usage && /^[^ ].*:$/ { flush(); section = $0; sub(/:$/, "", section)
                           next }
    usage && /^  (-h,)?--/ { option($0); next }
    usage && /^           / && name != "" { line = $0; sub(/^ +/, "", line)
                                       text = text (text == "" ? "" : "\n") line; next }
    usage && /^$/ { flush(); next }
    usage && /^[^ ]/ { flush(); usage = 0 }
    END { flush() }' | sed -e 's/\\\([^fe]\)/\\e\1/g' -e 's/-/\\-/g' -e 's/^[.\x27]/\\\&&/' -e 's/^\\&\.\(TP\|SS\)/.\1/'
}

# Breaks text lines over 80 bytes at a space (mandoc -T lint's style
# limit); in fill mode a line break is a word space, so the output is the
# same. Requests, no-fill blocks and escaped spaces are left alone.
wrap_long_lines() {
  awk '
    /^\.nf/ { nofill = 1 }
    /^\.fi/ { nofill = 0 }
    nofill || /^[.\047]/ || length($0) <= 80 { print; next }
    {
      line = $0
      while (length(line) > 80) {
        cut = 0
        for (i = 80; i > 1; i--)
          if (substr(line, i, 1) == " " && substr(line, i - 1, 1) != "\\") {
            cut = i
            break
          }
        if (cut == 0) break
        print substr(line, 1, cut - 1)
        line = substr(line, cut + 1)
        sub(/^ +/, "", line)
        if (line ~ /^[.\047]/) line = "\\&" line
      }
      print line
    }'
}

case $kind in
  dtrust)
    dtrust_help_all >"$work/help"
    printf '#!/bin/sh\ncat "%s"\n' "$work/help" >"$work/dtrust"
    chmod +x "$work/dtrust"
    help2man --no-info --no-discard-stderr --version-string="$version" \
      --section=1 --include="$include" "$work/dtrust" >"$work/page"
    ;;
  dtrustd)
    help2man --no-info --no-discard-stderr --version-string="$version" \
      --section=8 --include="$include" "$binary" >"$work/page"
    ;;
  dtrustd.conf)
    conf_settings >"$work/settings"
    sed -e "/^@SETTINGS@\$/{r $work/settings" -e 'd}' "$include" >"$work/page"
    ;;
  *)
    echo "make-man.sh: unknown page $kind" >&2
    exit 2
    ;;
esac
# help2man's "Month Year" is not a date mandoc accepts; the template's
# @DATE@/@VERSION@ are filled in the same way. Lines are left-aligned
# (.ad l), as the help's JSON shapes are words too long to justify.
sed -e "s/^\(\.TH [^ ]* \"[0-9]*\"\) \"[^\"]*\"/\1 \"$date\"/" \
  -e '/^\.TH /a .ad l' \
  -e "s/@DATE@/$date/g" -e "s/@VERSION@/$version/g" "$work/page" |
  wrap_long_lines >"$out"
gzip -9n <"$out" >"$out.gz"
