#!/usr/bin/env bash
# B3 (issue 11): delivery to an upstream that requires STARTTLS and AUTH (the SES case), relay
# against Postfix 3.7 as the client. smtp-source sends N messages of BYTES over S sessions to the
# system; it relays everything to bench/lib/tls_upstream.py (aiosmtpd, STARTTLS + AUTH PLAIN/LOGIN,
# a throw-away self-signed certificate), which counts authenticated sessions (= upstream connections)
# and messages. The relay: a relay route with tls Encrypt and a credential. Postfix:
# smtp_tls_security_level = encrypt, SASL client with the same login; its TLS connection reuse
# (smtp_tls_connection_reuse, off by default in 3.7) is POSTFIX_TLS_REUSE (default no, as shipped).
# Reports messages per upstream connection and delivered/s (until the upstream has all N) for
# both, and BENCHROW lines with the relay ÷ Postfix ratios.
# Usage: bash bench/upstream-tls.sh [MESSAGES] [SESSIONS] [BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${1:-2000}; s=${2:-20}; bytes=${3:-4096}
reuse=${POSTFIX_TLS_REUSE:-no}
cmd="bash bench/upstream-tls.sh $n $s $bytes"
bench_init upstream-tls
ensure_tools
relay=$(relay_dll)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.5 -addext subjectAltName=IP:127.0.0.5 \
  -keyout "$work/upstream.key" -out "$work/upstream.crt" >/dev/null 2>&1
user=bench-user; password=bench-password-$RANDOM$RANDOM

start_upstream() { # NAME: sets up_port, counts in $work/NAME.upstream
  up_port=$(free_port)
  bench_bg /usr/bin/python3 bench/lib/tls_upstream.py --host 127.0.0.5 --port "$up_port" --cert "$work/upstream.crt" \
    --key "$work/upstream.key" --user "$user" --password "$password" --countfile "$work/$1.upstream" >/dev/null 2>>"$work/upstream.log"
  up_pid=$bg_pid
  wait_listening "127.0.0.5:$up_port"
}
upstream_messages() { cut -d' ' -f2 "$work/$1.upstream" 2>/dev/null || echo 0; }
measure() { # NAME PORT: sets rate, per_conn
  local t0 t1 sessions msgs
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$s" -m "$n" -l "$bytes" -f load@bench.test -t rcpt@bench.example "127.0.0.1:$2"
  wait_count "upstream_messages $1" "$n"
  t1=$(date +%s.%N)
  read -r sessions msgs < "$work/$1.upstream"
  rate=$(python3 -c "print(f'{$n/($t1-$t0):.0f}')")
  per_conn=$(python3 -c "print(f'{$msgs/max(1,$sessions):.1f}')")
  printf '%-8s delivered %s in %.2f s (%s msg/s) over %s upstream connections (%s messages each)\n' \
    "$1" "$msgs" "$(python3 -c "print($t1-$t0)")" "$rate" "$sessions" "$per_conn"
}

echo "$n messages of $bytes bytes over $s sessions to a STARTTLS + AUTH upstream; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- relay
start_upstream relay
write_routes "$work/relay" "  - name: bench/upstream
    senders: [\"*\"]
    relay: {host: 127.0.0.5, port: $up_port, tls: Encrypt, credential: bench.upstream}"
mkdir -p "$work/relay/credentials"
printf '%s' "$user" > "$work/relay/credentials/bench.upstream.username"
printf '%s' "$password" > "$work/relay/credentials/bench.upstream.password"
relay_port=$(free_port)
start_relay "$work/relay" "$relay_port" --delivery-concurrency "$s" --destination-concurrency "$s"
measure relay "$relay_port"
relay_rate=$rate; relay_per=$per_conn
kill "$relay_pid" "$up_pid"

# --- Postfix
start_upstream postfix
postfix_port=$(free_port)
POSTFIX_CONCURRENCY=$s start_postfix "$work/pf" "$postfix_port" "[127.0.0.5]:$up_port" \
  "smtp_tls_security_level = encrypt" \
  "smtp_tls_connection_reuse = $reuse" \
  "smtp_sasl_auth_enable = yes" \
  "smtp_sasl_password_maps = inline:{ {[127.0.0.5]:$up_port = $user:$password} }" \
  "smtp_sasl_security_options = noanonymous" \
  "smtp_sasl_tls_security_options = noanonymous"
measure postfix "$postfix_port"
pf_rate=$rate; pf_per=$per_conn

rr=$(ratio "$relay_rate" "$pf_rate"); rp=$(ratio "$relay_per" "$pf_per")
what="$n×$bytes B, $s sessions, STARTTLS + AUTH upstream (aiosmtpd); Postfix smtp_tls_connection_reuse=$reuse"
benchrow B3 "messages per upstream connection relay ÷ Postfix ($what; relay $relay_per, Postfix $pf_per)" "$rp" "n.a. (reported)" "n.a." "$cmd"
benchrow B3 "delivered msg/s relay ÷ Postfix ($what; relay $relay_rate/s, Postfix $pf_rate/s)" "$rr" "n.a. (reported)" "n.a." "$cmd"
