#!/usr/bin/env bash
# The main job, locally: the relay with the example routing table (examples/local/routes.yaml):
# mail from example.com goes through an authenticated TLS relay (a local SES stand-in),
# everything else directly to the recipient's MX (a local smtp-sink published by dnsmasq).
# Ctrl-C stops everything. State lives in .run/ (spool, certificates, received mail).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
run="$root/.run"
mkdir -p "$run/credentials" "$run/upstream-mail" "$run/mx-mail" "$run/spool"
chmod 777 "$run/mx-mail"

if ! command -v swaks >/dev/null || ! command -v smtp-sink >/dev/null || ! command -v dnsmasq >/dev/null || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  bash scripts/install-test-deps.sh
fi
dotnet build src/Relay -c Release -v q -nologo >/dev/null

# A local CA and a certificate for the SES stand-in (127.0.0.2), trusted by the relay via --trust-ca.
if [ ! -f "$run/ca.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=MailRelay example CA" \
    -keyout "$run/ca.key" -out "$run/ca.pem" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=ses-stand-in" -keyout "$run/upstream.key" -out "$run/upstream.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.2\nextendedKeyUsage=serverAuth\n' > "$run/upstream.ext"
  openssl x509 -req -in "$run/upstream.csr" -CA "$run/ca.pem" -CAkey "$run/ca.key" -CAcreateserial \
    -days 30 -extfile "$run/upstream.ext" -out "$run/upstream.crt" 2>/dev/null
fi
# The mounted-Secret layout the operator writes: NAME.username / NAME.password.
printf 'AKIAEXAMPLE' > "$run/credentials/shop.ses.username"
printf 'example-ses-password' > "$run/credentials/shop.ses.password"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

sleep infinity | /usr/bin/python3 tests/EndToEnd.Tests/Peers/upstream_smtp.py --host 127.0.0.2 --port 2587 \
  --cert "$run/upstream.crt" --key "$run/upstream.key" --user AKIAEXAMPLE --password example-ses-password \
  --outdir "$run/upstream-mail" >"$run/upstream.log" 2>&1 &
pids+=($!)
/usr/sbin/smtp-sink -u nobody -d "$run/mx-mail/%Y%m%d%H%M%S." 127.0.0.3:2525 64 >"$run/mx.log" 2>&1 &
pids+=($!)
/usr/sbin/dnsmasq --keep-in-foreground --no-daemon --user=root --no-resolv --no-hosts --no-poll --bind-interfaces \
  --listen-address=127.0.0.1 --port=5353 --pid-file= --conf-file=/dev/null \
  --mx-host=example.net,mx.example.net,10 --host-record=mx.example.net,127.0.0.3 >"$run/dns.log" 2>&1 &
pids+=($!)

cat <<TXT

MailRelayOperator relay, example routing table: examples/local/routes.yaml
  SMTP      127.0.0.1:2525   (clients in 127.0.0.0/8 may relay)
  metrics   http://127.0.0.1:9090/metrics   /healthz   /readyz
  upstream  "SES" stand-in 127.0.0.2:2587 (STARTTLS + AUTH required) -> mail lands in .run/upstream-mail/
  MX        example.net -> smtp-sink 127.0.0.3:2525                  -> mail lands in .run/mx-mail/

Send test messages from another terminal:
  swaks --server 127.0.0.1 --port 2525 --from orders@example.com --to bob@example.net   # via the TLS relay, authenticated
  swaks --server 127.0.0.1 --port 2525 --from someone@other.org --to bob@example.net    # direct to example.net's MX
Explain a route:
  dotnet src/Relay/bin/Release/net10.0/mailrelay.dll explain --routes examples/local/routes.yaml --from orders@example.com --to bob@example.net

TXT

dotnet src/Relay/bin/Release/net10.0/mailrelay.dll \
  --listen 127.0.0.1:2525 --metrics 127.0.0.1:9090 \
  --routes examples/local/routes.yaml --credentials "$run/credentials" --spool "$run/spool" \
  --dns-server 127.0.0.1:5353 --direct-port 2525 --trust-ca "$run/ca.pem" \
  --retry-min 10s --retry-max 60s
