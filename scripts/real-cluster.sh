#!/usr/bin/env bash
# A real single-node Kubernetes 1.20 cluster on this machine, for the chart's end-to-end test:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kube-proxy (iptables
# mode) from scripts/build-node.sh, containerd 1.6 + runc, CNI bridge/host-local/loopback/portmap.
#
#   sudo bash scripts/real-cluster.sh up DIR     starts a new one (no state kept from an earlier
#                                                one); DIR/kubeconfig, DIR/env (addresses), DIR/pv
#                                                for hostPath PersistentVolumes
#   sudo bash scripts/real-cluster.sh down DIR   stops every process it started (by the PIDs it
#                                                recorded), unmounts, removes its network set-up
#                                                and every system path the components wrote
#
# Network (the machine's rule: pods reach nothing outside the cluster and the host's test peers):
#   - pods on a private bridge (MAILRELAY_CLUSTER_BRIDGE, mrbr0) in 10.213.0.0/24, gateway
#     10.213.0.1; no default route in pods (only the Service range, 10.214.0.0/24, via the gateway);
#     no masquerading; a drop (mangle FORWARD, ahead of anything kube-proxy adds) for every packet
#     from the bridge to another interface.
#   - the API server listens on 127.0.0.1:PORT and advertises 10.213.0.1:PORT (the `kubernetes`
#     Service's endpoint), where socat forwards to it: pods reach it through that Service.
#     Test peers for pods listen on 10.213.0.1 too; so does the kubelet (the node's InternalIP:
#     a loopback node IP leaves the node without addresses, and `kubectl logs` cannot reach it).
# One at a time per network namespace: the bridge, the sysctls, kube-proxy's KUBE-* chains and the
# system paths are the machine's, so `up` waits (up to MAILRELAY_CLUSTER_LOCK_WAIT seconds, 1200)
# until it can bind the abstract socket @MAILRELAY_CLUSTER_LOCK (mailrelay-real-cluster), held by a
# process of its own until `down`: two test runs at once (two CI clones, one of them in a chroot)
# queue instead of tearing down each other's cluster. Abstract sockets belong to the network
# namespace, like the bridge: no lock file a chroot or a private /run could hide.
# Images: DIR/images/*.oci.tar (scripts/build-images.sh) are imported with `ctr -n k8s.io`.
# Requires root and the Debian packages containerd runc containernetworking-plugins iptables socat
# conntrack etcd-server (scripts/install-test-deps.sh all).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 up|down DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cache="${MAILRELAY_CACHE:-$HOME/.cache/mailrelay}"
nodebin="${MAILRELAY_NODE_BIN:-$cache/k8s-1.20.2-node/bin}"
k8sbin="${MAILRELAY_K8S_BIN:-$cache/k8s-1.20.2/bin}" # kube-controller-manager (scripts/build-control-plane.sh)
images="${MAILRELAY_IMAGES_DIR:-$cache/images}"
tag="${MAILRELAY_IMAGE_TAG:-0.1.0}"
bridge="${MAILRELAY_CLUSTER_BRIDGE:-mrbr0}"
pod_cidr=10.213.0.0/24
gateway=10.213.0.1
service_cidr=10.214.0.0/24
node=mailrelay-node
token=mailrelay-cluster-admin-token
# System paths the components write whatever their flags say; removed on `down` if they were
# not there before `up` (recorded in DIR/system-paths).
system_paths=(/var/log/pods /var/log/containers /run/containerd /var/lib/cni /run/netns /var/run/netns /etc/cni
  /var/lib/kubelet /var/lib/dockershim /run/runc /var/lib/containerd /opt/cni /etc/kubernetes)

lock="${MAILRELAY_CLUSTER_LOCK:-mailrelay-real-cluster}"
lock_wait="${MAILRELAY_CLUSTER_LOCK_WAIT:-1200}"

log() { printf '[real-cluster] %s\n' "$*"; }

# A free TCP port on 127.0.0.1 (bound by the kernel, released, used at once by the component).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME COMMAND...: in the background, output to DIR/logs/NAME.log, PID recorded.
start() {
  local name=$1
  shift
  mkdir -p "$dir/logs"
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo "$! $name" >> "$dir/pids"
}

