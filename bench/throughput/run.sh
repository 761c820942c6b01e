#!/usr/bin/env bash
# B1 (issue 11): throughput of the relay against Postfix 3.7 (Debian's) on the same machine, same
# sink. smtp-source (Postfix's load generator) sends N messages of BYTES over S parallel sessions
# to the system under test; both forward everything to one smtp-sink through a smarthost route (the
# relay: a relay route with tls None; Postfix: relayhost), and both fsync their queue before the
# 250. Each system starts fresh (no warm-up run). Reports accept rate (smtp-source's wall clock),
# end-to-end rate (until the sink has all N), the relay's CPU per message (/proc/PID/stat, the
# whole run) and peak RSS, then BENCHROW lines with the ratios.
# Usage: bash bench/throughput/run.sh [MESSAGES] [SESSIONS] [BYTES]
#   MAILRELAY_BENCH_RELAY=build   measure the plain build output instead of the ReadyToRun publish
#                                 the images ship (the smoke test: no publish step)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
n=${1:-20000}; s=${2:-20}; bytes=${3:-4096}
cmd="bash bench/throughput/run.sh $n $s $bytes"
bench_init throughput
ensure_tools
relay=$(relay_dll)

measure() { # NAME PORT COUNTFILE: sets rate_accept, rate_e2e
  local t0 t1 t2
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$s" -m "$n" -l "$bytes" -f load@bench.test -t rcpt@bench.example "127.0.0.1:$2"
  t1=$(date +%s.%N)
  wait_count "sink_count $3" "$n"
  t2=$(date +%s.%N)
  rate_accept=$(python3 -c "print(f'{$n/($t1-$t0):.0f}')")
  rate_e2e=$(python3 -c "print(f'{$n/($t2-$t0):.0f}')")
  printf '%-8s accept %6.2f s (%6s msg/s)   end-to-end %6.2f s (%6s msg/s)   %s delivered %s of %s\n' "$1" \
    "$(python3 -c "print($t1-$t0)")" "$rate_accept" "$(python3 -c "print($t2-$t0)")" "$rate_e2e" "$1" "$(sink_count "$3")" "$n"
}

echo "$n messages of $bytes bytes over $s sessions, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- MailRelayOperator relay
sink_port=$(free_port)
start_smtp_sink "127.0.0.3:$sink_port" "$work/sink-relay.count"
write_smarthost_routes "$work/relay" "$sink_port"
relay_port=$(free_port)
start_relay "$work/relay" "$relay_port" --delivery-concurrency "$s" --destination-concurrency "$s"
cpu0=$(cpu_seconds "$relay_pid")
measure relay "$relay_port" "$work/sink-relay.count"
relay_accept=$rate_accept; relay_e2e=$rate_e2e
cpu=$(python3 -c "print(f'{$(cpu_seconds "$relay_pid") - $cpu0:.2f}')")
cpu_ms=$(python3 -c "print(f'{$cpu * 1000 / $n:.2f}')")
rss=$(awk '/VmHWM/ {printf "%d", $2/1024}' "/proc/$relay_pid/status")
echo "         relay CPU $cpu s ($cpu_ms ms per message), peak RSS $rss MiB"
kill "$relay_pid" "$sink_pid"

# --- Postfix baseline
sink_port=$(free_port)
start_smtp_sink "127.0.0.3:$sink_port" "$work/sink-postfix.count"
postfix_port=$(free_port)
POSTFIX_CONCURRENCY=$s start_postfix "$work/pf" "$postfix_port" "[127.0.0.3]:$sink_port"
measure postfix "$postfix_port" "$work/sink-postfix.count"
pf_accept=$rate_accept; pf_e2e=$rate_e2e

r_e2e=$(ratio "$relay_e2e" "$pf_e2e"); r_acc=$(ratio "$relay_accept" "$pf_accept")
what="$n×$bytes B, $s sessions, fsync before 250"
benchrow B1 "end-to-end msg/s relay ÷ Postfix ($what; relay $relay_e2e/s, Postfix $pf_e2e/s)" "$r_e2e" "≥ 2.0" "$(met "$r_e2e" '>=' 2.0)" "$cmd"
benchrow B1 "accepted msg/s relay ÷ Postfix ($what; relay $relay_accept/s, Postfix $pf_accept/s)" "$r_acc" "≥ 1.0" "$(met "$r_acc" '>=' 1.0)" "$cmd"
benchrow B1 "relay CPU per message, fresh process, whole run ($what; $cpu s in all, peak RSS $rss MiB)" "$cpu_ms ms" "≤ 0.5 ms" "$(met "$cpu_ms" '<=' 0.5)" "$cmd"
