#!/usr/bin/env bash
# Run bench/bench.sh in the test VM (pure cgroup v2 + systemd: crun runs natively there) against
# runc and crun, plus `criu check --all`, and print both.
#
#   sudo scripts/vm/bench.sh [--out DIR] [bench.sh arguments, e.g. -n 20 -r 3]
#
# The release skiff is built on the host (SKIP_BUILD=1 skips that). In the guest the checkout's
# bench/, scripts/ and spec-fixtures/ and the skiff binary are copied to the guest's disk first,
# so that no runtime pages its code in over 9p (runc and crun are on the guest's disk too).
# Figures are for an emulated (TCG) guest: compare the ratios, not the times with the host's.
set -euo pipefail
{ # the whole script is one block: bash reads it completely before running it, so editing
  # the file (e.g. a git checkout) does not derail runs in progress

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
case ":$PATH:" in *:/opt/swift/usr/bin:*) ;; *) PATH="/opt/swift/usr/bin:$PATH" ;; esac
run_args=()
if [ "${1:-}" = --out ]; then run_args=(--out "${2:?}"); shift 2; fi
bench_args="${*:--n 20 -r 3}"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    scripts/build-rootfs.sh
    swift build -c release
fi
bin="$(swift build -c release --show-bin-path)/skiff"
mkdir -p .build
tar -C "$repo" -cf "$repo/.build/vm-bench.tar" spec-fixtures bench scripts/build-rootfs.sh

guest=$(cat <<EOF
echo "== criu check --all (criu \$(criu --version | head -1))"
criu check --all; echo "criu check --all: exit \$?"
echo "== runc \$(runc --version | head -1); crun \$(crun --version | head -1)"
rm -rf /var/tmp/bench && mkdir -p /var/tmp/bench/.build/release
tar -C /var/tmp/bench -xf "$repo/.build/vm-bench.tar"
cp "$bin" /var/tmp/bench/.build/release/skiff
cd /var/tmp/bench && SKIFF_BIN=/var/tmp/bench/.build/release/skiff bash bench/bench.sh $bench_args
EOF
)
exec "$here/run.sh" --timeout "${SKIFF_VM_TIMEOUT:-3000}" "${run_args[@]}" -- "$guest"
exit
}
