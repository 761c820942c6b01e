#!/usr/bin/env bash
# Checks the README's promise on a fresh machine: `git clone` of a commit, then
# `bash scripts/test.sh` — in a chroot built with debootstrap from this machine's own Debian
# mirror, holding only what a fresh machine of this project's kind has (Debian bookworm, the
# .NET 10 SDK at /usr/share/dotnet, /opt/nuget/packages, ~/.nuget/NuGet/NuGet.Config) and an
# empty ~/.cache/mailrelay, so the control plane, the node and the images are built cold and the
# real-cluster test runs a kubelet and containerd inside the chroot (on the host's network and
# cgroups: not at the same time as another real-cluster run, which uses the same bridge).
# Runs as root (debootstrap, mount, chroot).
#
#   bash scripts/fresh-machine-check.sh [--commit REV] [--reuse-control-plane] [--out DIR]
#                                       [--setup-only] [--rebuild-base]
#
#   --commit REV            the commit to clone (default: HEAD of the repository holding this script)
#   --reuse-control-plane   bind-mount this machine's ~/.cache/mailrelay/k8s-1.20.2 and
#                           k8s-1.20.2-node read-only (shorter reruns; the real check is cold, without it)
#   --out DIR               where the log, TRX files and failure messages are copied (default /tmp/fresh-check)
#   --setup-only            prepare the root and stop before scripts/test.sh (checks the set-up itself)
#   --rebuild-base          rebuild the cached base root file system
#
# The base (debootstrap minbase + the fresh image's basics) is cached in
# ~/.cache/mailrelay/fresh-root-base.tar, keyed by its recipe. Each run unpacks a clean copy into
# a temporary directory; on exit every process whose root is that directory is killed, every
# mount is undone in reverse order and the directory is deleted. The mounts live in a private
# mount namespace (unshare), so none of them is ever visible outside this script.
# Exit status: the test command's (2 for a failure of the check's own set-up).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (debootstrap, mount and chroot need it)" >&2
  exit 2
fi
# Own mount namespace, private propagation: no mount made here can reach the host's tree.
if [ -z "${FRESH_CHECK_IN_NAMESPACE:-}" ]; then
  FRESH_CHECK_IN_NAMESPACE=1 exec unshare --mount --propagation private -- bash "$0" "$@"
fi

script_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$script_dir" rev-parse --show-toplevel)
commit_arg=HEAD
reuse_control_plane=0
setup_only=0
rebuild_base=0
out=/tmp/fresh-check
while [ $# -gt 0 ]; do
  case "$1" in
    --commit) commit_arg=$2; shift 2 ;;
    --commit=*) commit_arg=${1#--commit=}; shift ;;
    --reuse-control-plane) reuse_control_plane=1; shift ;;
    --out) out=$2; shift 2 ;;
    --setup-only) setup_only=1; shift ;;
    --rebuild-base) rebuild_base=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
commit=$(git -C "$repo" rev-parse --verify "$commit_arg^{commit}")

cache="$HOME/.cache/mailrelay"
base_tar="$cache/fresh-root-base.tar"
mkdir -p "$cache" "$out"
log() { echo "[fresh-machine-check $(date +%H:%M:%S)] $*" >&2; }

# One check at a time on this machine (it is slow and uses every core).
exec 9>"$cache/fresh-machine-check.lock"
if ! flock -n 9; then
  echo "error: another fresh-machine check is running (lock $cache/fresh-machine-check.lock)" >&2
  exit 2
fi

# --- The base root file system -------------------------------------------------------------
# The fresh image's basics, as the project's fresh machines have them.
base_packages=(python3 perl git openssl ca-certificates procps iproute2)
# The .NET SDK's runtime dependencies on Debian 12: the fresh image has a working dotnet at
# /usr/share/dotnet, so it has these; minbase does not (dotnet would not start without libicu).
base_packages+=(libicu72 libssl3 libgssapi-krb5-2 zlib1g tzdata)

