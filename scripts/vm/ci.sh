#!/usr/bin/env bash
# CI step for the VM suite (called by .ci/run after the host suite, as root, on a fresh
# Debian 12 machine): installs qemu and mmdebstrap, builds the VM image from Debian packages
# (scripts/vm/build-image.sh; reused if this machine already has it), then runs the root test
# targets in the guest (scripts/vm/test.sh), printing the timings of each step.
#
#   sudo scripts/vm/ci.sh
#
# Env: SKIFF_VM_TIMEOUT  hard limit for the guest run in seconds (default 1800)
#      SKIFF_VM_FILTER   the tests to run (swift-testing --filter regex). Default: the cgroup
#                        tests (Integration Resources, OOM, Lifecycle: limits, OOM events, pause/
#                        resume, events, ps, update, delete; the systemd cgroup driver
#                        (SystemdCgroup), frozen cgroups; the runtime tests on the real
#                        cgroup2), and two engine tests with the engines' default systemd
#                        cgroup settings: podman's container lifecycle in a libpod scope
#                        (SystemdPodmanTests/lifecycle) and a Kubernetes-style pod through
#                        containerd's CRI plugin with SystemdCgroup (CRIPodTests/pod). The
#                        integration suite is serialized and every test takes 10-90 s under
#                        TCG, so all of it (~4 h on a shared 2-core host) does not fit CI's
#                        budget: run `scripts/vm/test.sh` (no filter) for that; the other
#                        systemd engine tests (docs/vm.md, ~15 min): `scripts/vm/test.sh
#                        '^SkiffEngineTests\.(SystemdPodmanTests|SystemdRootlessPodmanTests|SystemdDockerTests|SystemdBuildahTests|CRIPodTests)/'`.
set -euo pipefail
{ # the whole script is one block: bash reads it completely before running it, so editing
  # the file (e.g. a git checkout) does not derail runs in progress

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."
export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)
step() { printf '\n==> vm/ci: %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))"; }

step "apt-get install qemu-system-x86 mmdebstrap e2fsprogs"
need=()
for p in qemu-system-x86 mmdebstrap e2fsprogs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then apt-get install -y --no-install-recommends "${need[@]}"; fi

step "build the VM image (scripts/vm/build-image.sh)"
"$here/build-image.sh"
t_img=$(date +%s)

step "root test targets in the VM (scripts/vm/test.sh)"
rc=0
filter="${SKIFF_VM_FILTER:-^SkiffIntegrationTests\.Integration/(Resources|OOM|Lifecycle|SystemdCgroup|FrozenCgroup)/|^SkiffRuntimeTests\.(CgroupHostTests|V2DevicesHostTests)/|^SkiffEngineTests\.(SystemdPodmanTests/lifecycle|CRIPodTests/pod)\(}"
"$here/test.sh" --timeout "${SKIFF_VM_TIMEOUT:-1800}" "$filter" || rc=$?
t_end=$(date +%s)
printf '\n==> vm/ci: image %ss, VM suite (host builds + boot + tests) %ss, exit %s\n' \
    "$(( t_img - t0 ))" "$(( t_end - t_img ))" "$rc"
exit "$rc"
exit
}
