#!/usr/bin/env bash
# Memory of the relay with large messages over the whole path (issue 11's B4): S sessions each send
# a message of MB MiB to the relay, all held in DATA at once (everything but the final dot); then
# all finish and the relay delivers them: half (even sessions) through a relay route to smtp-sink,
# half through a relay route with STARTTLS + AUTH (tls: Verify, a credential) to the aiosmtpd
# stand-in for SES the end-to-end tests use (tests/EndToEnd.Tests/Peers/upstream_smtp.py). The
# relay's RSS is sampled every 20 ms throughout; reports its peak (VmHWM) ÷ bytes in flight
# (S × MB MiB), the RSS with every message in DATA, and the relay's CPU seconds from the last 250
# until the last message arrived (the delivery path: read from the spool, sent upstream).
# BEFORE_REF (a git revision, e.g. main) runs the same measurement first with that revision's
# relay, built from `git archive` in the work directory, and prints its rows too.
# Usage: bash bench/large-messages/run.sh [SESSIONS] [MB] [BEFORE_REF]     (smoke: 4 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
s=${1:-50}; mb=${2:-10}; before_ref=${3:-}
command="bash bench/large-messages/run.sh $*"
work=$(mktemp -d /tmp/mailrelay-bench-large.XXXXXX)
chmod 777 "$work"
sink_port=2701; upstream_port=2702; relay_port=2626
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

command -v smtp-sink >/dev/null && /usr/bin/python3 -c 'import aiosmtpd, ssl' 2>/dev/null && command -v openssl >/dev/null \
  || bash scripts/install-test-deps.sh example
dotnet build src/Relay -c Release -v q -nologo --disable-build-servers >/dev/null
after_dll=$root/src/Relay/bin/Release/net10.0/mailrelay.dll
if [ -n "$before_ref" ]; then
  mkdir -p "$work/before"
  git archive "$before_ref" | tar -x -C "$work/before"
  dotnet build "$work/before/src/Relay" -c Release -v q -nologo --disable-build-servers >/dev/null
  before_dll=$work/before/src/Relay/bin/Release/net10.0/mailrelay.dll
  before_label="before ($before_ref $(git rev-parse --short "$before_ref"))"
fi

# A test CA and a certificate for the stand-in on 127.0.0.2 (trusted by the relay via --trust-ca);
# the mounted-Secret layout of a RelayCredential: NAME.username / NAME.password.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" -keyout "$work/ca.key" -out "$work/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=upstream" -keyout "$work/upstream.key" -out "$work/upstream.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.2\nextendedKeyUsage=serverAuth\n' > "$work/upstream.ext"
openssl x509 -req -in "$work/upstream.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/upstream.ext" -out "$work/upstream.crt" 2>/dev/null
mkdir -p "$work/credentials"
printf 'bench-user' > "$work/credentials/bench.up.username"
printf 'bench-password' > "$work/credentials/bench.up.password"
cat > "$work/routes.yaml" <<YAML
routes:
  - name: bench/upstream-starttls-auth
    priority: 10
    senders: ["upstream.bench.test"]
    relay: {host: 127.0.0.2, port: $upstream_port, tls: Verify, credential: bench.up}
  - name: bench/all-via-sink
    senders: ["*"]
    relay: {host: 127.0.0.3, port: $sink_port, tls: None}
YAML

# measure LABEL DLL: one run with fresh peers and a fresh spool.
measure() {
  local label=$1 dll=$2 run
  run=$(mktemp -d "$work/run.XXXXXX")
  chmod 777 "$run"
  mkdir -p "$run/upstream-mail"
  /usr/sbin/smtp-sink -c -u nobody 127.0.0.3:$sink_port 256 >"$run/sink.count" 2>&1 &
  pids+=($!)
  /usr/bin/python3 tests/EndToEnd.Tests/Peers/upstream_smtp.py --until-signal --host 127.0.0.2 --port $upstream_port \
    --cert "$work/upstream.crt" --key "$work/upstream.key" --user bench-user --password bench-password \
    --outdir "$run/upstream-mail" </dev/null >"$run/upstream.log" 2>&1 &
  pids+=($!)
  dotnet "$dll" --listen 127.0.0.1:$relay_port --routes "$work/routes.yaml" --credentials "$work/credentials" \
    --spool "$run/spool" --trust-ca "$work/ca.pem" --max-message-size "$((mb + 1))m" >"$run/relay.log" 2>&1 &
  local relay_pid=$!
  pids+=($relay_pid)
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q READY "$run/upstream.log" && (exec 3<>/dev/tcp/127.0.0.1/$relay_port) 2>/dev/null && break
    sleep 0.1
  done
  sleep 1
  /usr/bin/python3 - "$s" "$mb" "$relay_port" "$relay_pid" "$run" "$label" "$command" <<'PY'
import os, socket, sys, threading, time
s, mb, port, pid, run, label, command = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
ticks = os.sysconf("SC_CLK_TCK")

def status(field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field))

