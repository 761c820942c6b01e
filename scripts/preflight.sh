#!/usr/bin/env bash
# Checks, before any test starts, that every peer the tests (or the local example) run is there
# and has the capability they use, so a missing package fails here with its name instead of as a
# confusing assertion later. One line per check ("ok   ..." / "FAIL ...: install PACKAGE");
# after listing every failure, prints the commands that fix them and exits 1.
#
#   bash scripts/preflight.sh [all|example]
#
#   example  what scripts/run-example.sh runs: swaks (STARTTLS, AUTH), smtp-sink, python3 with
#            aiosmtpd, dnsmasq, openssl, the .NET 10 SDK
#   all      (default) adds etcd, the control plane built by scripts/build-control-plane.sh,
#            Helm 4 installed by scripts/install-helm.sh (the chart tests) and what the real-cluster
#            test runs (scripts/real-cluster.sh): containerd, runc, the CNI plugins, iptables, socat,
#            conntrack, iproute2, a cgroup file system, the node built by scripts/build-node.sh and
#            the images built by scripts/build-images.sh
#
# It checks the very programs the tests start (absolute paths, not PATH); each can be pointed
# elsewhere, e.g. at a broken fake in a test of this script:
#   MAILRELAY_SWAKS (/usr/bin/swaks)      MAILRELAY_SMTP_SINK (/usr/sbin/smtp-sink)
#   MAILRELAY_POSTFIX (/usr/sbin/postfix) MAILRELAY_SMTP_SOURCE (/usr/sbin/smtp-source)
#   MAILRELAY_PYTHON (/usr/bin/python3)   MAILRELAY_DNSMASQ (/usr/sbin/dnsmasq)
#   MAILRELAY_ETCD (/usr/bin/etcd)        MAILRELAY_OPENSSL (openssl on PATH)
#   MAILRELAY_DOTNET (dotnet on PATH)     MAILRELAY_K8S_BIN (~/.cache/mailrelay/k8s-1.20.2/bin)
#   MAILRELAY_HELM_BIN (~/.cache/mailrelay/helm-tools/bin)
#   MAILRELAY_NODE_BIN (~/.cache/mailrelay/k8s-1.20.2-node/bin)
#   MAILRELAY_IMAGES_DIR (~/.cache/mailrelay/images)   MAILRELAY_CNI_BIN (/usr/lib/cni)
#   MAILRELAY_UID (id -u: a test pretends not to be root)
set -uo pipefail

profile="${1:-all}"
case "$profile" in
  all | example) ;;
  *) echo "usage: $0 [all|example]" >&2; exit 2 ;;
esac

swaks="${MAILRELAY_SWAKS:-/usr/bin/swaks}"
smtp_sink="${MAILRELAY_SMTP_SINK:-/usr/sbin/smtp-sink}"
postfix="${MAILRELAY_POSTFIX:-/usr/sbin/postfix}"
smtp_source="${MAILRELAY_SMTP_SOURCE:-/usr/sbin/smtp-source}"
python="${MAILRELAY_PYTHON:-/usr/bin/python3}"
dnsmasq="${MAILRELAY_DNSMASQ:-/usr/sbin/dnsmasq}"
etcd="${MAILRELAY_ETCD:-/usr/bin/etcd}"
openssl="${MAILRELAY_OPENSSL:-openssl}"
dotnet="${MAILRELAY_DOTNET:-dotnet}"
k8s_bin="${MAILRELAY_K8S_BIN:-$HOME/.cache/mailrelay/k8s-1.20.2/bin}"
helm_bin="${MAILRELAY_HELM_BIN:-$HOME/.cache/mailrelay/helm-tools/bin}"
node_bin="${MAILRELAY_NODE_BIN:-$HOME/.cache/mailrelay/k8s-1.20.2-node/bin}"
images_dir="${MAILRELAY_IMAGES_DIR:-$HOME/.cache/mailrelay/images}"
cni_bin="${MAILRELAY_CNI_BIN:-/usr/lib/cni}"

