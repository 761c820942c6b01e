#!/usr/bin/env bash
# B7/B8 (issue 11): the operator's convergence and steady state on a real kube-apiserver 1.20
# (etcd + kube-apiserver from ~/.cache/mailrelay/k8s-1.20.2, as the tests start them; no kubelet).
#
#   bash bench/operator-scale/run.sh [--rows 1000:1,1000:100,10000:1,100000:1] [--idle 300]
#                                    [--b8-routes 10000] [--b8-secrets 5000] [--parallel 4]
#
# B7, per row N:NS — N MailRoutes (two senders each) spread over NS namespaces, applied with
# `kubectl apply --server-side` (the file cut into chunks of 1,000 applied --parallel at a time), to a
# freshly started operator with no routes: seconds from the END of the apply until the routing-table
# ConfigMap(s) hold all N routes (routes.yaml, or its parts joined), and until every route's status
# names the relay's current config hash. B8, with --b8-routes routes and --b8-secrets unrelated Secrets
# (after the B7 row of that size, or on its own): API write calls (POST/PUT/PATCH/DELETE) counted by
# the API server's audit log by the operator's own user (leader election off, resync every 30 s so
# that resyncs fall inside the window; the operator's own mailrelay_operator_api_calls_total beside it) during --idle seconds with
# nothing changing; the operator's RSS growth from its empty start to then, per route.
# Smoke (about a minute, most of it starting etcd and the API server): --rows 200:10 --idle 10 --b8-routes 200 --b8-secrets 100
set -euo pipefail
ROWS=1000:1,1000:100,10000:1,100000:1
IDLE=300
B8_ROUTES=10000
B8_SECRETS=5000
PARALLEL=4
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --b8-routes) B8_ROUTES=$2; shift 2 ;;
    --b8-secrets) B8_SECRETS=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
COMMAND="bash bench/operator-scale/run.sh --rows $ROWS --idle $IDLE --b8-routes $B8_ROUTES --b8-secrets $B8_SECRETS --parallel $PARALLEL"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MAILRELAY_K8S_BIN:-$HOME/.cache/mailrelay/k8s-1.20.2/bin}
# MAILRELAY_BENCH_OPERATOR_DLL: another build of the operator (e.g. an older commit's, for a before/after in one run).
OPERATOR_DLL=${MAILRELAY_BENCH_OPERATOR_DLL:-$ROOT/src/Operator/bin/Release/net10.0/mailrelay-operator.dll}
[ -x "$BIN/kube-apiserver" ] || { echo "no kube-apiserver in $BIN: run scripts/build-control-plane.sh" >&2; exit 2; }
[ -f "$OPERATOR_DLL" ] || (cd "$ROOT" && dotnet build src/Operator -c Release -v q >/dev/null)
# kubectl: the one scripts/install-helm.sh fetches for the tests (scripts/test.sh), else the PATH's.
HELM_BIN=${MAILRELAY_HELM_BIN:-$HOME/.cache/mailrelay/helm-tools/bin}
if [ -x "$HELM_BIN/kubectl" ]; then PATH=$HELM_BIN:$PATH; fi
command -v kubectl >/dev/null || { echo "no kubectl: run scripts/install-helm.sh" >&2; exit 2; }
WORK=$(mktemp -d /tmp/operator-scale.XXXXXX)
PIDS=()
OP_PID=
cleanup() {
  [ -n "$OP_PID" ] && kill "$OP_PID" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # exit runs the EXIT trap

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.2f}')"; }

# --- control plane -----------------------------------------------------------------------------
TOKEN=bench-admin-token
OPERATOR_TOKEN=bench-operator-token
ETCD_PORT=$(free_port); API_PORT=$(free_port)
printf '%s\n' "$TOKEN,admin,admin,\"system:masters\"" "$OPERATOR_TOKEN,mailrelay-operator,operator,\"system:masters\"" > "$WORK/tokens.csv"
# The audit log records every write request (not reads, not the bench's own admin user): B8 counts the
# operator's writes by its user there, independently of the operator's own metrics.
cat > "$WORK/audit-policy.yaml" <<AP
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - {level: None, users: [admin]}
  - {level: None, verbs: [get, list, watch]}
  - {level: Metadata}
AP
openssl genrsa -out "$WORK/sa.key" 2048 2>/dev/null; openssl rsa -in "$WORK/sa.key" -pubout -out "$WORK/sa.pub" 2>/dev/null
/usr/bin/etcd --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$(free_port)" --quota-backend-bytes 8589934592 >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)
"$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" --token-auth-file="$WORK/tokens.csv" \
  --service-account-key-file="$WORK/sa.pub" --service-account-signing-key-file="$WORK/sa.key" --service-account-issuer=https://kubernetes.default.svc \
  --insecure-port=0 --secure-port="$API_PORT" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --cert-dir="$WORK/certs" \
  --authorization-mode=RBAC --service-cluster-ip-range=10.96.0.0/24 --enable-admission-plugins=NamespaceLifecycle --disable-admission-plugins=ServiceAccount \
  --audit-policy-file="$WORK/audit-policy.yaml" --audit-log-path="$WORK/audit.log" --audit-log-maxsize=0 \
  >"$WORK/apiserver.log" 2>&1 &
