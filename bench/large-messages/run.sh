#!/usr/bin/env bash
# Memory of the relay with large messages in flight (issue 11's B4): smtp-source sends S messages
# of MB megabytes each over S parallel sessions (all in DATA at once) to the relay, which relays
# them to one smtp-sink. Reports the relay's RSS when idle, its peak RSS (VmHWM), and
# (peak - idle) / bytes in flight: DATA is streamed to the spool, so a message in flight costs a
# buffer, not its size (the SmtpServer library the relay used before held every message whole).
# Usage: bash bench/large-messages/run.sh [SESSIONS] [MB]
set -euo pipefail
cd "$(dirname "$0")/../.."
s=${1:-50}; mb=${2:-10}
work=$(mktemp -d /tmp/mailrelay-bench-large.XXXXXX)
chmod 777 "$work"
sink_port=2701; relay_port=2626
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v smtp-source >/dev/null || bash scripts/install-test-deps.sh
dotnet build src/Relay -c Release -v q -nologo >/dev/null

/usr/sbin/smtp-sink -c -u nobody 127.0.0.3:$sink_port 256 >"$work/sink.count" 2>&1 &
pids+=($!)
mkdir -p "$work/relay"
cat > "$work/relay/routes.yaml" <<YAML
routes:
  - name: bench/all-via-smarthost
    senders: ["*"]
    relay: {host: 127.0.0.3, port: $sink_port, tls: None}
YAML
dotnet src/Relay/bin/Release/net10.0/mailrelay.dll --listen 127.0.0.1:$relay_port --routes "$work/relay/routes.yaml" \
  --credentials "$work/relay/none" --spool "$work/relay/spool" --max-message-size "$((mb + 1))m" >"$work/relay.log" 2>&1 &
relay_pid=$!; pids+=($relay_pid)
until (exec 3<>/dev/tcp/127.0.0.1/$relay_port) 2>/dev/null; do sleep 0.1; done
sleep 1
idle=$(awk '/VmRSS/ {print $2}' /proc/$relay_pid/status)

bytes=$((mb * 1024 * 1024))
t0=$(date +%s.%N)
/usr/sbin/smtp-source -s "$s" -m "$s" -l "$bytes" -f load@bench.test -t rcpt@bench.example "127.0.0.1:$relay_port"
t1=$(date +%s.%N)
sink_count() { tail -c 200 "$work/sink.count" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n1 | cut -d= -f2; }
while [ "$(sink_count || echo 0)" -lt "$s" ] 2>/dev/null; do sleep 0.2; done
t2=$(date +%s.%N)
peak=$(awk '/VmHWM/ {print $2}' /proc/$relay_pid/status)
python3 - "$s" "$mb" "$idle" "$peak" "$t0" "$t1" "$t2" <<'PY'
import sys
s, mb, idle, peak = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0, t1, t2 = map(float, sys.argv[5:8])
flight = s * mb * 1024 * 1024
print(f"{s} sessions x {mb} MiB in DATA at once ({flight / 2**20:.0f} MiB in flight)")
print(f"relay RSS idle {idle / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB: (peak - idle) / bytes in flight = {(peak - idle) * 1024 / flight:.3f}")
print(f"accepted in {t1 - t0:.1f} s, all at the sink after {t2 - t0:.1f} s")
PY
