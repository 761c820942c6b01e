# Shared by the issue-11 benches (B1 run.sh, B2 latency.sh, B3 upstream-tls.sh, B5 idle-connections.sh):
# source it from a bench script after `cd` to the repository root. It gives
#   bench_init NAME              a work directory ($work), the cleanup trap, every process started
#                                through it (bench_bg) killed at exit, each Postfix instance stopped
#   free_port                    a free TCP port on 127.0.0.1 (several benches may run at once)
#   relay_dll                    the relay to measure: published ReadyToRun as the images ship it
#                                (cached in ~/.cache/mailrelay/bench-relay), or with
#                                MAILRELAY_BENCH_RELAY=build the plain build output, =prebuilt that
#                                output as it is (the smoke test, run after the solution's build);
#                                MAILRELAY_BENCH_RELAY_DLL=PATH measures that build (before/after runs)
#   start_smtp_sink ADDR:PORT    smtp-sink -c (running counters); sink_count FILE reads them
#   wait_count CMD N [TIMEOUT]   polls until CMD prints >= N (fails after TIMEOUT s, default
#                                MAILRELAY_BENCH_TIMEOUT or 600)
#   start_postfix DIR PORT RELAYHOST [main.cf lines...]   Postfix 3.7 as the equivalent relay
#   cpu_seconds PID              user+system CPU of a process so far
#   benchrow B FIELDS...         one "BENCHROW | ..." line (bench/README.md, lead's run-all.sh)
# The box running these may be shared: every figure that matters is a ratio measured in one run.

