#!/usr/bin/env bash
# Installs the Debian bookworm packages dtrust needs to build, run and test.
# Idempotent: does nothing when everything is already installed. Run as root.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config
  libldap-dev libssl-dev libabsl-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libgtest-dev libgmock-dev
  # command lines of dtrustd, dtrust and the benchmarks (README: why CLI11)
  libcli11-dev
  # man pages generated from --help (deploy/man); the .deb: `cpack -G DEB`
  # computes its library dependencies with dpkg-shlibdeps (dpkg-dev)
  help2man dpkg-dev
  # the Postfix-facing servers' event loop: standalone Asio, header-only
  # (README: why Asio)
  libasio-dev
  # dtrustd --metrics-listen: Prometheus metric families and the /metrics
  # HTTP endpoint (prometheus-cpp core + pull; README: why prometheus-cpp)
  prometheus-cpp-dev
  # run: the embedded directory, and the LDAP/OpenSSL tools tests use;
  # ca-certificates is the system CA store for ldaps:// without --ldap-ca
  slapd ldap-utils openssl ca-certificates
  # Postfix end-to-end tests (tests/postfix): private Postfix instances,
  # swaks with TLS (Net::SSLeay is only a recommendation of swaks), network
  # namespaces (ip netns), pgrep
  postfix swaks libnet-ssleay-perl iproute2 procps
  # Exim end-to-end tests (tests/exim): Exim itself is unpacked into a
  # private root by tests/exim/private_exim.sh (installing it would remove
  # Postfix); these are the libraries its binary needs that nothing above
  # brings in
  libmariadb3 libspf2-2 libidn12
  # the benchmark compares with Postfix's own ldap: table (tests/benchmark);
  # its script reads the programs' JSON with jq
  postfix-ldap jq
  # tests/deploy: systemd-analyze rates deploy/systemd/dtrustd.service's
  # sandbox offline (no running systemd needed)
  systemd
  # tests/lint: clang-tidy with the tree's .clang-tidy
  clang-tidy-14
  # tests/run-sanitizers.sh: clang with ASan/UBSan runtimes and libFuzzer
  # (tests/fuzz)
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  # tests/deploy: the man pages linted (mandoc -T lint, groff -ww, man -l;
  # man-db brings groff-base), the .deb checked by lintian
  mandoc man-db lintian
  # tests/deploy: promtool checks and unit-tests deploy/prometheus/alerts.yml;
  # tests/metrics: a real Prometheus scrapes dtrustd
  prometheus
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
# Exim for tests/exim, unpacked into a private root beside Postfix (the
# package would replace it); does nothing when already there.
private_exim() {
  "$(dirname "$0")/../tests/exim/private_exim.sh" >/dev/null
}
if [ ${#missing[@]} -eq 0 ]; then
  private_exim
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix's package would otherwise ask what kind of mail system to set up;
# the tests run private instances from their own config directories, and a
# production MTA is configured by its admin (deploy/postfix/).
echo "postfix postfix/main_mailer_type select No configuration" |
  debconf-set-selections
apt-get update -qq
# slapd's package scripts configure a system directory we never use: dtrust
# runs its own slapd instances from their own config files.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
private_exim