failures=0
packages=()    # Debian packages that fix the failures
other_fixes=() # fixes that are not a package

ok() { printf 'ok   %s\n' "$1"; }
# fail CHECK PACKAGE...: the check failed; installing PACKAGE(s) fixes it.
fail() {
  local check=$1
  shift
  printf 'FAIL %s: install %s\n' "$check" "$*"
  failures=$((failures + 1))
  local p q
  for p in "$@"; do
    for q in "${packages[@]}"; do [ "$p" = "$q" ] && continue 2; done
    packages+=("$p")
  done
}
# fail_other CHECK FIX: the check failed; FIX (a sentence) fixes it.
fail_other() {
  printf 'FAIL %s: %s\n' "$1" "$2"
  failures=$((failures + 1))
  other_fixes+=("$2")
}
# The first line of a command's output, for "ok" lines.
first_line() { head -n1 | tr -d '\r'; }

# swaks: the tests use STARTTLS (--tls, needs Net::SSLeay) and AUTH PLAIN/LOGIN ("Basic AUTH").
if support=$("$swaks" --support 2>&1); then
  if grep -q '^=== TLS supported' <<<"$support"; then ok "swaks STARTTLS"; else fail "swaks STARTTLS" libnet-ssleay-perl; fi
  if grep -q '^=== Basic AUTH supported' <<<"$support"; then ok "swaks AUTH"; else fail "swaks AUTH" perl; fi
else
  fail "swaks ($swaks)" swaks libnet-ssleay-perl
fi

# The SES stand-in (tests/EndToEnd.Tests/Peers/upstream_smtp.py) runs on Debian's python3, not on
# whatever python3 comes first on PATH.
if [ ! -x "$python" ]; then
  fail "python3 ($python)" python3 python3-aiosmtpd
elif "$python" -c 'import aiosmtpd, ssl' 2>/dev/null; then
  ok "python3 aiosmtpd ($python)"
else
  fail "python3 aiosmtpd ($python)" python3-aiosmtpd
fi

if [ -f "$smtp_sink" ] && [ -x "$smtp_sink" ]; then ok "smtp-sink"; else fail "smtp-sink ($smtp_sink)" postfix; fi

if v=$("$dnsmasq" --version 2>&1); then ok "dnsmasq ($(first_line <<<"$v"))"; else fail "dnsmasq ($dnsmasq)" dnsmasq-base; fi

if v=$("$openssl" version 2>&1); then ok "openssl ($(first_line <<<"$v"))"; else fail "openssl ($openssl)" openssl; fi

if sdks=$("$dotnet" --list-sdks 2>/dev/null) && grep -q '^10\.' <<<"$sdks"; then
  ok "dotnet SDK 10 ($(grep '^10\.' <<<"$sdks" | first_line | cut -d' ' -f1))"
else
  fail_other "dotnet SDK 10 ($dotnet)" "install the .NET 10 SDK and put dotnet on PATH"
fi

