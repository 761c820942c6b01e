#!/usr/bin/env bash
# Installs the Debian packages the tests and the local example need. Idempotent; runs as root
# without a terminal (CI). `apt-get update` runs once, then the packages are installed.
set -euo pipefail

packages=(
  swaks            # a real SMTP client
  postfix          # smtp-sink / smtp-source (MX stand-in, load, fault injection) and the baseline
  python3-aiosmtpd # the upstream relay stand-in (STARTTLS + AUTH)
  dnsmasq-base     # MX/A records for direct delivery
  openssl          # test CA for the local example
  etcd-server      # the real control plane for the operator tests ...
  golang-go        # ... whose kube-apiserver/kube-controller-manager scripts/build-control-plane.sh
  golang-github-modern-go-reflect2-dev # builds from Debian's kubernetes source package
  dpkg-dev         # apt-get source
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# deb-src for bookworm, for `apt-get source kubernetes` (the machine lists only binary packages).
if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    | $sudo tee /etc/apt/sources.list.d/mailrelay-bookworm-src.sources >/dev/null
fi
$sudo apt-get update -qq
# Postfix itself is not configured or started: only its smtp-sink/smtp-source tools are used.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

if ! command -v dotnet >/dev/null; then
  echo "error: the .NET 10 SDK (dotnet) is required and not on PATH" >&2
  exit 1
fi
echo "test prerequisites installed: ${packages[*]}"