# Debian's binary-package sources of this machine, as deb822 stanzas (third-party lists and
# deb-src entries left out: a fresh image lists Debian's binary packages only, and a deb-src
# entry here may have been written by the project's own scripts/install-test-deps.sh).
debian_sources() {
  python3 - <<'PY'
import glob, re, sys
debian = re.compile(r'^(https?|file)://\S*/debian(-security)?/?$')
out = []
def stanza(types, uris, suites, comps, signed):
    if "deb" not in types:
        return
    uris = [u for u in uris if debian.match(u)]
    if not uris or not all(s.startswith("bookworm") for s in suites):
        return
    s = f"Types: deb\nURIs: {' '.join(uris)}\nSuites: {' '.join(suites)}\nComponents: {' '.join(comps)}\n"
    s += f"Signed-By: {signed or '/usr/share/keyrings/debian-archive-keyring.gpg'}\n"
    out.append(s)
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for block in re.split(r"\n\s*\n", open(path).read()):
        fields = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.split()
        if fields.get("enabled", ["yes"])[0].lower() == "no":
            continue
        stanza(fields.get("types", []), fields.get("uris", []), fields.get("suites", []),
               fields.get("components", []), " ".join(fields.get("signed-by", [])))
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^(deb|deb-src)\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$", line)
        if m:
            signed = re.search(r"signed-by=(\S+?)\]?(\s|$)", m.group(2) or "")
            stanza([m.group(1)], [m.group(3)], [m.group(4)], m.group(5).split(), signed.group(1) if signed else "")
if not out:
    sys.exit("no Debian bookworm binary source (deb) in /etc/apt/sources.list{,.d}")
print("\n".join(out), end="")
PY
}

sources=$(debian_sources)
# The mirror for debootstrap: the first Debian (non-security) URI serving bookworm itself.
mirror=$(printf '%s\n' "$sources" | awk '
  /^URIs:/ { uris = $0; sub(/^URIs: */, "", uris) }
  /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { split(uris, u, " "); for (j in u) if (u[j] !~ /-security\/?$/) { print u[j]; exit } } }')
if [ -z "$mirror" ]; then
  echo "error: no Debian mirror for bookworm in this machine's apt sources" >&2
  exit 2
fi
# apt settings for reaching the mirror (e.g. Acquire::Check-Valid-Until for a snapshot copy):
# files of /etc/apt/apt.conf.d holding only Acquire:: settings.
acquire_conf_files() {
  local f
  for f in /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    if grep -qE '^[[:space:]]*Acquire::' "$f" && \
       ! grep -vE '^[[:space:]]*(Acquire::.*|//.*|#.*|)$' "$f" | grep -q .; then
      echo "$f"
    fi
  done
}
# Trust anchors this machine has beyond Debian's ca-certificates (a package registry reached
# through a local copy may present a certificate of such a CA): PEM blocks of the host bundle.
host_bundle=/etc/ssl/certs/ca-certificates.crt

