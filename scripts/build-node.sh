#!/usr/bin/env bash
# Builds the node components for the real-cluster tests — kubelet, kube-scheduler, kube-proxy —
# and a kube-apiserver, all from the same Debian bookworm `kubernetes` 1.20.2 source tree that
# scripts/build-control-plane.sh prepares (it runs that script first; with its binaries cached,
# that is a no-op), with the Kubernetes version stamped at link time: without it every component
# reports v0.0.0-master and Helm refuses any chart with a kubeVersion.
# Cached: keyed by this script's content, separately from the control plane's cache.
# Output: $MAILRELAY_NODE_BIN (default ~/.cache/mailrelay/k8s-1.20.2-node/bin).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${MAILRELAY_CACHE:-$HOME/.cache/mailrelay}"
work="$cache/k8s-1.20.2"
bin="${MAILRELAY_NODE_BIN:-$cache/k8s-1.20.2-node/bin}"
components=(kubelet kube-scheduler kube-proxy kube-apiserver)

recipe=$(sha256sum "$0" | cut -d' ' -f1)
cached=yes
for cmd in "${components[@]}"; do [ -x "$bin/$cmd" ] || cached=no; done
if [ "$cached" = yes ] && [ "$(cat "$bin/.recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "node components cached in $bin"
  exit 0
fi

# The source tree (reflect2 fixed, openapi generated) comes from the control plane's recipe.
MAILRELAY_K8S_BIN="$work/bin" bash "$here/build-control-plane.sh"
tree="$work/gopath/src/k8s.io/kubernetes"

# The version of the Debian source package: 1.20.5+really1.20.2 builds 1.20.2.
version=v1.20.2
major=1
minor=20
flags=""
for pkg in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  flags+=" -X $pkg.gitCommit=debian-bookworm -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

export GOPATH="$work/gopath" GO111MODULE=off CGO_ENABLED=0 GOCACHE="$cache/go-build"
cd "$tree"
mkdir -p "$bin"
for cmd in "${components[@]}"; do
  go build -ldflags "$flags" -o "$bin/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done
echo "$recipe" > "$bin/.recipe"
for cmd in "${components[@]}"; do "$bin/$cmd" --version; done
echo "node components built into $bin"
