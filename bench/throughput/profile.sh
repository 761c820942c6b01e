#!/usr/bin/env bash
# Where the relay's CPU goes under B1's load (bench/README.md, "Where the CPU goes"). Starts a fresh
# relay relaying to smtp-sink, sends WARM messages (0: none, i.e. a cold process), then N more
# while it records:
#   - dotnet-counters (System.Runtime: JIT time and methods, thread pool queue and threads, lock
#     contention, GC) to $out/counters.csv
#   - perf (on-CPU samples with call graphs, kernel included; the JIT's perf map resolves managed
#     frames) to $out/perf.data, summarised in $out/summary.txt: CPU by module, by system call and by
#     the relay's own methods
# Usage: bash bench/throughput/profile.sh [N] [WARM] [SESSIONS] [BYTES]   (results kept in $out)
# Needs perf (linux-perf) and the dotnet tools (installed into ~/.cache/mailrelay/dotnet-tools).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
n=${1:-5000}; warm=${2:-0}; s=${3:-20}; bytes=${4:-4096}
tools="$HOME/.cache/mailrelay/dotnet-tools"
[ -x "$tools/dotnet-counters" ] || dotnet tool install --tool-path "$tools" dotnet-counters --version 10.0.750501 >/dev/null
command -v perf >/dev/null || { echo "error: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
out=$(mktemp -d /tmp/mailrelay-profile.XXXXXX)
bench_init profile
ensure_tools
relay=$(relay_dll)
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 # managed frames for perf

sink_port=$(free_port)
start_smtp_sink "127.0.0.3:$sink_port" "$work/sink.count"
write_smarthost_routes "$work/relay" "$sink_port"
relay_port=$(free_port)
start_relay "$work/relay" "$relay_port" --delivery-concurrency "$s" --destination-concurrency "$s"
source_load() { /usr/sbin/smtp-source -s "$s" -m "$1" -l "$bytes" -f load@bench.test -t rcpt@bench.example "127.0.0.1:$relay_port"; }
if [ "$warm" -gt 0 ]; then source_load "$warm"; wait_count "sink_count $work/sink.count" "$warm"; fi

bench_bg "$tools/dotnet-counters" collect -p "$relay_pid" --counters System.Runtime --refresh-interval 1 --format csv -o "$out/counters.csv" >/dev/null
counters_pid=$bg_pid
bench_bg perf record -F 999 -g -p "$relay_pid" -o "$out/perf.data" >/dev/null 2>&1
perf_pid=$bg_pid
sleep 2
cpu0=$(cpu_seconds "$relay_pid")
source_load "$n"
wait_count "sink_count $work/sink.count" "$((warm + n))"
cpu1=$(cpu_seconds "$relay_pid")
kill -INT "$perf_pid"; kill -INT "$counters_pid"
wait "$perf_pid" 2>/dev/null || true
sleep 1

{
  echo "$n messages after $warm warm-up, $s sessions, $bytes B: relay CPU $(python3 -c "print(f'{($cpu1-$cpu0)*1000/$n:.2f}')") ms per message"
  echo "== CPU by module"
  perf report -i "$out/perf.data" --no-children -g none --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
  echo "== system calls (inclusive)"
  perf report -i "$out/perf.data" --children -g none --sort sym 2>/dev/null | grep -E '\[k\] (__x64_sys|__do_sys)_' | head -12
  echo "== the relay's methods and the libraries' (inclusive)"
  perf report -i "$out/perf.data" --children -g none --sort sym 2>/dev/null \
    | grep -E 'MailRelay\.|MimeKit\.MimeParser::|Logging\.Logger::Log\(|LowLevelSpinWaiter|Lock::TryEnterSlow|TimerQueue' | grep -v 'AsyncStateMachineBox' | head -25 | cut -c1-220
} | tee "$out/summary.txt"
echo "profile kept in $out (perf.data, counters.csv, summary.txt)"
