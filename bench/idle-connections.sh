#!/usr/bin/env bash
# B5 (issue 11): the relay with IDLE idle SMTP sessions held open (bench/lib/idle_clients.py: EHLO,
# then silence) — memory per idle connection (RSS with them − RSS before, ÷ IDLE; read after a
# full GC is not forced, so it is what the kernel charges) — and latency probes (bench/lib/probe.py,
# as in B2) with those sessions held: idle (probes alone), then under B1's load (smtp-source LOAD
# messages of BYTES over SESSIONS sessions). Reports p99 loaded ÷ p99 idle. Raises the open-file
# limit and the relay's connection limits (--max-connections, --max-connections-per-client) to fit.
# Usage: bash bench/idle-connections.sh [IDLE] [PROBES] [LOAD] [SESSIONS] [BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
idle=${1:-2000}; probes=${2:-300}; load=${3:-20000}; s=${4:-20}; bytes=${5:-4096}
cmd="bash bench/idle-connections.sh $idle $probes $load $s $bytes"
want=$(( idle * 2 + 4096 )); hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want" # the relay and the idle client each hold one descriptor per session
bench_init idle
ensure_tools
relay=$(relay_dll)
interval=20
loaded_from=1000000

load_sink=$(free_port); probe_sink=$(free_port)
start_smtp_sink "127.0.0.3:$load_sink" "$work/sink.count"
bench_bg /usr/bin/python3 bench/lib/latency_sink.py --host 127.0.0.4 --port "$probe_sink" --out "$work/arrivals" >/dev/null
wait_listening "127.0.0.4:$probe_sink"
touch "$work/arrivals"
write_probe_routes "$work/relay"
relay_port=$(free_port)
start_relay "$work/relay" "$relay_port" --delivery-concurrency "$s" --destination-concurrency "$s" \
  --max-connections "$((idle + s + 100))" --max-connections-per-client "$((idle + s + 100))"

echo "$idle idle sessions, $probes probes every $interval ms, idle and under $load×$bytes B over $s sessions; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# warm up (first delivery, first session), then the RSS before
python3 bench/lib/probe.py send 127.0.0.1 "$relay_port" 5 "$interval" "$work/acks" "$((3 * loaded_from))"
wait_count "wc -l < $work/arrivals" 5 120
sleep 1
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$relay_pid/status")
coproc IDLE { exec /usr/bin/python3 bench/lib/idle_clients.py 127.0.0.1 "$relay_port" "$idle"; }
bench_pids+=("$IDLE_PID")
read -r _ held <&"${IDLE[0]}"
sleep 2
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$relay_pid/status")
per_conn=$(python3 -c "print(f'{($rss1 - $rss0) / max(1, $held):.1f}')")
echo "relay RSS $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB with $held idle sessions: $per_conn KiB each"

probes_idle_then_loaded "$relay_port" "$work/acks" "$work/arrivals"
still=$(ss -Htn state established "( dport = :$relay_port )" | wc -l)

read -r i50 i99 _ _ < <(python3 bench/lib/probe.py report "$work/acks" "$work/arrivals" 0 "$loaded_from")
read -r l50 l99 _ _ < <(python3 bench/lib/probe.py report "$work/acks" "$work/arrivals" "$loaded_from" $((2 * loaded_from)))
echo "probes with $held idle sessions: idle p50 $i50 ms p99 $i99 ms; under load p50 $l50 ms p99 $l99 ms; $still sessions still open at the end"
r=$(ratio "$l99" "$i99")
benchrow B5 "relay memory per idle SMTP session ($held held; RSS $((rss0 / 1024)) → $((rss1 / 1024)) MiB)" "$per_conn KiB" "n.a. (reported)" "n.a." "$cmd"
benchrow B5 "latency p99 under B1 load ÷ idle, $held idle sessions held (idle p50 $i50 / p99 $i99 ms, loaded p50 $l50 / p99 $l99 ms; $load×$bytes B, $s sessions)" "$r" "n.a. (reported)" "n.a." "$cmd"
