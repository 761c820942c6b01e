#!/usr/bin/env bash
# The main job, locally: the relay with the example routing table (examples/local/routes.yaml):
# mail from example.com goes through an authenticated TLS relay (a local SES stand-in),
# everything else directly to the recipient's MX (a local smtp-sink published by dnsmasq).
#
# Installs only what it uses (scripts/install-test-deps.sh example), and only when
# `scripts/preflight.sh example` finds something missing. Runs until Ctrl-C, SIGTERM or SIGHUP,
# or until the relay or a stand-in exits; then stops every process it started.
#
# Environment (defaults in brackets):
#   MAILRELAY_EXAMPLE_SMTP_PORT      [2525]  the relay's SMTP port on 127.0.0.1
#   MAILRELAY_EXAMPLE_METRICS_PORT   [9090]  the relay's /metrics, /healthz, /readyz on 127.0.0.1
#   MAILRELAY_EXAMPLE_DNS_PORT       [5353]  dnsmasq (the MX records) on 127.0.0.1
#   MAILRELAY_EXAMPLE_UPSTREAM_PORT  [2587]  the SES stand-in on 127.0.0.2 (STARTTLS + AUTH)
#   MAILRELAY_EXAMPLE_MX_PORT        [2525]  example.net's MX (smtp-sink) on 127.0.0.3
#   MAILRELAY_EXAMPLE_DIR            [.run]  state: spool, certificates, logs, received mail
# shellcheck disable=SC2317 # functions called from traps and through wait_ready look unreachable to it
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

smtp_port="${MAILRELAY_EXAMPLE_SMTP_PORT:-2525}"
metrics_port="${MAILRELAY_EXAMPLE_METRICS_PORT:-9090}"
dns_port="${MAILRELAY_EXAMPLE_DNS_PORT:-5353}"
upstream_port="${MAILRELAY_EXAMPLE_UPSTREAM_PORT:-2587}"
mx_port="${MAILRELAY_EXAMPLE_MX_PORT:-2525}"
run="${MAILRELAY_EXAMPLE_DIR:-$root/.run}"
for v in smtp_port metrics_port dns_port upstream_port mx_port; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ] || [ "${!v}" -gt 65535 ]; then
    echo "error: $v '${!v}' is not a port number" >&2
    exit 2
  fi
done

mkdir -p "$run/credentials" "$run/upstream-mail" "$run/mx-mail" "$run/spool"
run=$(cd "$run" && pwd)
chmod 777 "$run/mx-mail" # smtp-sink writes as nobody
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null && ! runuser -u nobody -- test -w "$run/mx-mail"; then
  echo "error: smtp-sink writes as nobody, who cannot reach $run/mx-mail: set MAILRELAY_EXAMPLE_DIR to a directory whose parents everyone may enter" >&2
  exit 1
fi

# Every process started here, stopped on any exit: pid -> name; name -> log file.
declare -A names=() logs=()
stopping=0
cleanup() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM HUP # a second Ctrl-C must not cut the clean-up short
  local p alive i
  for p in "${!names[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do # up to 10 s, then SIGKILL
    alive=0
    for p in "${!names[@]}"; do running "$p" && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${!names[@]}"; do
    if running "$p"; then
      echo "${names[$p]} did not stop within 10 s: killed" >&2
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
}
# True while the process exists and is not a zombie.
running() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

# Background commands and wait: traps run at once, not after a foreground command ends.
# start NAME COMMAND...: starts COMMAND in the background and remembers it.
# The caller redirects its output; a stand-in's log is named in logs[NAME].
start() {
  local name=$1
  shift
  "$@" &
  names[$!]=$name
}
# finish NAME COMMAND...: runs COMMAND in the background and waits for it; fails when it does.
finish() {
  local name=$1 pid status=0
  shift
  "$@" &
  pid=$!
  names[$pid]=$name
  wait "$pid" || status=$?
  unset "names[$pid]"
  return "$status"
}

if ! preflight=$(bash scripts/preflight.sh example 2>&1); then
  printf '%s\n' "$preflight"
  echo "installing the example's prerequisites (scripts/install-test-deps.sh example)"
  bash scripts/install-test-deps.sh example
  bash scripts/preflight.sh example
fi
# No build servers: nothing of the build may outlive this script.
finish "dotnet build" dotnet build src/Relay -c Release -v q -nologo --disable-build-servers >/dev/null

# A local CA and a certificate for the SES stand-in (127.0.0.2), trusted by the relay via --trust-ca.
if [ ! -f "$run/upstream.crt" ]; then
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

# The routing table names the stand-in's port: on another port, run a copy that says so.
routes="$root/examples/local/routes.yaml"
if [ "$upstream_port" != 2587 ]; then
  sed "s/^\(      port: \)2587\$/\1$upstream_port/" "$routes" > "$run/routes.yaml"
  if ! grep -q "^      port: $upstream_port\$" "$run/routes.yaml"; then
    echo "error: cannot set the upstream port in a copy of $routes" >&2
    exit 1
  fi
  routes="$run/routes.yaml"
