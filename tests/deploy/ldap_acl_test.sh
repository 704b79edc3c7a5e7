#!/usr/bin/env bash
# Proves deploy/ldap/acl.ldif (cn=config) and acl.conf (slapd.conf), each on
# a private slapd with a permissive site rule ("to * by * read") after them:
# dtrustd's account adds, modifies and deletes under dtrust's base DN; the
# reader group's member searches it but may not write (insufficientAccess);
# another account and anonymous see no entry there and cannot write; refused
# writes change nothing. Uses real ldapadd/ldapmodify/ldapsearch over ldapi.
# shellcheck disable=SC2034  # as_* arrays are used through namerefs
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/dtrust-acl.XXXXXX)
slapd_pid=
stop_slapd() {
  if [ -n "$slapd_pid" ]; then
    kill "$slapd_pid" 2>/dev/null || true
    wait "$slapd_pid" 2>/dev/null || true
    slapd_pid=
  fi
}
trap 'stop_slapd; rm -rf "$tmp"' EXIT

# The test's DNs, deliberately unlike the files' placeholders.
suffix=o=corp
base=ou=trust,o=corp
writer=uid=dtrustd-svc,ou=accounts,o=corp
reader=uid=mta1,ou=accounts,o=corp
stranger=uid=alice,ou=accounts,o=corp
readers=cn=mta-readers,ou=groups,o=corp
# How each of them binds (used through namerefs: as_$who).
as_writer=(-x -D "$writer" -w writer-pw)
as_reader=(-x -D "$reader" -w reader-pw)
as_stranger=(-x -D "$stranger" -w stranger-pw)
as_anonymous=(-x)
me="gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth"
socket=$tmp/ldapi
uri=ldapi://${socket//\//%2F}

fail() { echo "FAIL: $*" >&2; exit 1; }

# Prints FILE with the placeholders replaced; fails if one is left.
substitute() {
  sed -e "s/ou=dtrust,dc=example,dc=org/$base/g" \
      -e "s/cn=dtrustd,ou=services,dc=example,dc=org/$writer/g" \
      -e "s/cn=dtrust-readers,ou=groups,dc=example,dc=org/$readers/g" \
      "$1" >"$tmp/substituted"
  if grep -v '^#' "$tmp/substituted" | grep -q 'example'; then
    fail "$1: a placeholder DN was not replaced"
  fi
  cat "$tmp/substituted"
}

# expect RC COMMAND...: runs COMMAND (output in $tmp/out), wants exit RC.
expect() {
  local want=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || { cat "$tmp/out" >&2; fail "exit $rc, not $want: $*"; }
}

# found WHO BASE [FILTER]: the number of entries WHO's search finds.
found() {
  local -n auth=as_$1
  local rc=0
  ldapsearch -LLL -H "$uri" "${auth[@]}" -b "$2" "${3:-(objectClass=*)}" 1.1 \
    >"$tmp/found" 2>&1 || rc=$?
  # noSuchObject: the base itself is not disclosed to WHO.
  [ "$rc" = 0 ] || [ "$rc" = 32 ] || { cat "$tmp/found" >&2; fail "search by $1: exit $rc"; }
  grep -c '^dn:' "$tmp/found" || true
}

# The directory: accounts, the reader group, dtrust's (empty) base entry.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj /CN=mx1.org-b.example -keyout "$tmp/key.pem" -outform DER \
  -out "$tmp/cert.der" -days 30 2>/dev/null
cert_sha256=$(sha256sum <"$tmp/cert.der" | cut -c1-64)
cat >"$tmp/data.ldif" <<EOF
dn: $suffix
objectClass: organization
o: corp

dn: ou=accounts,$suffix
objectClass: organizationalUnit
ou: accounts

dn: ou=groups,$suffix
objectClass: organizationalUnit
ou: groups
EOF
while read -r dn password; do
  uid=${dn%%,*}
  printf '\ndn: %s\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: %s\nuserPassword: %s\n' \
    "$dn" "${uid#uid=}" "$password" >>"$tmp/data.ldif"
done <<EOF
$writer writer-pw
$reader reader-pw
$stranger stranger-pw
EOF
cat >>"$tmp/data.ldif" <<EOF

