#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager 1.20.2 from Debian bookworm's `kubernetes`
# source package (GOPATH mode, vendored dependencies) and installs etcd-server, for the
# operator's tests against a real control plane (about 6 minutes on 2 cores). Cached: with the
# binaries present it does nothing. Output: $MAILRELAY_K8S_BIN (default ~/.cache/mailrelay/k8s-1.20.2/bin).
set -euo pipefail

cache="${MAILRELAY_CACHE:-$HOME/.cache/mailrelay}"
work="$cache/k8s-1.20.2"
bin="${MAILRELAY_K8S_BIN:-$work/bin}"

# The cache is keyed by this script's content: a changed recipe rebuilds.
recipe=$(sha256sum "$0" | cut -d' ' -f1)
if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ "$(cat "$bin/.recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "control plane cached in $bin"
  exit 0
fi
rm -f "$work/gopath/src/k8s.io/kubernetes/pkg/generated/openapi/zz_generated.openapi.go"
for p in etcd-server golang-go golang-github-modern-go-reflect2-dev dpkg-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    bash "$(dirname "$0")/install-test-deps.sh"
    break
  fi
done

mkdir -p "$work/src-pkg"
cd "$work/src-pkg"
if [ ! -d "$(ls -d kubernetes-*/ 2>/dev/null | head -n1)" ]; then
  apt-get source -qq kubernetes >/dev/null
fi
srcdir=$(ls -d "$work"/src-pkg/kubernetes-*/ | head -n1)

export GOPATH="$work/gopath" GO111MODULE=off CGO_ENABLED=0 GOCACHE="$cache/go-build"
tree="$GOPATH/src/k8s.io/kubernetes"
if [ ! -d "$tree" ]; then
  mkdir -p "$GOPATH/src/k8s.io"
  cp -a "$srcdir" "$tree"
fi
cd "$tree"

# The vendored reflect2 1.0.1 crashes under Go 1.19: use Debian's 1.0.2.
rm -rf vendor/github.com/modern-go/reflect2
cp -a /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2

# pkg/generated/openapi is generated, not shipped.
if [ ! -f pkg/generated/openapi/zz_generated.openapi.go ]; then
  go build -o "$work/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # Tags sit in doc.go (package) or on types (e.g. resource.Quantity); grep -R follows the
  # vendor/k8s.io -> staging symlinks. The generators themselves mention the tag: skip them.
  inputs=$( { grep -rl --include='*.go' -e '+k8s:openapi-gen=' pkg; grep -Rl --include='*.go' -e '+k8s:openapi-gen=' vendor/k8s.io; } \
    | grep -v -e code-generator -e sample-apiserver -e kube-openapi -e gengo -e '_test\.go$' \
    | xargs -n1 dirname | sort -u \
    | sed -e 's#^vendor/##' -e 's#^pkg/#k8s.io/kubernetes/pkg/#' | paste -sd, -)
  "$work/openapi-gen" -i "$inputs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r /dev/null
fi

mkdir -p "$bin"
for cmd in kube-apiserver kube-controller-manager; do
  go build -o "$bin/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done
echo "$recipe" > "$bin/.recipe"
"$bin/kube-apiserver" --version
echo "control plane built into $bin"
