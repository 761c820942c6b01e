#!/usr/bin/env bash
# B2 (issue 11): latency from the 250 to arrival at the next hop, relay against Postfix 3.7, idle
# and under B1's load (5 unreported warm-up probes first). A probe client (bench/lib/probe.py) sends PROBES messages, one every 20 ms
# over one session, from probe@probe.test and notes when it reads each 250; the system routes
# probe.test (relay: a sender route; Postfix: sender_dependent_relayhost_maps) to a sink that notes
# each arrival (bench/lib/latency_sink.py), everything else to smtp-sink. Idle: the probes alone.
# Loaded: the probes while smtp-source sends LOAD messages of BYTES over SESSIONS sessions. Same
# clock for both ends (one machine). Prints p50/p99 per system and BENCHROW lines (p99 ratios).
# Usage: bash bench/latency.sh [PROBES] [LOAD] [SESSIONS] [BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
probes=${1:-300}; load=${2:-20000}; s=${3:-20}; bytes=${4:-4096}
cmd="bash bench/latency.sh $probes $load $s $bytes"
bench_init latency
ensure_tools
relay=$(relay_dll)
interval=20
loaded_from=1000000 # probe numbers under load start here

# run_probes NAME PORT: idle probes, then probes under load; results in $work/NAME.{acks,arrivals}
run_probes() {
  local name=$1 port=$2
  # 5 unreported warm-up probes first: each system's first delivery opens its connection
  python3 bench/lib/probe.py send 127.0.0.1 "$port" 5 "$interval" "$work/$name.acks" "$((3 * loaded_from))"
  probes_idle_then_loaded "$port" "$work/$name.acks" "$work/$name.arrivals"
}
start_sinks() { # NAME: smtp-sink for the load, latency_sink.py for the probes
  load_sink=$(free_port); probe_sink=$(free_port)
  start_smtp_sink "127.0.0.3:$load_sink" "$work/$1.sink"
  bench_bg /usr/bin/python3 bench/lib/latency_sink.py --host 127.0.0.4 --port "$probe_sink" --out "$work/$1.arrivals" >/dev/null
  wait_listening "127.0.0.4:$probe_sink"
  touch "$work/$1.arrivals"
}
stop_sinks() { kill "$sink_pid" 2>/dev/null || true; }

echo "$probes probes every $interval ms, idle and under $load×$bytes B over $s sessions; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- relay
start_sinks relay
write_probe_routes "$work/relay"
relay_port=$(free_port)
start_relay "$work/relay" "$relay_port" --delivery-concurrency "$s" --destination-concurrency "$s"
run_probes relay "$relay_port"
kill "$relay_pid"

# --- Postfix
start_sinks postfix
postfix_port=$(free_port)
POSTFIX_CONCURRENCY=$s start_postfix "$work/pf" "$postfix_port" "[127.0.0.3]:$load_sink" \
  "sender_dependent_relayhost_maps = inline:{ {@probe.test = [127.0.0.4]:$probe_sink} }"
run_probes postfix "$postfix_port"

report() { python3 bench/lib/probe.py report "$work/$1.acks" "$work/$1.arrivals" "$2" "$3"; }
read -r r_idle50 r_idle99 r_idle_n _ < <(report relay 0 "$loaded_from")
read -r p_idle50 p_idle99 p_idle_n _ < <(report postfix 0 "$loaded_from")
read -r r_load50 r_load99 r_load_n _ < <(report relay "$loaded_from" $((2 * loaded_from)))
read -r p_load50 p_load99 p_load_n _ < <(report postfix "$loaded_from" $((2 * loaded_from)))
printf '%-8s idle p50 %7s ms p99 %7s ms (%s probes)   loaded p50 %7s ms p99 %7s ms (%s probes)\n' \
  relay "$r_idle50" "$r_idle99" "$r_idle_n" "$r_load50" "$r_load99" "$r_load_n" \
  postfix "$p_idle50" "$p_idle99" "$p_idle_n" "$p_load50" "$p_load99" "$p_load_n"

r99i=$(ratio "$r_idle99" "$p_idle99"); r99l=$(ratio "$r_load99" "$p_load99")
benchrow B2 "latency 250 → sink, idle, p99 relay ÷ Postfix (relay p50 $r_idle50 / p99 $r_idle99 ms, Postfix p50 $p_idle50 / p99 $p_idle99 ms; $probes probes)" "$r99i" "≤ 1.0" "$(met "$r99i" '<=' 1.0)" "$cmd"
benchrow B2 "latency 250 → sink under B1 load ($load×$bytes B, $s sessions), p99 relay ÷ Postfix (relay p50 $r_load50 / p99 $r_load99 ms, Postfix p50 $p_load50 / p99 $p_load99 ms)" "$r99l" "≤ 1.0" "$(met "$r99l" '<=' 1.0)" "$cmd"
