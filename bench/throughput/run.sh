#!/usr/bin/env bash
# Throughput of the relay against Postfix 3.7 (Debian's) as the baseline, same machine, same sink:
# smtp-source (Postfix's load generator) sends N messages over S parallel sessions to the relay
# under test; both forward everything to one smtp-sink through a smarthost route (the relay:
# a MailRoute-style relay route with tls None; Postfix: relayhost). Both fsync their queue
# before answering 250. Reports accept time (smtp-source's wall clock), end-to-end time (until
# the sink has all N) and the relay's peak RSS.
# Usage: bash bench/throughput/run.sh [MESSAGES] [SESSIONS] [BYTES]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-5000}; s=${2:-20}; bytes=${3:-4096}
work=$(mktemp -d /tmp/mailrelay-bench.XXXXXX)
chmod 777 "$work"
sink_port=2700; relay_port=2625; postfix_port=2600
pids=()
cleanup() {
  postfix -c "$work/pf/conf" stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v smtp-source >/dev/null || bash scripts/install-test-deps.sh
dotnet build src/Relay -c Release -v q -nologo >/dev/null

start_sink() { # smtp-sink -c keeps running counters on stdout: cheap to poll
  /usr/sbin/smtp-sink -c -u nobody 127.0.0.3:$sink_port 256 >"$work/sink.count" 2>&1 &
  sink_pid=$!; pids+=($sink_pid)
  sleep 0.5
}
sink_count() { tail -c 200 "$work/sink.count" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n1 | cut -d= -f2; }
wait_sink() { # until the sink has received $n messages
  while [ "$(sink_count || echo 0)" -lt "$n" ] 2>/dev/null; do sleep 0.05; done
}
measure() { # name port
  local name=$1 port=$2 t0 t1 t2
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$s" -m "$n" -l "$bytes" -f load@bench.test -t rcpt@bench.example "127.0.0.1:$port"
  t1=$(date +%s.%N)
  wait_sink
  t2=$(date +%s.%N)
  python3 - "$name" "$t0" "$t1" "$t2" "$n" <<'PY'
import sys
name, t0, t1, t2, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"{name:8} accept {t1-t0:6.2f} s ({n/(t1-t0):7.0f} msg/s)   end-to-end {t2-t0:6.2f} s ({n/(t2-t0):7.0f} msg/s)")
PY
}

echo "$n messages of $bytes bytes over $s sessions, $(nproc) cores"

# --- MailRelayOperator relay
start_sink
mkdir -p "$work/relay"
cat > "$work/relay/routes.yaml" <<YAML
routes:
  - name: bench/all-via-smarthost
    senders: ["*"]
    relay: {host: 127.0.0.3, port: $sink_port, tls: None}
YAML
dotnet src/Relay/bin/Release/net10.0/mailrelay.dll --listen 127.0.0.1:$relay_port --routes "$work/relay/routes.yaml" \
  --credentials "$work/relay/none" --spool "$work/relay/spool" --delivery-concurrency "$s" --destination-concurrency "$s" >"$work/relay.log" 2>&1 &
relay_pid=$!; pids+=($relay_pid)
until (exec 3<>/dev/tcp/127.0.0.1/$relay_port) 2>/dev/null; do sleep 0.1; done
measure relay $relay_port
echo "         relay peak RSS $(awk '/VmHWM/ {printf "%d MiB", $2/1024}' /proc/$relay_pid/status), CPU $(awk '{printf "%.1f s", ($14+$15)/100}' /proc/$relay_pid/stat)"
kill "$relay_pid"; kill "$sink_pid"; sleep 0.5

# --- Postfix baseline
start_sink
mkdir -p "$work/pf/conf" "$work/pf/spool" "$work/pf/data"
cat > "$work/pf/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $work/pf/spool
data_directory = $work/pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.3]:$sink_port
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
default_destination_concurrency_limit = $s
smtpd_client_connection_count_limit = 0
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = $work
maillog_file = $work/pf/maillog
CF
sed -e "s/^smtp      inet  n       -       y       -       -       smtpd/127.0.0.1:$postfix_port inet n - n - - smtpd/" /etc/postfix/master.cf \
  | sed 's/^\(\S*\s\+\S\+\s\+\S\+\s\+\S\+\s\+\)y/\1n/' > "$work/pf/conf/master.cf"
postfix -c "$work/pf/conf" check >/dev/null 2>&1 || true
chown -R postfix "$work/pf/data"
postfix -c "$work/pf/conf" start >/dev/null 2>&1
sleep 2
measure postfix $postfix_port