PIDS+=($!)
cat > "$WORK/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: b, cluster: {server: "https://127.0.0.1:$API_PORT", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: $TOKEN}}]
contexts: [{name: b, context: {cluster: b, user: admin}}]
current-context: b
KC
export KUBECONFIG=$WORK/kubeconfig
sed "s/$TOKEN/$OPERATOR_TOKEN/" "$WORK/kubeconfig" > "$WORK/kubeconfig-operator"
export API="https://127.0.0.1:$API_PORT" TOKEN
K() { kubectl --request-timeout=120s "$@"; }
for _ in $(seq 1 120); do K get --raw /readyz >/dev/null 2>&1 && break; sleep 0.5; done
K get --raw /readyz >/dev/null
K apply -f "$ROOT/deploy/crds/" >/dev/null
K wait --for condition=established --timeout=60s crd --all >/dev/null
K create namespace mail-relay >/dev/null
K -n mail-relay create deployment mail-relay --image=mailrelay:bench >/dev/null

# --- helpers -----------------------------------------------------------------------------------
start_operator() {
  dotnet "$OPERATOR_DLL" --kubeconfig "$WORK/kubeconfig-operator" --namespace mail-relay --relay-workload deployment/mail-relay \
    --leader-elect false --metrics "127.0.0.1:0" --resync-period 30 --trusted-namespaces "$1" >"$WORK/operator.log" 2>&1 &
  OP_PID=$!
  for _ in $(seq 1 100); do grep -q "http://127.0.0.1:" "$WORK/operator.log" 2>/dev/null && break; sleep 0.2; done
  OP_METRICS=$(grep -o "http://127.0.0.1:[0-9]*" "$WORK/operator.log" | head -1)
  for _ in $(seq 1 100); do curl -sf "$OP_METRICS/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
}
stop_operator() { [ -n "$OP_PID" ] && kill "$OP_PID" 2>/dev/null && wait "$OP_PID" 2>/dev/null || true; OP_PID=; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$OP_PID/status"; }
ns_name() { echo "bench-$1"; }
ns_list() { local n=$1; local out=mail-relay; for i in $(seq 0 $((n - 1))); do out="$out,$(ns_name "$i")"; done; echo "$out"; }

observe() { OBSERVE_TIMEOUT=${OBSERVE_TIMEOUT:-900} python3 "$ROOT/bench/operator-scale/observe.py" "$@"; }

# N routes over NS namespaces, two senders each, in files of at most 1,000 objects.
make_routes() {
  local n=$1 ns=$2 dir=$3
  mkdir -p "$dir"
  python3 - "$n" "$ns" "$dir" <<'PY'
import sys
n, ns, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for chunk in range(0, n, 1000):
    with open(f"{d}/routes-{chunk // 1000:05d}.yaml", "w") as f:
        for i in range(chunk, min(n, chunk + 1000)):
            f.write(f"---\napiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: r{i}, namespace: bench-{i % ns}}}\n"
                    f"spec:\n  senders: [r{i}.example.com, \"*.r{i}.example.org\"]\n  direct: {{}}\n")
PY
}
apply_dir() { ls "$1"/*.yaml | xargs -P "$PARALLEL" -n 1 kubectl --request-timeout=300s apply --server-side --field-manager=bench -f >/dev/null; }

ROWS_OUT=()
B8_DONE=
b8() { # $1 routes present: RSS baseline already taken in RSS0
  local routes=$1 secrets=$2 sdir=$WORK/secrets
  mkdir -p "$sdir"
  K create namespace bench-unrelated >/dev/null
  python3 - "$secrets" "$sdir" <<'PY'
import sys, base64
n, d = int(sys.argv[1]), sys.argv[2]
for chunk in range(0, n, 1000):
    with open(f"{d}/s-{chunk // 1000:05d}.yaml", "w") as f:
        for i in range(chunk, min(n, chunk + 1000)):
            f.write(f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: unrelated-{i}, namespace: bench-unrelated}}\n"
                    f"data: {{password: {base64.b64encode(('x' * 64 + str(i)).encode()).decode()}}}\n")
PY
  apply_dir "$sdir"
  sleep 5
  local writes0 writes1 opw0 opw1
  writes0=$(audit_writes); opw0=$(op_writes)
  sleep "$IDLE"
  writes1=$(audit_writes); opw1=$(op_writes)
  local rss; rss=$(rss_kib)
  # MAILRELAY_BENCH_GCDUMP=FILE: the operator's managed heap at this point (dotnet-gcdump, a NuGet tool), for
  # `dotnet-gcdump report FILE`: what the RSS per route is made of.
  if [ -n "${MAILRELAY_BENCH_GCDUMP:-}" ]; then
    cp "/proc/$OP_PID/smaps" "$MAILRELAY_BENCH_GCDUMP.smaps" || true
    "${MAILRELAY_GCDUMP_TOOL:-dotnet-gcdump}" collect -p "$OP_PID" -o "$MAILRELAY_BENCH_GCDUMP" >&2 || true
  fi
  local per; per=$(python3 -c "print(f'{($rss - $RSS0) / $routes:.2f}')")
  local idle_writes=$((writes1 - writes0)) op_idle=$((opw1 - opw0))
  ROWS_OUT+=("BENCHROW | B8 | API write calls by the operator's user (create/update/patch/delete in the API server's audit log) in ${IDLE} s idle with $routes routes + $secrets unrelated Secrets (operator's own count: $op_idle; resync every 30 s) | $idle_writes | 0 | $([ "$idle_writes" -eq 0 ] && echo yes || echo no) | $COMMAND |")
  ROWS_OUT+=("BENCHROW | B8 | operator RSS growth per route, empty start ($((RSS0 / 1024)) MiB) to $routes routes + $secrets unrelated Secrets ($((rss / 1024)) MiB) | $per KiB | <= 10 KiB | $(python3 -c "print('yes' if $per <= 10 else 'no')") | $COMMAND |")
}
audit_writes() { grep -c '"username":"mailrelay-operator"' "$WORK/audit.log" || true; }
op_writes() { curl -sf "$OP_METRICS/metrics" | awk '/^mailrelay_operator_api_calls_total\{/ && /verb="(POST|PUT|PATCH|DELETE)"/ { s += $NF } END { printf "%d\n", s }'; }

# --- rows --------------------------------------------------------------------------------------
IFS=, read -r -a ROW_LIST <<<"$ROWS"
for row in "${ROW_LIST[@]}"; do
  n=${row%%:*}; nss=${row##*:}
  # a clean slate: no routes, a fresh operator
  K delete mr --all -A --wait=false >/dev/null 2>&1 || true
  for _ in $(seq 1 600); do [ "$(K get mr -A --no-headers 2>/dev/null | wc -l)" -eq 0 ] && break; sleep 1; done
  for i in $(seq 0 $((nss - 1))); do K create namespace "$(ns_name "$i")" >/dev/null 2>&1 || true; done
  start_operator "$(ns_list "$nss")"
  OBSERVE_TIMEOUT=30 observe table 0 "$(now)" >/dev/null
  sleep 2
  RSS0=$(rss_kib)
  rdir=$WORK/routes-$n-$nss; make_routes "$n" "$nss" "$rdir"
  t0=$(now); apply_dir "$rdir"; t_apply=$(now)
  apply_s=$(python3 -c "print(f'{$t_apply - $t0:.1f}')")
  t_table=$(observe table "$n" "$t_apply")
  t_status=$(observe statuses "$n" "$t_apply")
  [ "$t_table" = never ] && t_table=
  target=2; [ "$n" -ge 10000 ] && target=30; [ "$n" -ge 100000 ] && target=n.a.
  met=$(python3 -c "t='$t_table'; print('no' if not t else ('n.a.' if '$target' == 'n.a.' else ('yes' if float(t) <= float('$target') else 'no')))")
  parts=$(K -n mail-relay get cm -l mailrelay.io/routes-part-of=mail-relay-routes --no-headers 2>/dev/null | wc -l)
  ROWS_OUT+=("BENCHROW | B7 | $n routes in $nss namespace(s): s from the end of the apply (took ${apply_s} s, --parallel $PARALLEL) until the ConfigMap(s) hold all $n (1 + $parts part(s)); statuses all current after ${t_status:-never} s | ${t_table:-never} s | $( [ "$target" = n.a. ] && echo "programmed" || echo "<= $target s") | $met | $COMMAND |")
  if [ "$n" -eq "$B8_ROUTES" ] && [ -z "$B8_DONE" ]; then b8 "$n" "$B8_SECRETS"; B8_DONE=1; fi
  stop_operator
done
if [ -z "$B8_DONE" ] && [ "$B8_ROUTES" -gt 0 ]; then # --b8-routes 0: B7 rows only
  K delete mr --all -A --wait=false >/dev/null 2>&1 || true
  for _ in $(seq 1 600); do [ "$(K get mr -A --no-headers 2>/dev/null | wc -l)" -eq 0 ] && break; sleep 1; done
  K create namespace bench-0 >/dev/null 2>&1 || true
  start_operator mail-relay,bench-0
  sleep 2; RSS0=$(rss_kib)
  rdir=$WORK/routes-b8; make_routes "$B8_ROUTES" 1 "$rdir"; apply_dir "$rdir"
  observe statuses "$B8_ROUTES" "$(now)" >/dev/null
  b8 "$B8_ROUTES" "$B8_SECRETS"
  stop_operator
fi
echo "(2 cores shared with other work; $(date -u +%F))"
printf '%s\n' "${ROWS_OUT[@]}"