def cpu():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

def reply(f):
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line

samples = {"max": 0}
done = threading.Event()
def sample():
    while not done.wait(0.02):
        try:
            samples["max"] = max(samples["max"], status("VmRSS"))
        except (OSError, StopIteration):
            return
threading.Thread(target=sample, daemon=True).start()

idle = status("VmRSS")
line = b"x" * 998 + b"\r\n"
block = line * (1024 * 1024 // len(line))
t0 = time.time()
conns = []
for i in range(s):
    c = socket.create_connection(("127.0.0.1", port))
    f = c.makefile("rb")
    reply(f)
    sender = b"load@upstream.bench.test" if i % 2 else b"load@bench.test"
    for cmd in (b"EHLO bench.test", b"MAIL FROM:<" + sender + b">", b"RCPT TO:<rcpt@bench.example>", b"DATA"):
        c.sendall(cmd + b"\r\n")
        reply(f)
    c.sendall(b"Subject: large " + str(i).encode() + b"\r\n\r\n")
    for _ in range(mb):
        c.sendall(block)
    conns.append((c, f))
time.sleep(2)
in_data = status("VmRSS")
for c, f in conns:
    c.sendall(b".\r\n")
ok = sum(1 for c, f in conns if reply(f).startswith(b"250"))
cpu0, t1 = cpu(), time.time()
for c, f in conns:
    c.sendall(b"QUIT\r\n")
    c.close()

to_upstream, to_sink = s // 2, s - s // 2
def upstream_count():
    return sum(1 for n in os.listdir(f"{run}/upstream-mail") if n.endswith(".json"))
def sink_count():
    with open(f"{run}/sink.count", "rb") as f:
        text = f.read()[-200:].replace(b"\r", b"\n").decode(errors="replace")
    counts = [int(w[5:]) for w in text.split() if w.startswith("mesg=") and w[5:].isdigit()]
    return counts[-1] if counts else 0
deadline = time.time() + 60 + s * mb * 2
while (upstream_count() < to_upstream or sink_count() < to_sink) and time.time() < deadline:
    time.sleep(0.05)
t2, cpu1 = time.time(), cpu()
done.set()
up, sink = upstream_count(), sink_count()
peak = max(status("VmHWM"), samples["max"])
flight = s * mb * 2**20
delivered = up + sink
print(f"[{label}] {s} sessions x {mb} MiB in DATA at once ({flight / 2**20:.0f} MiB in flight), {ok} acknowledged in {t1 - t0:.1f} s; "
      f"delivered {sink}/{to_sink} to smtp-sink and {up}/{to_upstream} to the STARTTLS+AUTH stand-in in {t2 - t1:.1f} s")
print(f"[{label}] relay RSS idle {idle / 1024:.0f} MiB, with every message in DATA {in_data / 1024:.0f} MiB, peak over the whole path {peak / 1024:.0f} MiB; "
      f"delivery CPU {cpu1 - cpu0:.2f} s ({(cpu1 - cpu0) * 1000 / max(delivered, 1):.0f} ms per message, {(cpu1 - cpu0) * 1000 / max(delivered * mb, 1):.1f} ms per MiB)")
complete = ok == s and delivered == s
ratio = peak * 1024 / flight
what = f"relay peak RSS ÷ bytes in flight, {s} × {mb} MiB in DATA at once, then delivered (half to smtp-sink, half STARTTLS+AUTH to aiosmtpd) [{label}]"
figure = f"{ratio:.3f} (peak {peak / 1024:.0f} MiB; in DATA {in_data / 1024:.0f} MiB, idle {idle / 1024:.0f} MiB; {flight / 2**20:.0f} MiB in flight)" + ("" if complete else f" INCOMPLETE: {ok} acknowledged, {delivered} delivered")
print(f"BENCHROW | B4 | {what} | {figure} | ≤ 1.5 | {'yes' if complete and ratio <= 1.5 else 'no'} | {command} |")
print(f"BENCHROW | B4 | relay CPU seconds on the delivery path, {s} × {mb} MiB from the last 250 to the last arrival [{label}] | "
      f"{cpu1 - cpu0:.2f} s ({(cpu1 - cpu0) * 1000 / max(delivered, 1):.0f} ms per message) | n.a. (reported) | n.a. | {command} |")
PY
  stop_all
}

if [ -n "$before_ref" ]; then
  measure "$before_label" "$before_dll"
fi
measure "this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes'))" "$after_dll"