bench_pids=()
bench_postfix=()
bench_init() {
  work=$(mktemp -d "/tmp/mailrelay-bench-$1.XXXXXX")
  chmod 777 "$work"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM HUP
}
bench_cleanup() {
  local p
  for p in "${bench_postfix[@]}"; do timeout 20 postfix -c "$p" stop >/dev/null 2>&1 || postfix -c "$p" abort >/dev/null 2>&1 || true; done
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -z "${MAILRELAY_BENCH_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
# bench_bg CMD...: runs CMD in the background, killed at exit; its pid in $bg_pid.
bench_bg() {
  "$@" &
  bg_pid=$!
  bench_pids+=("$bg_pid")
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

relay_dll() {
  if [ -n "${MAILRELAY_BENCH_RELAY_DLL:-}" ]; then echo "$MAILRELAY_BENCH_RELAY_DLL"; return; fi
  if [ "${MAILRELAY_BENCH_RELAY:-publish}" = build ] || [ "${MAILRELAY_BENCH_RELAY:-}" = prebuilt ]; then
    if [ "$MAILRELAY_BENCH_RELAY" = build ] || ! [ -f src/Relay/bin/Release/net10.0/mailrelay.dll ]; then
      dotnet build src/Relay -c Release -v q -nologo >/dev/null
    fi
    echo "src/Relay/bin/Release/net10.0/mailrelay.dll"
  else
    local out="$HOME/.cache/mailrelay/bench-relay"
    dotnet publish src/Relay/MailRelay.Relay.csproj -c Release -r linux-x64 --self-contained false \
      -v q -nologo -o "$out" >/dev/null
    echo "$out/mailrelay.dll"
  fi
}

ensure_tools() {
  if ! [ -x /usr/sbin/smtp-source ] || ! [ -x /usr/sbin/postfix ]; then bash scripts/install-test-deps.sh example; fi
}

start_smtp_sink() { # ADDR:PORT COUNTFILE
  bench_bg /usr/sbin/smtp-sink -c -u nobody "$1" 256 >"$2" 2>&1
  sink_pid=$bg_pid
  wait_listening "$1"
}
sink_count() { tail -c 300 "$1" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -n1 | cut -d= -f2 || true; }
wait_listening() { # ADDR:PORT
  local i
  for i in $(seq 1 300); do
    (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: nothing listens on $1" >&2
  return 1
}
wait_count() { # CMD N [TIMEOUT]
  local limit=${3:-${MAILRELAY_BENCH_TIMEOUT:-600}}
  local deadline=$(( $(date +%s) + limit )) c
  while true; do
    c=$(eval "$1"); c=${c:-0}
    [ "$c" -ge "$2" ] 2>/dev/null && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "error: only $c of $2 after $limit s ($1)" >&2; return 1; fi
    sleep 0.05
  done
}
cpu_seconds() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$1/stat"; }

# start_postfix DIR PORT RELAYHOST [extra main.cf lines...]: Postfix 3.7 (Debian's) as a relay to
# RELAYHOST ([host]:port), listening on 127.0.0.1:PORT, its own queue in DIR (fsync before 250,
# as always), no chroot, logging to a file. Stopped at exit.
start_postfix() {
  local dir=$1 port=$2 relayhost=$3
  shift 3
  mkdir -p "$dir/conf" "$dir/spool" "$dir/data"
  cat > "$dir/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.local
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = $relayhost
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
default_destination_concurrency_limit = ${POSTFIX_CONCURRENCY:-20}
smtpd_client_connection_count_limit = 0
alias_maps =
alias_database =
local_recipient_maps =
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
CF
  local line
  for line in "$@"; do printf '%s\n' "$line" >> "$dir/conf/main.cf"; done
  sed -e "s/^smtp      inet  n       -       y       -       -       smtpd/127.0.0.1:$port inet n - n - - smtpd/" /etc/postfix/master.cf \
    | sed 's/^\(\S*\s\+\S\+\s\+\S\+\s\+\S\+\s\+\)y/\1n/' > "$dir/conf/master.cf"
  chown -R postfix "$dir/data"
  postfix -c "$dir/conf" check >/dev/null 2>&1 || true
  postfix -c "$dir/conf" start >/dev/null 2>&1
  bench_postfix+=("$dir/conf")
  wait_listening "127.0.0.1:$port"
}

# A relay routing table in DIR/routes.yaml: ROUTES is the YAML list body.
write_routes() { # DIR ROUTES
  mkdir -p "$1"
  printf 'routes:\n%s\n' "$2" > "$1/routes.yaml"
}
# start_relay DIR PORT [extra relay options...]: the relay under test; pid in $relay_pid.
start_relay() {
  local dir=$1 port=$2
  shift 2
  bench_bg dotnet "$relay" --listen "127.0.0.1:$port" --routes "$dir/routes.yaml" \
    --credentials "$dir/credentials" --spool "$dir/spool" "$@" >"$dir/relay.log" 2>&1
  relay_pid=$bg_pid
  wait_listening "127.0.0.1:$port"
}

# write_smarthost_routes DIR PORT: the relay's table for B1 and its profile: everything to smtp-sink
# on 127.0.0.3:PORT (the smarthost), no TLS.
write_smarthost_routes() {
  write_routes "$1" "  - name: bench/all-via-smarthost
    senders: [\"*\"]
    relay: {host: 127.0.0.3, port: $2, tls: None}"
}

# write_probe_routes DIR: the relay's table for B2/B5: the probes' sender domain to the latency sink
# (127.0.0.4:$probe_sink), everything else to the load sink (127.0.0.3:$load_sink).
write_probe_routes() {
  write_routes "$1" "  - name: bench/probes
    senders: [probe.test]
    relay: {host: 127.0.0.4, port: $probe_sink, tls: None}
  - name: bench/all-via-smarthost
    senders: [\"*\"]
    relay: {host: 127.0.0.3, port: $load_sink, tls: None}"
}

# probes_idle_then_loaded PORT ACKS ARRIVALS: $probes latency probes (bench/lib/probe.py, one every
# $interval ms) alone, then as many while smtp-source sends $load messages of $bytes over $s sessions
# (numbered from $loaded_from); waits until ARRIVALS counts 5 warm-up probes + both rounds. B2 and B5.
probes_idle_then_loaded() {
  local port=$1 acks=$2 arrivals=$3 load_pid
  python3 bench/lib/probe.py send 127.0.0.1 "$port" "$probes" "$interval" "$acks" 0
  wait_count "wc -l < $arrivals" "$((probes + 5))" 120
  /usr/sbin/smtp-source -s "$s" -m "$load" -l "$bytes" -f load@bench.test -t rcpt@bench.example "127.0.0.1:$port" &
  load_pid=$!
  sleep 1
  python3 bench/lib/probe.py send 127.0.0.1 "$port" "$probes" "$interval" "$acks" "$loaded_from"
  wait "$load_pid"
  wait_count "wc -l < $arrivals" "$((2 * probes + 5))" 600
}

benchrow() { # B WHAT FIGURE TARGET MET COMMAND
  printf 'BENCHROW | %s | %s | %s | %s | %s | %s |\n' "$@"
}
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n.a.')" "$1" "$2"; }
# met VALUE OP TARGET: yes/no
met() { python3 -c "import sys,operator as o; v,op,t=sys.argv[1:]; print('n.a.' if v=='n.a.' else ('yes' if {'>=':o.ge,'<=':o.le}[op](float(v),float(t)) else 'no'))" "$1" "$2" "$3"; }
