#!/usr/bin/env bash
# Memory of the relay with large messages in flight (issue 11's B4): S sessions each send a
# message of MB MiB to the relay, all held in DATA at once (everything but the final dot), and the
# relay's RSS is read then; the relay relays them to one smtp-sink. Reports
# (RSS in flight - idle) / bytes in flight: DATA is streamed to the spool, so a message in flight
# costs a buffer, not its size (the SmtpServer library the relay used before held it whole).
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

# All sessions send their message but the final dot, the RSS is read while every message is in
# flight, then all finish (smtp-source would finish each message on its own: few at once).
/usr/bin/python3 - "$s" "$mb" "$relay_port" "$relay_pid" "$idle" <<'PY'
import socket, sys, time
s, mb, port, pid, idle = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])

def rss(field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field))

def reply(f):
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line

line = b"x" * 998 + b"\r\n"
block = b"Subject: large\r\n\r\n" + line * (1024 * 1024 // len(line))
t0 = time.time()
conns = []
for i in range(s):
    c = socket.create_connection(("127.0.0.1", port))
    f = c.makefile("rb")
    reply(f)
    for cmd in (b"EHLO bench.test", b"MAIL FROM:<load@bench.test>", b"RCPT TO:<rcpt@bench.example>", b"DATA"):
        c.sendall(cmd + b"\r\n")
        reply(f)
    for _ in range(mb):
        c.sendall(block)
    conns.append((c, f))
time.sleep(2)
in_flight = rss("VmRSS")
for c, f in conns:
    c.sendall(b".\r\n")
ok = sum(1 for c, f in conns if reply(f).startswith(b"250"))
t1 = time.time()
for c, f in conns:
    c.sendall(b"QUIT\r\n")
    c.close()
flight = s * mb * 1024 * 1024
print(f"{s} sessions x {mb} MiB in DATA at once ({flight / 2**20:.0f} MiB in flight), {ok} acknowledged in {t1 - t0:.1f} s")
print(f"relay RSS idle {idle / 1024:.0f} MiB, with every message in flight {in_flight / 1024:.0f} MiB: "
      f"(in flight - idle) / bytes in flight = {(in_flight - idle) * 1024 / flight:.3f}; peak (VmHWM) {rss('VmHWM') / 1024:.0f} MiB")
PY