dn: $readers
objectClass: groupOfNames
cn: mta-readers
member: $reader

dn: $base
objectClass: organizationalUnit
ou: trust
EOF
# Like Debian's default database rules, which the dtrust rules must precede.
site_rules=("to attrs=userPassword by self write by anonymous auth by * none"
            "to * by * read")

# Starts slapd on $uri with the config given (-f FILE or -F DIR), waits.
start_slapd() {
  /usr/sbin/slapd -d none -h "$uri" "$@" >"$tmp/slapd.log" 2>&1 &
  slapd_pid=$!
  for _ in $(seq 100); do
    ldapsearch -x -H "$uri" -s base -b "" 1.1 >/dev/null 2>&1 && return
    kill -0 "$slapd_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$tmp/slapd.log" >&2
  fail "slapd did not start"
}

# Fills the (new, empty) database with data.ldif.
load_data() { /usr/sbin/slapadd -q "$@" -b "$suffix" -l "$tmp/data.ldif"; }

# The dtrust rules from acl.ldif, loaded live as an administrator would.
setup_cn_config() {
  rm -rf "$tmp/slapd.d" "$tmp/db" && mkdir "$tmp/slapd.d" "$tmp/db"
  {
    printf 'dn: cn=config\nobjectClass: olcGlobal\ncn: config\n\n'
    printf 'dn: cn=module{0},cn=config\nobjectClass: olcModuleList\n'
    printf 'cn: module{0}\nolcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n'
    printf 'dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n'
    printf 'include: file:///etc/ldap/schema/core.ldif\n\n'
    printf 'include: file:///etc/ldap/schema/cosine.ldif\n\n'
    printf 'dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n'
    printf 'objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n\n'
    printf 'dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n'
    printf 'olcDatabase: {0}config\nolcAccess: {0}to * by dn.exact="%s" manage by * none\n\n' "$me"
    printf 'dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n'
    printf 'objectClass: olcMdbConfig\nolcDatabase: {1}mdb\nolcSuffix: %s\n' "$suffix"
    printf 'olcDbDirectory: %s\nolcDbNoSync: TRUE\n' "$tmp/db"
    printf 'olcAccess: {0}%s\nolcAccess: {1}%s\n' "${site_rules[@]}"
  } >"$tmp/config.ldif"
  /usr/sbin/slapadd -q -n 0 -F "$tmp/slapd.d" -l "$tmp/config.ldif"
  load_data -F "$tmp/slapd.d"
  start_slapd -F "$tmp/slapd.d"
  expect 0 ldapadd -Q -Y EXTERNAL -H "$uri" -f "$top/deploy/ldap/dtrust.ldif"
  substitute "$top/deploy/ldap/acl.ldif" >"$tmp/acl.ldif"
  expect 0 ldapmodify -Q -Y EXTERNAL -H "$uri" -f "$tmp/acl.ldif"
}

# The same with acl.conf pasted into slapd.conf before the site rules.
setup_slapd_conf() {
  rm -rf "$tmp/db" && mkdir "$tmp/db"
  {
    printf 'include /etc/ldap/schema/%s.schema\n' core cosine
    printf 'include %s\n' "$top/deploy/ldap/dtrust.schema"
    printf 'modulepath /usr/lib/ldap\nmoduleload back_mdb\n'
    printf 'database mdb\nsuffix %s\ndirectory %s\ndbnosync\n' "$suffix" "$tmp/db"
    substitute "$top/deploy/ldap/acl.conf"
    printf 'access %s\n' "${site_rules[@]}"
  } >"$tmp/slapd.conf"
  load_data -f "$tmp/slapd.conf"
  start_slapd -f "$tmp/slapd.conf"
}

server=cn=mx1.org-b.example,ou=servers,$base
pin=dtrustCertSha256=$cert_sha256,$server

