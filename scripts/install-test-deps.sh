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
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

$sudo apt-get update -qq
# Postfix itself is not configured or started: only its smtp-sink/smtp-source tools are used.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

if ! command -v dotnet >/dev/null; then
  echo "error: the .NET 10 SDK (dotnet) is required and not on PATH" >&2
  exit 1
fi
echo "test prerequisites installed: ${packages[*]}"