fi

logs=(["SES stand-in (upstream_smtp.py)"]="$run/upstream.log" ["MX stand-in (smtp-sink)"]="$run/mx.log" ["DNS (dnsmasq)"]="$run/dns.log")
start "SES stand-in (upstream_smtp.py)" /usr/bin/python3 tests/EndToEnd.Tests/Peers/upstream_smtp.py --until-signal \
  --host 127.0.0.2 --port "$upstream_port" --cert "$run/upstream.crt" --key "$run/upstream.key" \
  --user AKIAEXAMPLE --password example-ses-password --outdir "$run/upstream-mail" </dev/null >"$run/upstream.log" 2>&1
start "MX stand-in (smtp-sink)" /usr/sbin/smtp-sink -u nobody -d "$run/mx-mail/%Y%m%d%H%M%S." "127.0.0.3:$mx_port" 64 \
  </dev/null >"$run/mx.log" 2>&1
start "DNS (dnsmasq)" /usr/sbin/dnsmasq --keep-in-foreground --no-daemon --user=root --no-resolv --no-hosts --no-poll \
  --bind-interfaces --listen-address=127.0.0.1 --port="$dns_port" --pid-file= --conf-file=/dev/null \
  --mx-host=example.net,mx.example.net,10 --host-record=mx.example.net,127.0.0.3 </dev/null >"$run/dns.log" 2>&1
start "relay (mailrelay.dll)" dotnet src/Relay/bin/Release/net10.0/mailrelay.dll \
  --listen "127.0.0.1:$smtp_port" --metrics "127.0.0.1:$metrics_port" \
  --routes "$routes" --credentials "$run/credentials" --spool "$run/spool" \
  --dns-server "127.0.0.1:$dns_port" --direct-port "$mx_port" --trust-ca "$run/ca.pem" \
  --retry-min 10s --retry-max 60s </dev/null

# Ready when each listens; a stand-in that exits (e.g. its port is taken) stops the example.
# True when something accepts TCP connections on $1:$2.
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# True when http://127.0.0.1:$1$2 answers 200.
http_ok() {
  local status
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  read -r -t 2 _ status _ <&3 || status=""
  exec 3<&-
  [ "$status" = 200 ]
}
show_log() { if [ -n "${logs[$1]:-}" ]; then tail -n 5 "${logs[$1]}" | sed "s|^|  $1: |" >&2; fi; }
# wait_ready NAME CHECK...: waits up to 60 s for CHECK; fails when NAME's process has exited.
wait_ready() {
  local name=$1 p i
  shift
  for ((i = 0; i < 600; i++)); do
    "$@" 2>/dev/null && return 0
    for p in "${!names[@]}"; do
      if [ "${names[$p]}" = "$name" ] && ! running "$p"; then
        echo "error: $name exited while starting (a port in use? see the header of $0)" >&2
        show_log "$name"
        exit 1
      fi
    done
    sleep 0.1
  done
  echo "error: $name not ready within 60 s" >&2
  exit 1
}
wait_ready "SES stand-in (upstream_smtp.py)" grep -q READY "$run/upstream.log"
wait_ready "MX stand-in (smtp-sink)" listening 127.0.0.3 "$mx_port"
wait_ready "DNS (dnsmasq)" listening 127.0.0.1 "$dns_port"
wait_ready "relay (mailrelay.dll)" http_ok "$metrics_port" /readyz

cat <<TXT

MailRelayOperator relay, example routing table: ${routes#"$root"/}
  SMTP      127.0.0.1:$smtp_port   (clients in 127.0.0.0/8 may relay)
  metrics   http://127.0.0.1:$metrics_port/metrics   /healthz   /readyz
  upstream  "SES" stand-in 127.0.0.2:$upstream_port (STARTTLS + AUTH required) -> mail lands in $run/upstream-mail/
  MX        example.net -> smtp-sink 127.0.0.3:$mx_port (DNS: dnsmasq 127.0.0.1:$dns_port) -> mail lands in $run/mx-mail/
  ports     MAILRELAY_EXAMPLE_{SMTP,METRICS,DNS,UPSTREAM,MX}_PORT; state in MAILRELAY_EXAMPLE_DIR

Send test messages from another terminal:
  swaks --server 127.0.0.1 --port $smtp_port --from orders@example.com --to bob@example.net   # via the TLS relay, authenticated
  swaks --server 127.0.0.1 --port $smtp_port --from someone@other.org --to bob@example.net    # direct to example.net's MX
Explain a route:
  dotnet src/Relay/bin/Release/net10.0/mailrelay.dll explain --routes ${routes#"$root"/} --from orders@example.com --to bob@example.net

Ctrl-C stops everything.
TXT

# Until a signal (the traps above), or until the relay or a stand-in exits by itself.
status=0
wait -n -p ended "${!names[@]}" || status=$?
if [ -n "${ended:-}" ]; then
  echo "${names[$ended]} exited (status $status); stopping the example" >&2
  show_log "${names[$ended]}"
  unset "names[$ended]"
fi
exit "$status"
