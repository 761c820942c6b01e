#!/usr/bin/env bash
# Runs issue 11's benchmarks B1–B8 one after another (never two at once: the figures are ratios
# measured on a shared machine's two cores) and writes BENCHMARKS.md: one row per figure with its
# target, whether it is met, the exact command, the machine and the date. Every bench script prints
# its rows as `BENCHROW | B<n> | what | figure | target | met | command |`; this script only
# collects them (a bench that ends without a row, or fails, gets a row saying so).
#
#   bash bench/run-all.sh [--smoke] [--only B1,B6,...] [--out FILE]
#
#   --smoke   tiny sizes (each bench < 1 minute): checks that the scripts still run, not the targets;
#             writes to .artifacts/bench/BENCHMARKS.smoke.md unless --out says otherwise
#   --only    a comma-separated subset (B7 also gives B8's rows: one script measures both)
#   --out     where the table goes (default BENCHMARKS.md at the repository root)
# Logs of each bench: .artifacts/bench/<id>.log. Full run: about 30 minutes on 2 cores (23 of them B7).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

smoke=0
only=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; shift ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$out" ]; then
  if [ "$smoke" = 1 ]; then out=.artifacts/bench/BENCHMARKS.smoke.md; else out=BENCHMARKS.md; fi
fi
logs=.artifacts/bench
mkdir -p "$logs" "$(dirname "$out")"

# id | full command | smoke command — the one place the benches' sizes are set.
benches=(
  "B1|bash bench/throughput/run.sh 20000 20 4096|bash bench/throughput/run.sh 300 5 4096"
  "B2|bash bench/latency.sh 300 20000 20 4096|bash bench/latency.sh 20 300 5 4096"
  "B3|bash bench/upstream-tls.sh 5000 20 4096|bash bench/upstream-tls.sh 200 5 4096"
  "B4|bash bench/large-messages/run.sh 50 10|bash bench/large-messages/run.sh 4 1"
  "B5|bash bench/idle-connections.sh 2000 300 20000 20 4096|bash bench/idle-connections.sh 100 20 300 5 4096"
  "B6|dotnet run -c Release --project bench/RouteLookup|dotnet run -c Release --project bench/RouteLookup -- 200000"
  "B7|bash bench/operator-scale/run.sh|bash bench/operator-scale/run.sh --rows 200:1,200:10 --idle 10 --b8-routes 200 --b8-secrets 100"
)

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
machine="$(nproc) cores ($cpu), $mem, Linux $(uname -r)"
short_machine="$(nproc) cores, $mem"
date=$(date -u +%Y-%m-%d)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
rows=()
failed=0
for entry in "${benches[@]}"; do
  IFS='|' read -r id full small <<<"$entry"
  if [ -n "$only" ] && [[ ",$only," != *",$id,"* ]]; then continue; fi
  command=$full
  [ "$smoke" = 1 ] && command=$small
  echo "== $id: $command (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s)
  bash -c "$command" > "$logs/$id.log" 2>&1
  status=$?
  found=$(grep -E '^BENCHROW \|' "$logs/$id.log" | sed 's/^BENCHROW //')
  echo "   exit $status after $(( $(date +%s) - start )) s, $(printf '%s' "$found" | grep -c '^|') row(s); log $logs/$id.log"
  if [ "$status" -ne 0 ] || [ -z "$found" ]; then
    failed=$((failed + 1))
    rows+=("| $id | the bench failed (exit $status, no figure): see $logs/$id.log | — | — | no | \`$command\` | $short_machine | $date |")
    tail -n 15 "$logs/$id.log" | sed 's/^/   | /'
  fi
  while IFS= read -r row; do
    [ -n "$row" ] && rows+=("$row $short_machine | $date |")
  done <<<"$found"
done

{
  echo "# Benchmarks (issue 11)"
  echo
  if [ "$smoke" = 1 ]; then echo "Smoke run (tiny sizes: the scripts run; the figures say nothing about the targets)."; echo; fi
  echo "Written by \`bash bench/run-all.sh$([ "$smoke" = 1 ] && echo ' --smoke')\` on $date at commit $commit."
  echo "Machine: $machine. Ratios are relay ÷ Postfix 3.7 (Debian) measured in the same run on this"
  echo "machine, which also runs the load generator and the sinks. How each bench works and what was"
  echo "found on the way: [bench/README.md](bench/README.md)."
  echo
  echo "| id | what | figure | target | met | command | machine | date |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  # Where the CPU went and what stands in the way of the targets not met: bench/findings.md, kept
  # with the code (it says what the profiles found, which a run of the benches cannot).
  if [ "$smoke" = 0 ] && [ -f bench/findings.md ]; then echo; cat bench/findings.md; fi
} > "$out"
echo "wrote $out ($(( ${#rows[@]} )) rows, $failed bench(es) failed)"
[ "$failed" -eq 0 ]