check_rules() {
  # The writer builds what dtrustd builds: the three OUs, a server with a
  # pinned certificate, a Domain Security entry; changes and deletes entries.
  expect 0 ldapadd "${as_writer[@]}" -H "$uri" <<EOF
dn: ou=servers,$base
objectClass: organizationalUnit
ou: servers

dn: ou=domains,$base
objectClass: organizationalUnit
ou: domains

dn: ou=clients,$base
objectClass: organizationalUnit
ou: clients

dn: $server
objectClass: dtrustTransportServer
cn: mx1.org-b.example
dtrustMailDomain: org-b.example

dn: $pin
objectClass: dtrustPinnedCertificate
dtrustCertSha256: $cert_sha256
dtrustSpkiSha256: $cert_sha256
dtrustPinKind: certificate
userCertificate;binary:< file://$tmp/cert.der

dn: cn=org-b.example,ou=domains,$base
objectClass: dtrustSecureDomain
cn: org-b.example
dtrustSendSecurity: testing

dn: cn=mx2.org-b.example,ou=servers,$base
objectClass: dtrustTransportServer
cn: mx2.org-b.example
dtrustMailDomain: org-b.example
EOF
  expect 0 ldapmodify "${as_writer[@]}" -H "$uri" <<EOF
dn: $server
changetype: modify
add: dtrustMailDomain
dtrustMailDomain: org-c.example

dn: cn=org-b.example,ou=domains,$base
changetype: modify
replace: dtrustSendSecurity
dtrustSendSecurity: enforce
EOF
  expect 0 ldapdelete "${as_writer[@]}" -H "$uri" "cn=mx2.org-b.example,ou=servers,$base"
  [ "$(found writer "$base" '(cn=mx2.org-b.example)')" = 0 ] || fail "writer's delete"
  [ "$(found writer "$server" '(dtrustMailDomain=org-c.example)')" = 1 ] ||
    fail "writer's modify"
  # ... but neither changes nor deletes the base entry itself.
  printf 'dn: %s\nchangetype: modify\nadd: description\ndescription: x\n' "$base" |
    expect 50 ldapmodify "${as_writer[@]}" -H "$uri"
  expect 50 ldapdelete "${as_writer[@]}" -H "$uri" "$base"

  # base, 3 OUs, server, pin, domain
  [ "$(found writer "$base")" = 7 ] || fail "writer sees $(found writer "$base") entries, not 7"
  [ "$(found reader "$base")" = 7 ] || fail "reader sees $(found reader "$base") entries, not 7"
  ldapsearch -LLL -o ldif-wrap=no -H "$uri" "${as_writer[@]}" -b "$base" '*' '+' |
    sort >"$tmp/before"

  # Others see nothing there, though the site rule lets them read the rest.
  for who in stranger anonymous; do
    [ "$(found $who "$base")" = 0 ] || fail "$who sees entries under the base"
    [ "$(found $who "$suffix" '(|(objectClass=dtrust*)(ou=*))')" = 2 ] ||
      fail "$who: a search from the suffix finds more than ou=accounts,groups"
    [ "$(found $who "$suffix" "(dtrustCertSha256=$cert_sha256)")" = 0 ] ||
      fail "$who finds the pin by its digest"
  done

  # Refused writes: insufficientAccess (50); for anonymous, slapd already
  # says strongerAuthRequired (8, "modifications require authentication").
  local who rc
  while read -r who rc; do
    local -n auth=as_$who
    printf 'dn: %s\nchangetype: modify\nadd: dtrustMailDomain\ndtrustMailDomain: evil.example\n' "$server" |
      expect "$rc" ldapmodify "${auth[@]}" -H "$uri"
    printf 'dn: cn=evil.example,ou=servers,%s\nobjectClass: dtrustTransportServer\ncn: evil.example\n' "$base" |
      expect "$rc" ldapadd "${auth[@]}" -H "$uri"
    expect "$rc" ldapdelete "${auth[@]}" -H "$uri" "$pin" </dev/null
  done <<EOF
reader 50
stranger 50
anonymous 8
EOF
  ldapsearch -LLL -o ldif-wrap=no -H "$uri" "${as_writer[@]}" -b "$base" '*' '+' |
    sort >"$tmp/after"
  diff "$tmp/before" "$tmp/after" >&2 || fail "refused writes changed the subtree"
}

setup_cn_config
check_rules
echo "acl.ldif (cn=config): ok"
stop_slapd
setup_slapd_conf
check_rules
echo "acl.conf (slapd.conf): ok"