recipe_version=3
base_key=$( { echo "recipe $recipe_version"; echo "mirror $mirror"; echo "${base_packages[*]}"; printf '%s\n' "$sources";
  for f in $(acquire_conf_files); do echo "$f"; cat "$f"; done; sha256sum "$host_bundle" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)

build_base() {
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/var/tmp}/fresh-root-base.XXXXXX")
  base_build_dir=$dir
  chmod 0755 "$dir"  # mktemp's 0700 would make / unreadable to every user but root (smtp-sink -u nobody)
  log "building the base root file system from $mirror (debootstrap --variant=minbase bookworm, a few minutes)"
  local incl
  incl=$(IFS=,; echo "${base_packages[*]}")
  if ! debootstrap --variant=minbase --include="$incl" bookworm "$dir" "$mirror" > "$cache/fresh-root-base.debootstrap.log" 2>&1; then
    tail -n 20 "$cache/fresh-root-base.debootstrap.log" >&2
    echo "error: debootstrap failed (log: $cache/fresh-root-base.debootstrap.log)" >&2
    return 1
  fi
  # Debian's sources of this machine, and its apt settings for reaching them.
  rm -f "$dir/etc/apt/sources.list" "$dir"/etc/apt/sources.list.d/*
  printf '%s\n' "$sources" > "$dir/etc/apt/sources.list.d/debian.sources"
  local f
  for f in $(acquire_conf_files); do cp "$f" "$dir/etc/apt/apt.conf.d/"; done
  # Extra trust anchors, installed the Debian way so update-ca-certificates keeps them.
  awk -v dir="$dir/usr/local/share/ca-certificates" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/host-anchor-%03d.pem", dir, n) }
    file { print > file }
    /-----END CERTIFICATE-----/ { close(file); file = "" }' "$host_bundle"
  local cert fp known
  known=$(awk '/-----BEGIN CERTIFICATE-----/ { c = "" } { c = c $0 "\n" } /-----END CERTIFICATE-----/ { printf "%s", c | "openssl x509 -noout -fingerprint -sha256"; close("openssl x509 -noout -fingerprint -sha256") }' \
    "$dir/etc/ssl/certs/ca-certificates.crt")
  for cert in "$dir"/usr/local/share/ca-certificates/host-anchor-*.pem; do
    fp=$(openssl x509 -noout -fingerprint -sha256 -in "$cert")
    if grep -qxF "$fp" <<<"$known"; then rm -f "$cert"; else mv "$cert" "${cert%.pem}.crt"; fi
  done
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin update-ca-certificates >/dev/null
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get clean
  find "$dir/var/lib/apt/lists" -maxdepth 1 -type f -delete  # keeps lists/partial owned by _apt
  rm -rf "$dir"/tmp/* "$dir"/root/.cache
  tar --numeric-owner --xattrs -C "$dir" -cpf "$base_tar.tmp" .
  mv "$base_tar.tmp" "$base_tar"
  echo "$base_key" > "$base_tar.key"
  rm -rf --one-file-system "$dir"
  base_build_dir=
  log "base cached in $base_tar ($(du -h "$base_tar" | cut -f1))"
}

# --- Clean-up: processes, mounts, the temporary root ------------------------------------------
root=
base_build_dir=
mounts=()
processes_in() {
  local dir=$1 p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    if [ "$r" = "$dir" ]; then echo "${p#/proc/}"; fi
  done
}
mounts_under() {
  # Mount points at or under $1 (deepest first), from this namespace's mountinfo.
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
kill_processes_in() {
  local dir=$1 pids i
  for i in $(seq 1 20); do
    pids=$(processes_in "$dir" | tr '\n' ' ')
    [ -z "${pids// /}" ] && return 0
    if [ "$i" -le 10 ]; then kill -TERM $pids 2>/dev/null || true; else kill -KILL $pids 2>/dev/null || true; fi
    sleep 1
  done
  pids=$(processes_in "$dir" | tr '\n' ' ')
  if [ -n "${pids// /}" ]; then log "warning: processes still in $dir: $pids"; return 1; fi
}
cleanup() {
  local status=$? i m left
  trap - EXIT INT TERM HUP
  set +e
  for dir in "$root" "$base_build_dir"; do
    [ -n "$dir" ] && [ -d "$dir" ] || continue
    kill_processes_in "$dir"
  done
  if [ -n "$root" ] && [ -d "$root" ]; then
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
      umount "${mounts[i]}" 2>/dev/null || { sleep 1; umount "${mounts[i]}" 2>/dev/null; } || umount -l "${mounts[i]}"
    done
  fi
  for dir in "$root" "$base_build_dir"; do
    [ -n "$dir" ] && [ -d "$dir" ] || continue
    # Whatever else is mounted there (e.g. by a test), deepest first; lazy as the last resort.
    for m in $(mounts_under "$dir"); do umount "$m" 2>/dev/null || umount -l "$m"; done
    left=$(mounts_under "$dir")
    if [ -n "$left" ]; then
      log "error: still mounted, $dir NOT deleted: $left"
      status=2
      continue
    fi
    rm -rf --one-file-system "$dir"
  done
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$rebuild_base" = 1 ] || [ ! -f "$base_tar" ] || [ "$(cat "$base_tar.key" 2>/dev/null)" != "$base_key" ]; then
  build_base
else
  log "base root file system cached: $base_tar"
fi

# --- This run's root -----------------------------------------------------------------------
started=$(date +%s)
root=$(mktemp -d "${TMPDIR:-/var/tmp}/fresh-machine.XXXXXX")
log "unpacking a clean root into $root"
tar --numeric-owner --xattrs -C "$root" -xpf "$base_tar"
chmod 0755 "$root"  # a fresh machine's / is 0755; mktemp's 0700 locks out non-root peers (smtp-sink -u nobody)

mount_at() { # mount_at TARGET MOUNT-ARGS... : records TARGET for the clean-up
  local target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target" || return 1
  mounts+=("$target")
}
ro_bind() { # ro_bind SOURCE TARGET
  mount_at "$2" --bind "$1" || return 1
  mount -o remount,bind,ro "$2"
}
# / is a mount point on a real machine; buildah (the images) makes it private, which fails with
# EINVAL on a plain directory: the root is bound onto itself first.
mount_at "$root" --bind "$root"
mount_at "$root/proc" -t proc proc
# /sys with everything mounted below it (the cgroup hierarchies kubelet, containerd and runc use in the
# real-cluster test); the clean-up unmounts what lies below first.
mount_at "$root/sys" --rbind /sys
mount_at "$root/dev" --bind /dev
mount_at "$root/dev/pts" --bind /dev/pts
mount_at "$root/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
ro_bind /usr/share/dotnet "$root/usr/share/dotnet"
ln -sfn /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
ro_bind /opt/nuget/packages "$root/opt/nuget/packages"
mkdir -p "$root/root/.nuget/NuGet"
cp "$HOME/.nuget/NuGet/NuGet.Config" "$root/root/.nuget/NuGet/NuGet.Config"
cp --remove-destination /etc/resolv.conf "$root/etc/resolv.conf"
if [ "$reuse_control_plane" = 1 ]; then
  if [ ! -d "$cache/k8s-1.20.2/bin" ]; then
    echo "error: --reuse-control-plane: $cache/k8s-1.20.2/bin does not exist" >&2
    exit 2
  fi
  log "reusing this machine's control plane (read-only): $cache/k8s-1.20.2"
  ro_bind "$cache/k8s-1.20.2" "$root/root/.cache/mailrelay/k8s-1.20.2"
  if [ -d "$cache/k8s-1.20.2-node/bin" ]; then
    log "reusing this machine's node build (read-only): $cache/k8s-1.20.2-node"
    ro_bind "$cache/k8s-1.20.2-node" "$root/root/.cache/mailrelay/k8s-1.20.2-node"
  fi
fi

log "cloning $repo at $commit into /root/src"
git clone --quiet --no-hardlinks --no-checkout "$repo" "$root/root/src"
git -C "$root/root/src" -c advice.detachedHead=false checkout --quiet --detach "$commit"

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NUGET_CERT_REVOCATION_MODE=offline DOTNET_CLI_TELEMETRY_OPTOUT=1 CI=true "$@" 9>&-
}
if [ "$setup_only" = 1 ]; then
  in_root /bin/bash -c 'cd /root/src && git log --oneline -1 && dotnet --version && apt-get -o Acquire::Languages=none update -qq && echo "apt-get update: ok" && dotnet nuget list source' </dev/null
  log "set-up only: stopping before scripts/test.sh"
  exit 0
fi

run_log="$out/test.log"
log "running 'cd /root/src && bash scripts/test.sh' in the chroot (log: $run_log)"
set +e
in_root /bin/bash -c 'cd /root/src && bash scripts/test.sh' </dev/null >"$run_log" 2>&1
status=$?
set -e
elapsed=$(( $(date +%s) - started ))

# --- Evidence, copied out before the clean-up deletes the root -------------------------------
rm -rf "$out/test-results" "$out/peers"
if [ -d "$root/root/src/.artifacts/test-results" ]; then
  cp -a "$root/root/src/.artifacts/test-results" "$out/test-results"
fi
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' > "$out/packages.txt" 2>/dev/null || true
if [ -d "$root/tmp/mailrelay-e2e" ]; then
  tar -C "$root/tmp" -czf "$out/mailrelay-e2e.tar.gz" mailrelay-e2e 2>/dev/null || true
fi
python3 - "$out/test-results" > "$out/failures.txt" <<'PY' || true
import glob, os, sys
import xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "**", "*.trx"), recursive=True)):
    for r in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
            continue
        msg = r.findtext("t:Output/t:ErrorInfo/t:Message", "", ns)
        stack = r.findtext("t:Output/t:ErrorInfo/t:StackTrace", "", ns)
        print(f"=== {os.path.basename(path)}: {r.get('testName')} [{r.get('outcome')}, {r.get('duration')}]")
        print(msg.strip())
        print("\n".join(stack.strip().splitlines()[:8]))
        print()
PY
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$run_log" | tail -n 1 || true)
echo "commit $commit, $(( elapsed / 60 ))m$(( elapsed % 60 ))s, exit $status; log $run_log, failures $out/failures.txt"
echo "${summary:-no summary line (see $run_log)}"
exit $status