# Binds @$lock in a process of its own (DIR/lock-holder; its command line names DIR, so `ps`
# shows which cluster holds it); waits while another process holds it. The holder exits 3 when the
# name is taken; anything else (no python3, ...) is an error at once, not a wait.
hold_cluster_lock() {
  local start=$SECONDS said="" pid i code
  while :; do
    rm -f "$dir/lock.out"
    setsid python3 -c 'import errno, signal, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.bind("\0" + sys.argv[1])
except OSError as e:
    sys.exit(3 if e.errno == errno.EADDRINUSE else 1)
print("held", flush=True)
signal.pause()' "$lock" "mailrelay-cluster-lock-holder" "$dir" > "$dir/lock.out" 2>"$dir/lock.err" < /dev/null &
    pid=$!
    code=""
    for ((i = 0; i < 200; i++)); do
      if grep -qx held "$dir/lock.out" 2>/dev/null; then
        echo "$pid" > "$dir/lock-holder"
        return 0
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" && code=0 || code=$?
        break
      fi
      sleep 0.05
    done
    if [ -z "$code" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "error: the lock holder did not start in 10 s" >&2
      exit 1
    fi
    if [ "$code" != 3 ]; then
      echo "error: cannot take the cluster lock @$lock (exit $code): $(cat "$dir/lock.err" 2>/dev/null)" >&2
      exit 1
    fi
    if (( SECONDS - start > lock_wait )); then
      echo "error: another real cluster still holds @$lock after $lock_wait s: $(pgrep -af mailrelay-cluster-lock-holder | head -n 3)" >&2
      exit 1
    fi
    [ -n "$said" ] || log "another real cluster is up in this network namespace (@$lock: $(pgrep -af mailrelay-cluster-lock-holder | head -n 1)); waiting up to $lock_wait s"
    said=1
    sleep 1
  done
}

# Ends the holder of DIR's lock (checked by its command line: the PID may have been reused).
release_cluster_lock() {
  local pid
  [ -f "$dir/lock-holder" ] || return 0
  pid=$(cat "$dir/lock-holder")
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "mailrelay-cluster-lock-holder $dir"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/lock-holder"
}

wait_for() { # WHAT SECONDS COMMAND...
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "error: $what not ready in $secs s" >&2
  return 1
}

up() {
  if [ -f "$dir/pids" ]; then
    echo "error: $dir holds a cluster already (run: $0 down $dir)" >&2
    exit 1
  fi
  for b in kubelet kube-apiserver kube-scheduler kube-proxy; do
    [ -x "$nodebin/$b" ] || { echo "error: no $nodebin/$b: run bash scripts/build-node.sh" >&2; exit 1; }
  done
  for t in containerd ctr runc socat conntrack iptables etcd python3 pgrep; do
    command -v "$t" >/dev/null || { echo "error: $t not found: bash scripts/install-test-deps.sh all" >&2; exit 1; }
  done
  hold_cluster_lock
  trap 'echo "error: up failed; take down what it made: $0 down $dir" >&2' ERR
  ls /run/netns 2>/dev/null > "$dir/netns-before" || true
  : > "$dir/system-paths"
  for p in "${system_paths[@]}"; do [ -e "$p" ] || echo "$p" >> "$dir/system-paths"; done
  # A new cluster every time: no state of an earlier one (etcd, containers, volumes).
  rm -rf "$dir"/{etcd,certs,containerd,cni,kubelet,pv,logs}
  mkdir -p "$dir"/{etcd,certs,containerd,cni/net.d,kubelet,pv}
  : > "$dir/pids"

  # Network: bridge and gateway first (socat binds the gateway address), then the rules.
  sysctl -n net.ipv4.ip_forward > "$dir/ip_forward.orig"
  sysctl -n net.bridge.bridge-nf-call-iptables > "$dir/bridge-nf.orig" 2>/dev/null || echo 0 > "$dir/bridge-nf.orig"
  ip link add "$bridge" type bridge
  ip addr add "$gateway/24" dev "$bridge"
  ip link set "$bridge" up
  iptables -t mangle -I FORWARD 1 -i "$bridge" ! -o "$bridge" -j DROP -m comment --comment "mailrelay: nothing leaves the pod bridge"
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  sysctl -qw net.ipv4.ip_forward=1 # Service traffic from pod to pod is routed on the bridge

  # Control plane.
  openssl genrsa -out "$dir/certs/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/certs/sa.key" -pubout -out "$dir/certs/sa.pub" 2>/dev/null
  echo "$token,admin,admin,\"system:masters\"" > "$dir/certs/tokens.csv"
  local etcd_port api_port kubelet_port sched_port proxy_health proxy_metrics
  etcd_port=$(free_port); api_port=$(free_port); kubelet_port=$(free_port); sched_port=$(free_port)
  proxy_health=$(free_port); proxy_metrics=$(free_port)
  local peer_port
  peer_port=$(free_port)
  start etcd etcd --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port"
  start kube-apiserver "$nodebin/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --token-auth-file="$dir/certs/tokens.csv" --service-account-key-file="$dir/certs/sa.pub" \
    --service-account-signing-key-file="$dir/certs/sa.key" --service-account-issuer=https://kubernetes.default.svc \
    --insecure-port=0 --secure-port="$api_port" --bind-address=127.0.0.1 --advertise-address="$gateway" \
    --cert-dir="$dir/certs" --authorization-mode=Node,RBAC --service-cluster-ip-range="$service_cidr" \
    --enable-admission-plugins=NamespaceLifecycle,ServiceAccount,LimitRanger,ResourceQuota --kubelet-preferred-address-types=InternalIP \
    --allow-privileged=false
  cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: real
  cluster: {server: "https://127.0.0.1:$api_port", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: $token}
contexts:
- name: real
  context: {cluster: real, user: admin}
current-context: real
KC
  wait_for "kube-apiserver" 120 curl -skf -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz"
  # Pods reach the API server at the advertised gateway address.
  start socat socat "TCP-LISTEN:$api_port,bind=$gateway,fork,reuseaddr" "TCP:127.0.0.1:$api_port"
  start kube-controller-manager "$k8sbin/kube-controller-manager" --kubeconfig="$dir/kubeconfig" \
    --leader-elect=false --port=0 --secure-port=0 --use-service-account-credentials=false \
    --service-account-private-key-file="$dir/certs/sa.key" --root-ca-file="$dir/certs/apiserver.crt" \
    --controllers='*,-nodeipam,-cloud-node-lifecycle,-service,-route,-csrsigning,-csrapproving,-bootstrapsigner,-tokencleaner' \
    --cluster-cidr="$pod_cidr" --allocate-node-cidrs=false
  start kube-scheduler "$nodebin/kube-scheduler" --kubeconfig="$dir/kubeconfig" --leader-elect=false --port=0 \
    --bind-address=127.0.0.1 --secure-port="$sched_port"

  # containerd, its CNI network and the images.
  cat > "$dir/containerd/config.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$dir/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/mailrelay-pause:$tag"
  # The sandbox may not lower OOM scores: without this every pod fails ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
TOML
  cat > "$dir/cni/net.d/10-mailrelay.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "mailrelay",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "isDefaultGateway": false,
      "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$dir/cni/ipam",
        "ranges": [[{"subnet": "$pod_cidr", "gateway": "$gateway"}]],
        "routes": [{"dst": "$service_cidr", "gw": "$gateway"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CNI
  start containerd containerd --config "$dir/containerd/config.toml"
  wait_for containerd 60 ctr --address "$dir/containerd/containerd.sock" version
  local archive
  for archive in "$images"/pause.oci.tar "$images"/mailrelay.oci.tar "$images"/mailrelay-operator.oci.tar "$images"/testclient.oci.tar; do
    [ -f "$archive" ] || { echo "error: no $archive: run bash scripts/build-images.sh" >&2; return 1; }
    ctr --address "$dir/containerd/containerd.sock" -n k8s.io images import --no-unpack=false "$archive" >/dev/null
  done
  log "images: $(ctr --address "$dir/containerd/containerd.sock" -n k8s.io images ls -q | tr '\n' ' ')"

  # kubelet.
  cat > "$dir/kubelet/config.yaml" <<KCFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $gateway
port: $kubelet_port
readOnlyPort: 0
healthzPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
evictionHard: {memory.available: "0%", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}
imageGCHighThresholdPercent: 100
makeIPTablesUtilChains: false
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
protectKernelDefaults: false
serializeImagePulls: false
KCFG
  start kubelet "$nodebin/kubelet" --config="$dir/kubelet/config.yaml" --kubeconfig="$dir/kubeconfig" \
    --root-dir="$dir/kubelet/root" --cert-dir="$dir/kubelet/pki" --container-runtime=remote \
    --container-runtime-endpoint="unix://$dir/containerd/containerd.sock" --node-ip="$gateway" \
    --hostname-override="$node" --pod-infra-container-image="localhost/mailrelay-pause:$tag" --v=1

  # kube-proxy, iptables mode; no masquerading for the pod network.
  cat > "$dir/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $pod_cidr
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$proxy_health
metricsBindAddress: 127.0.0.1:$proxy_metrics
hostnameOverride: $node
clientConnection: {kubeconfig: "$dir/kubeconfig"}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {masqueradeAll: false}
KP
  start kube-proxy "$nodebin/kube-proxy" --config="$dir/kube-proxy.yaml"

  local kubectl="${MAILRELAY_HELM_BIN:-$cache/helm-tools/bin}/kubectl --kubeconfig=$dir/kubeconfig"
  wait_for "node $node Ready" 120 sh -c "$kubectl get node $node -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  cat > "$dir/env" <<ENV
KUBECONFIG=$dir/kubeconfig
GATEWAY=$gateway
POD_CIDR=$pod_cidr
SERVICE_CIDR=$service_cidr
NODE=$node
CONTAINERD_ADDRESS=$dir/containerd/containerd.sock
ENV
  log "cluster up: KUBECONFIG=$dir/kubeconfig (node $node Ready; pods in $pod_cidr on $bridge)"
}

down() {
  local pid name
  # Only the `up` that took the machine's lock made anything machine-wide (bridge, rules, sysctls,
  # system paths): a DIR without it (an `up` that waited in vain) has nothing to take down, and
  # must not take down the cluster that holds the lock.
  if [ ! -f "$dir/lock-holder" ]; then
    log "no cluster was up in $dir"
    return 0
  fi
  # However the rest of `down` ends, the lock goes with it: a lock left held would make every
  # later `up` wait in vain.
  trap release_cluster_lock EXIT
  # The pods' logs are kept for a look (DIR/logs/pods), then the pods go: containerd's shims
  # outlive containerd; stop every task of this containerd.
  if [ -d /var/log/pods ] && [ -d "$dir/logs" ]; then cp -r /var/log/pods "$dir/logs/" 2>/dev/null || true; fi
  if [ -S "$dir/containerd/containerd.sock" ]; then
    local c
    for c in $(ctr --address "$dir/containerd/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$dir/containerd/containerd.sock" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
    done
    sleep 1
  fi
  if [ -f "$dir/pids" ]; then
    # Reverse order: node agents, then control plane, etcd last.
    tac "$dir/pids" | while read -r pid name; do
      kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 2
    tac "$dir/pids" | while read -r pid name; do
      kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  # Shims of this containerd (their command line names its socket address); by PID.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $dir/containerd/containerd.sock" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  sleep 1
  # Mounts under DIR (secrets, sandboxes, rootfs) and network namespaces of this cluster's pods.
  local m
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($dir|/run/netns|/var/run/netns|/run/containerd)" | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  # The pods' network namespace files (CNI names them cni-*) that were not there before `up`.
  local ns
  for ns in $(ls /run/netns 2>/dev/null); do
    if [[ $ns == cni-* ]] && ! grep -qxF "$ns" "$dir/netns-before" 2>/dev/null; then rm -f "/run/netns/$ns"; fi
  done
  # Network: kube-proxy's and kubelet's chains (KUBE-*: only this cluster makes them), our drop,
  # the bridge, the sysctls.
  [ -x "$nodebin/kube-proxy" ] && "$nodebin/kube-proxy" --cleanup >/dev/null 2>&1 || true
  local tool table rule chain
  for tool in iptables ip6tables; do
    for table in filter nat mangle; do
      { "$tool" -t "$table" -S 2>/dev/null || true; } | { grep -E '^-A (PREROUTING|INPUT|OUTPUT|FORWARD|POSTROUTING) .*-j KUBE-' || true; } | while read -r rule; do
        eval "$tool -t $table ${rule/-A/-D}" 2>/dev/null || true
      done
      for chain in $("$tool" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
        "$tool" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$tool" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
        "$tool" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  while iptables -t mangle -D FORWARD -i "$bridge" ! -o "$bridge" -j DROP -m comment --comment "mailrelay: nothing leaves the pod bridge" 2>/dev/null; do :; done
  ip link del "$bridge" 2>/dev/null || true
  [ -f "$dir/ip_forward.orig" ] && sysctl -qw net.ipv4.ip_forward="$(cat "$dir/ip_forward.orig")" || true
  [ -f "$dir/bridge-nf.orig" ] && sysctl -qw net.bridge.bridge-nf-call-iptables="$(cat "$dir/bridge-nf.orig")" 2>/dev/null || true
  # System paths written by the components, when they were not there before.
  if [ -f "$dir/system-paths" ]; then
    while read -r p; do
      [ -n "$p" ] && [ -e "$p" ] && rm -rf "$p" && log "removed $p"
    done < "$dir/system-paths"
  fi
  rm -f "$dir/pids"
  # The state (etcd, images and containers in containerd's root, volumes); logs/ stays for a look.
  rm -rf "$dir"/{etcd,certs,containerd,cni,kubelet,pv}
  # Last: the machine's cluster lock, for the next `up` waiting on it.
  release_cluster_lock
  log "cluster down ($dir)"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
