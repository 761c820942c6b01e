#!/usr/bin/env bash
# Builds the operator, relay and pause images without Docker, for the real-cluster tests: the
# same images as src/{Operator,Relay}/Dockerfile describe for users' CI.
#   base    debootstrap --variant=minbase bookworm + libssl3 + ca-certificates, from this machine's
#           own Debian mirror (cached as a tar, keyed by the mirror and the packages: root_tar)
#   apps    self-contained `dotnet publish` (linux-x64, invariant globalization) of a copy of src/
#   pause   a static program (scripts/images/pause.c) alone in its image
#   client  (tests only) debootstrap minbase + swaks + Net::SSLeay: the app pod of the real-cluster
#           test, which sends with its namespace's sending identity (STARTTLS + AUTH)
# assembled with buildah (private storage under the cache, vfs driver, chroot isolation) into OCI
# archives for `ctr -n k8s.io images import`. Then each program is started as PID 1 of a PID
# namespace of its own in its image's root file system, as user 10001, and must end within
# 10 seconds of SIGTERM (a process that installs no handler ignores it as PID 1).
#
#   sudo bash scripts/build-images.sh      -> $MAILRELAY_IMAGES_DIR (default ~/.cache/mailrelay/images)
#      localhost/mailrelay:$TAG, localhost/mailrelay-operator:$TAG, localhost/mailrelay-pause:$TAG
#      localhost/mailrelay-testclient:$TAG
#      in mailrelay.oci.tar, mailrelay-operator.oci.tar, pause.oci.tar, testclient.oci.tar
#      (TAG: MAILRELAY_IMAGE_TAG, 0.1.0)
# Images are rebuilt when src/, the build props or this script change.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MAILRELAY_CACHE:-$HOME/.cache/mailrelay}"
out="${MAILRELAY_IMAGES_DIR:-$cache/images}"
tag="${MAILRELAY_IMAGE_TAG:-0.1.0}"
work="$cache/images-work"
storage=(--root "$cache/buildah/root" --runroot "$cache/buildah/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot

if [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (debootstrap, chroot, unshare and buildah's storage need it)" >&2
  exit 1
fi
for tool in debootstrap:debootstrap buildah:buildah gcc:gcc unshare:util-linux; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    echo "error: ${tool%%:*} not found: apt-get install -y --no-install-recommends ${tool#*:}" >&2
    exit 1
  fi
done
if [ ! -f /usr/lib/x86_64-linux-gnu/libc.a ]; then
  echo "error: static libc not found: apt-get install -y --no-install-recommends libc6-dev" >&2
  exit 1
fi

recipe=$(sha256sum "$0" "$repo/scripts/images/pause.c" | sha256sum | cut -d' ' -f1)
# What the apps are built from: src/ and the build props as they are in the work tree.
app_key=$( { echo "$recipe $tag"; cd "$repo" && find src Directory.Build.props Directory.Packages.props -type f \
  -not -path '*/bin/*' -not -path '*/obj/*' -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.key" 2>/dev/null)" = "$app_key" ] && [ -f "$out/mailrelay.oci.tar" ] && \
   [ -f "$out/mailrelay-operator.oci.tar" ] && [ -f "$out/pause.oci.tar" ] && [ -f "$out/testclient.oci.tar" ]; then
  echo "images cached in $out"
  exit 0
fi
mkdir -p "$out" "$work"
# buildah keeps a blob-info cache under /var/lib/containers whatever --root says: removed at the
# end when this run made it.
made_containers_dir=no
[ -e /var/lib/containers ] || made_containers_dir=yes

log() { printf '[build-images] %s\n' "$*"; }

# 1. The base root file system. The mirror: where apt fetches bookworm's own packages from.
mirror=$(apt-get -qq --print-uris download base-files 2>/dev/null | head -n1 | cut -d"'" -f2 | sed 's#/pool/.*##')
if [ -z "$mirror" ]; then
  echo "error: cannot tell this machine's Debian mirror (apt-get --print-uris download base-files)" >&2
  exit 1
fi
# root_tar NAME PACKAGES: a debootstrap --variant=minbase bookworm root with PACKAGES (comma-separated),
# without package caches, lists and documentation, with the user 10001, cached as $cache/image-NAME.tar.
# Keyed by the mirror, the packages and root_recipe (raise it when this function changes): editing the
# rest of this script does not rebuild the roots.
root_recipe=2
root_tar() {
  local name=$1 packages=$2 tar="$cache/image-$1.tar" key dir="$work/root-$1"
  key=$(printf '%s\n' "$root_recipe" "$mirror" "$packages" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$tar.key" 2>/dev/null)" = "$key" ] && [ -f "$tar" ]; then
    return 0
  fi
  log "debootstrap --variant=minbase bookworm with $packages ($name; a few minutes)"
  rm -rf "$dir"
  if ! debootstrap --variant=minbase --include="$packages" bookworm "$dir" "$mirror" > "$work/debootstrap-$name.log" 2>&1; then
    tail -n 20 "$work/debootstrap-$name.log" >&2
    echo "error: debootstrap of $name failed (log: $work/debootstrap-$name.log)" >&2
    exit 1
  fi
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  echo 'mailrelay:x:10001:10001:mail relay:/nonexistent:/usr/sbin/nologin' >> "$dir/etc/passwd"
  echo 'mailrelay:x:10001:' >> "$dir/etc/group"
  tar -C "$dir" --numeric-owner -cf "$tar.tmp" .
  mv "$tar.tmp" "$tar"
  echo "$key" > "$tar.key"
  rm -rf "$dir"
}
# The programs' root: what .NET needs (TLS, trust anchors).
root_tar base libssl3,ca-certificates
base="$cache/image-base.tar"
# The test client's root: swaks with TLS (Net::SSLeay; debootstrap does not resolve its virtual
# dependency perl-openssl-abi-3, so perl-openssl-defaults, which provides it, is named), nothing of ours.
root_tar client swaks,libnet-ssleay-perl,perl-openssl-defaults,ca-certificates
client_base="$cache/image-client.tar"

# 2. The programs: a self-contained publish of a copy of src/ (the work tree's obj/ stays untouched).
log "dotnet publish (self-contained, linux-x64)"
rm -rf "$work/src" "$work/publish"
mkdir -p "$work/src"
cp "$repo/Directory.Build.props" "$repo/Directory.Packages.props" "$work/src/"
(cd "$repo" && tar --exclude='*/bin' --exclude='*/obj' -cf - src) | tar -C "$work/src" -xf -
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for p in Relay:MailRelay.Relay Operator:MailRelay.Operator; do
  dotnet publish "$work/src/src/${p%%:*}/${p#*:}.csproj" -c Release -r linux-x64 --self-contained true \
    -p:InvariantGlobalization=true -p:DebugType=none -v q -nologo -o "$work/publish/${p%%:*}"
done
gcc -static -Os -o "$work/pause" "$repo/scripts/images/pause.c"

# 3. Root file systems, kept for the SIGTERM check, then images.
rootfs() { # NAME APPDIR
  local dir="$work/rootfs-$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -C "$dir" --numeric-owner -xf "$base"
  cp -a "$2" "$dir/app"
  chown -R 0:0 "$dir/app"
  install -d -o 10001 -g 10001 "$dir/var/spool/mailrelay"
  install -d "$dir/etc/mailrelay/routes" "$dir/etc/mailrelay/credentials"
}
rootfs mailrelay "$work/publish/Relay"
rootfs mailrelay-operator "$work/publish/Operator"
mkdir -p "$work/rootfs-pause"
cp "$work/pause" "$work/rootfs-pause/pause"

image() { # NAME ROOTFS ARCHIVE ENTRYPOINT USER PORTS...
  local name=$1 dir=$2 archive=$out/$3 entry=$4 user=$5 ctr mnt p
  shift 5
  ctr=$(buildah "${storage[@]}" from --quiet scratch)
  mnt=$(buildah "${storage[@]}" mount "$ctr")
  tar -C "$dir" --numeric-owner -cf - . | tar -C "$mnt" --numeric-owner -xf -
  buildah "${storage[@]}" umount "$ctr" >/dev/null
  local args=(--entrypoint "[\"$entry\"]" --cmd "" --user "$user" --workingdir /
    --env DOTNET_EnableDiagnostics=0 --label org.opencontainers.image.version="$tag"
    --label org.opencontainers.image.title="$name")
  for p in "$@"; do args+=(--port "$p"); done
  buildah "${storage[@]}" config "${args[@]}" "$ctr"
  buildah "${storage[@]}" commit --quiet --format oci --rm "$ctr" "localhost/$name:$tag" >/dev/null
  rm -f "$archive"
  buildah "${storage[@]}" push --quiet "localhost/$name:$tag" "oci-archive:$archive:localhost/$name:$tag"
  buildah "${storage[@]}" rmi "localhost/$name:$tag" >/dev/null
  log "localhost/$name:$tag -> $archive ($(du -h "$archive" | cut -f1))"
}
image mailrelay "$work/rootfs-mailrelay" mailrelay.oci.tar /app/mailrelay 10001:10001 2525/tcp 9090/tcp
image mailrelay-operator "$work/rootfs-mailrelay-operator" mailrelay-operator.oci.tar /app/mailrelay-operator 10001:10001 8080/tcp
image mailrelay-pause "$work/rootfs-pause" pause.oci.tar /pause 65535:65535
mkdir -p "$work/rootfs-testclient"
tar -C "$work/rootfs-testclient" --numeric-owner -xf "$client_base"
image mailrelay-testclient "$work/rootfs-testclient" testclient.oci.tar /usr/bin/swaks 10001:10001

# 4. SIGTERM to PID 1, in each image's root file system.
sigterm_check() { # NAME ROOTFS READY-PATTERN COMMAND...
  local name=$1 dir=$2 ready=$3 logf="$work/sigterm-$1.log" pid child start i
  shift 3
  mkdir -p "$dir/proc" "$dir/tmp"
  chmod 1777 "$dir/tmp"
  unshare --pid --fork --mount --mount-proc="$dir/proc" chroot --userspec=10001:10001 "$dir" "$@" > "$logf" 2>&1 &
  pid=$!
  for i in $(seq 1 300); do
    if [ -z "$ready" ]; then sleep 0.5; break; fi
    grep -q "$ready" "$logf" && break
    kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2; echo "error: $name ended before it was ready" >&2; return 1; }
    sleep 0.1
  done
  [ -z "$ready" ] || grep -q "$ready" "$logf" || { cat "$logf" >&2; kill -KILL "$pid"; echo "error: $name not ready in 30 s" >&2; return 1; }
  child=$(pgrep -P "$pid" | head -n1) # PID 1 of the new namespace, as the host sees it
  start=$(date +%s%N)
  kill -TERM "$child"
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$child" "$pid" 2>/dev/null || true
    cat "$logf" >&2
    echo "error: $name as PID 1 did not end within 10 s of SIGTERM" >&2
    return 1
  fi
  wait "$pid" || true
  log "$name as PID 1 ended $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGTERM"
}
printf 'apiVersion: v1\nkind: Config\nclusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: none, context: {cluster: none, user: none}}]\ncurrent-context: none\nusers: [{name: none, user: {token: none}}]\n' \
  > "$work/rootfs-mailrelay-operator/tmp/kubeconfig"
sigterm_check relay "$work/rootfs-mailrelay" "SMTP listening" /app/mailrelay --listen 127.0.0.1:0 --metrics 127.0.0.1:0 \
  --spool /var/spool/mailrelay --routes /etc/mailrelay/routes/routes.yaml --credentials /etc/mailrelay/credentials
sigterm_check operator "$work/rootfs-mailrelay-operator" "HTTP listening" /app/mailrelay-operator --kubeconfig /tmp/kubeconfig \
  --metrics 127.0.0.1:0 --leader-elect false --namespace mail-relay
sigterm_check pause "$work/rootfs-pause" "" /pause

rm -rf "$work"
if [ "$made_containers_dir" = yes ]; then rm -rf /var/lib/containers; fi
echo "$app_key" > "$out/.key"
echo "images built into $out"