if [ "$profile" = all ]; then
  # The end-to-end tests mount a small tmpfs (a full spool), run smtp-sink as nobody and put
  # run-example.sh in its own session: root, mount and setsid.
  if [ "${MAILRELAY_UID:-$(id -u)}" -eq 0 ]; then ok "root (tmpfs mounts, smtp-sink -u nobody)"; else fail_other "root" "run the tests as root (they mount a tmpfs and start smtp-sink as nobody)"; fi
  for tool in mount umount setsid; do
    if command -v "$tool" >/dev/null; then ok "$tool"; else fail "$tool" util-linux; fi
  done

  # The B1 bench's smoke test (tests/EndToEnd.Tests/Scripts/BenchSmokeTests.cs) runs smtp-source
  # against the relay and against a Postfix instance of its own.
  if [ -x "$postfix" ] && [ -x "$smtp_source" ]; then ok "postfix and smtp-source (bench smoke)"; else fail "postfix and smtp-source ($postfix, $smtp_source)" postfix; fi

  if v=$("$etcd" --version 2>&1); then ok "etcd ($(first_line <<<"$v"))"; else fail "etcd ($etcd)" etcd-server; fi

  # The control plane must not only exist but run (a half-built or foreign binary fails here).
  for cmd in kube-apiserver kube-controller-manager; do
    if v=$("$k8s_bin/$cmd" --version 2>&1) && grep -q '^Kubernetes v' <<<"$v"; then
      ok "$cmd ($(first_line <<<"$v"))"
    else
      fail_other "$cmd ($k8s_bin/$cmd)" "run bash scripts/build-control-plane.sh (MAILRELAY_K8S_BIN=$k8s_bin)"
    fi
  done

  # The chart tests run helm lint/template; Helm 4 (server-side apply, the schema checks they expect).
  if v=$("$helm_bin/helm" version --short 2>&1) && grep -q '^v4\.' <<<"$v"; then
    ok "helm ($(first_line <<<"$v"))"
  else
    fail_other "helm 4 ($helm_bin/helm)" "run bash scripts/install-helm.sh (MAILRELAY_HELM_BIN=$helm_bin)"
  fi

  # The real-cluster test (scripts/real-cluster.sh): a runtime, a pod network, a node, the images.
  if v=$(containerd --version 2>&1); then ok "containerd ($(first_line <<<"$v"))"; else fail "containerd" containerd; fi
  if v=$(ctr --version 2>&1); then ok "ctr ($(first_line <<<"$v"))"; else fail "ctr" containerd; fi
  if v=$(runc --version 2>&1); then ok "runc ($(first_line <<<"$v"))"; else fail "runc" runc; fi
  for plugin in bridge host-local loopback portmap; do
    if [ -x "$cni_bin/$plugin" ]; then ok "CNI $plugin"; else fail "CNI $plugin ($cni_bin/$plugin)" containernetworking-plugins; fi
  done
  for tool in iptables:iptables socat:socat conntrack:conntrack ip:iproute2 sysctl:procps pgrep:procps curl:curl; do
    if command -v "${tool%%:*}" >/dev/null; then ok "${tool%%:*}"; else fail "${tool%%:*}" "${tool#*:}"; fi
  done
  if [ -d /sys/fs/cgroup ] && [ -n "$(ls -A /sys/fs/cgroup 2>/dev/null)" ]; then
    ok "cgroup file system (/sys/fs/cgroup)"
  else
    fail_other "cgroup file system (/sys/fs/cgroup)" "mount the cgroup file system at /sys/fs/cgroup (kubelet and runc need it)"
  fi
  for cmd in kubelet kube-scheduler kube-proxy kube-apiserver; do
    if v=$("$node_bin/$cmd" --version 2>&1) && grep -q '^Kubernetes v1\.20\.2' <<<"$v"; then
      ok "$cmd for the node ($(first_line <<<"$v"))"
    else
      fail_other "$cmd for the node ($node_bin/$cmd, Kubernetes v1.20.2 stamped)" "run bash scripts/build-node.sh (MAILRELAY_NODE_BIN=$node_bin)"
    fi
  done
  for archive in pause mailrelay mailrelay-operator testclient; do
    if [ -s "$images_dir/$archive.oci.tar" ]; then
      ok "image $archive.oci.tar"
    else
      fail_other "image $archive.oci.tar ($images_dir)" "run bash scripts/build-images.sh (MAILRELAY_IMAGES_DIR=$images_dir)"
    fi
  done
fi

if [ "$failures" -eq 0 ]; then
  echo "preflight ($profile): every check passed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo "; fi
echo "preflight ($profile): $failures check(s) failed. To fix:"
if [ "${#packages[@]}" -gt 0 ]; then
  echo "  ${sudo}apt-get install -y --no-install-recommends ${packages[*]}"
fi
if [ "${#other_fixes[@]}" -gt 0 ]; then
  printf '%s\n' "${other_fixes[@]}" | sort -u | sed 's/^/  /'
fi
exit 1
