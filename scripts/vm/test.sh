#!/usr/bin/env bash
# Run skiff's root test targets in the test VM (Debian 12, systemd as PID 1, pure cgroup v2,
# kernel 6.1): SkiffIntegrationTests, SkiffConformanceTests and SkiffEngineTests.
#
#   sudo scripts/vm/test.sh [--timeout SECS] [--out DIR] [--cgroup v2|hybrid|v1] [FILTER]
#
#   FILTER     a swift-testing --filter regex (default: the three root targets and the runtime
#              tests on the host's real cgroup2), e.g.
#              'SkiffIntegrationTests.ResourceTests'
#   --timeout  hard limit for the VM run (default 2400 s); --out DIR keeps the results
#              (see run.sh; log is the test output); --cgroup: the guest's cgroup layout (run.sh
#              --cgroup; default v2, or $SKIFF_VM_CGROUP)
#
# Everything is built on the host (TCG is ~20x slower): the busybox rootfs, the release skiff
# (static) and the test bundle (`swift build --build-tests`, which links against /opt/swift's
# runtime, shared into the guest read-only at the same path). spec-fixtures/ (~46k files) goes in
# as one tar file (.build/vm-fixtures.tar: file by file over 9p takes minutes under TCG) and is
# unpacked to the guest's /var/tmp (hard links and overlay mounts do not work on 9p); the bundle
# runs with
# SKIFF_BIN=<checkout>/.build/release/skiff SKIFF_FIXTURES=/var/tmp/skiff-fixtures.
# SKIP_BUILD=1 skips the host builds (e.g. right after scripts/test.sh built them).
set -euo pipefail
{ # the whole script is one block: bash reads it completely before running it, so editing
  # the file (e.g. a git checkout) does not derail runs in progress

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
case ":$PATH:" in *:/opt/swift/usr/bin:*) ;; *) PATH="/opt/swift/usr/bin:$PATH" ;; esac
export PATH

timeout=2400
run_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout="${2:?}"; shift 2 ;;
        --out) run_args+=(--out "${2:?}"); shift 2 ;;
        --cgroup) run_args+=(--cgroup "${2:?}"); shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) break ;;
    esac
done
# Default: the three root targets, plus the SkiffRuntimeTests suites that use the host's real
# cgroup2 (the eBPF device filter, limits applied to a real cgroup).
filter="${1:-^(SkiffIntegrationTests|SkiffConformanceTests|SkiffEngineTests)\\.|^SkiffRuntimeTests\\.(CgroupHostTests|V2DevicesHostTests)}"

section() { printf '\n==> %s (%ss)\n' "$*" "$SECONDS"; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    section "host: rootfs, swift build -c release, swift build --build-tests"
    scripts/build-rootfs.sh
    swift build -c release
    swift build --build-tests
fi
bundle="$(swift build --show-bin-path)/skiffPackageTests.xctest"
bin="$(swift build -c release --show-bin-path)/skiff"
[ -x "$bundle" ] && [ -x "$bin" ] || { echo "vm/test.sh: $bundle or $bin missing" >&2; exit 1; }

tar -C "$repo" -cf "$repo/.build/vm-fixtures.tar" spec-fixtures

section "VM: swift-testing --filter '$filter'"
# The guest command. /var/tmp is on the guest's ext4 root (disposable: qemu -snapshot).
guest=$(cat <<EOF
set -e
echo "guest: \$(uname -r), \$(stat -fc %T /sys/fs/cgroup), cgroup.controllers: \$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || ls /sys/fs/cgroup | tr '\\n' ' ')"
echo "guest: systemd \$(systemctl --version | head -1), \$(systemctl is-system-running 2>/dev/null || true)"
rm -rf /var/tmp/skiff-fixtures /var/tmp/spec-fixtures
tar -C /var/tmp -xf "$repo/.build/vm-fixtures.tar"
mv /var/tmp/spec-fixtures /var/tmp/skiff-fixtures
echo "guest: fixtures unpacked at \$(cut -d' ' -f1 /proc/uptime)s"
export SKIFF_BIN="$bin" SKIFF_FIXTURES=/var/tmp/skiff-fixtures SKIFF_TEST_TIMEOUT_SCALE="${SKIFF_TEST_TIMEOUT_SCALE:-10}"
t0=\$(cut -d' ' -f1 /proc/uptime)
set +e
"$bundle" --testing-library swift-testing --filter '$filter'
rc=\$?
echo "guest: tests exited \$rc after \$(awk -v t0="\$t0" '{printf "%d", \$1 - t0}' /proc/uptime)s"
exit \$rc
EOF
)
exec "$here/run.sh" --timeout "$timeout" "${run_args[@]}" -- "$guest"
exit
}
