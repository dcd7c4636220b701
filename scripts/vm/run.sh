#!/usr/bin/env bash
# Boot the test VM (Debian 12, systemd, pure cgroup v2, kernel 6.1), run one shell command in it
# as root, stream its output, and exit with its exit status.
#
#   sudo scripts/vm/run.sh [--timeout SECS] [--out DIR] [--mem MB] [--cpus N] [--] COMMAND...
#
#   COMMAND   shell text, run with sh in the guest from the checkout directory (the words are
#             joined with spaces, as `sh -c "$*"`), e.g.
#               scripts/vm/run.sh 'cat /proc/self/cgroup; .build/release/skiff --version'
#   --timeout hard limit for the whole run, boot included (default 3600 s); on expiry qemu is
#             killed and the exit status is 124
#   --out DIR keep the results there (default: a temporary directory, removed at exit):
#               log          the command's stdout+stderr (also streamed to this stdout)
#               status       its exit status
#               console.log  the guest's serial console (kernel, systemd)
#               booted       seconds from kernel start to the command starting
#   --mem MB  guest memory (default 4096); --cpus N  guest CPUs (default 2)
#   --cgroup v2|hybrid|v1
#             the guest's cgroup layout, set by systemd at boot (default v2, or $SKIFF_VM_CGROUP):
#               v2      pure cgroup v2 (systemd.unified_cgroup_hierarchy=1)
#               hybrid  v1 controllers, cgroup2 at /sys/fs/cgroup/unified for systemd's own
#                       tracking (systemd.unified_cgroup_hierarchy=0)
#               v1      legacy: v1 controllers and name=systemd only, no cgroup2 mount
#                       (systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1)
#
# Shares (9p, -virtfs): /opt/swift read-only at /opt/swift (the Swift runtime for test bundles),
# this checkout read-write at the same path as on the host, the output directory. The guest has
# no network (-nic none) and boots with -snapshot: the cached image (scripts/vm/build-image.sh,
# built on first use, ~5 min) is never modified, each run starts from the same state.
#
# The guest boots without AppArmor or SELinux (lsm=lockdown,capability,landlock,yama,bpf), like
# the CI host: Debian's kernel enables AppArmor by default and docker then needs apparmor_parser,
# which the image lacks; with apparmor=0 alone SELinux took its place (without a policy).
# Acceleration: KVM when it boots the guest on this machine (probed once, result cached in the
# image cache as `accel`), else TCG (software emulation, ~20x slower for CPU-bound work).
# SKIFF_VM_ACCEL=kvm|tcg forces one.
# Exit status: the command's; 124 timeout; 125 the VM failed before the command finished.
set -euo pipefail
{ # the whole script is one block: bash reads it completely before running it, so editing
  # the file (e.g. a git checkout) does not derail runs in progress

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
timeout=3600
out=""
mem=4096
cpus=2
cgroup="${SKIFF_VM_CGROUP:-v2}"
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout="${2:?}"; shift 2 ;;
        --out) out="${2:?}"; shift 2 ;;
        --mem) mem="${2:?}"; shift 2 ;;
        --cpus) cpus="${2:?}"; shift 2 ;;
        --cgroup) cgroup="${2:?}"; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "run.sh: no command (see --help)" >&2; exit 2; }
cmd="$*"
case "$cgroup" in
    v2) cgroup_args="systemd.unified_cgroup_hierarchy=1" ;;
    hybrid) cgroup_args="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
    v1) cgroup_args="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
    *) echo "run.sh: --cgroup: expected v2, hybrid or v1, got \"$cgroup\"" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "run.sh: must run as root" >&2; exit 1; }

log() { printf 'vm: %s\n' "$*" >&2; }

if ! command -v qemu-system-x86_64 >/dev/null || ! command -v mmdebstrap >/dev/null; then
    log "installing qemu-system-x86 mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        qemu-system-x86 mmdebstrap e2fsprogs >&2
fi

image="$("$here/build-image.sh" | tail -1)"
cache_root="$(dirname "$image")"

ctl="$(mktemp -d /tmp/skiff-vm-ctl.XXXXXX)"
keep_out=1
if [ -z "$out" ]; then out="$(mktemp -d /tmp/skiff-vm-out.XXXXXX)"; keep_out=0; fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out/log" "$out/status" "$out/booted" "$out/console.log"
qpid=""
tailpid=""
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
    [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null || true
    rm -rf "$ctl"
    [ "$keep_out" = 1 ] || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%s\n' "$src" > "$ctl/src-path"
{
    printf 'cd %q || exit 125\n' "$src"
    printf 'export SKIFF_VM=1 SKIFF_VM_CGROUP=%s LANG=C.UTF-8\n' "$cgroup"
    printf '%s\n' "$cmd"
} > "$ctl/cmd.sh"

deadline=$(( $(date +%s) + timeout ))

# boot ACCEL BOOT_LIMIT: start qemu in the background (sets qpid). BOOT_LIMIT > 0: give up
# (return 1) when the command has not started within that many seconds.
boot() {
    local accel="$1" boot_limit="$2" cpu
    if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi
    rm -f "$out/booted" "$out/status" "$out/log"
    : > "$out/console.log"
    qemu-system-x86_64 \
        -machine q35 -accel "$accel" -cpu "$cpu" -smp "$cpus" -m "$mem" \
        -display none -monitor none -serial "file:$out/console.log" -no-reboot -nic none \
        -snapshot -drive "file=$image/rootfs.ext4,format=raw,if=virtio,cache=unsafe" \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 $cgroup_args mitigations=off panic=-1 systemd.show_status=1 lsm=lockdown,capability,landlock,yama,bpf" \
        -virtfs "local,path=/opt/swift,mount_tag=swift,security_model=none,readonly=on" \
        -virtfs "local,path=$ctl,mount_tag=ctl,security_model=none" \
        -virtfs "local,path=$out,mount_tag=out,security_model=none" \
        -virtfs "local,path=$src,mount_tag=src,security_model=none" \
        </dev/null >"$out/qemu.log" 2>&1 &
    qpid=$!
    local t0; t0=$(date +%s)
    while [ ! -e "$out/booted" ]; do
        if ! kill -0 "$qpid" 2>/dev/null; then wait "$qpid" || true; qpid=""; return 1; fi
        if [ "$(date +%s)" -ge "$deadline" ]; then return 2; fi
        if [ "$boot_limit" -gt 0 ] && [ $(( $(date +%s) - t0 )) -ge "$boot_limit" ]; then
            kill "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; qpid=""; return 1
        fi
        sleep 1
    done
    log "$accel ($cgroup cgroups): command started $(( $(date +%s) - t0 ))s after qemu start (guest uptime $(cat "$out/booted")s)"
}

accel="${SKIFF_VM_ACCEL:-}"
if [ -z "$accel" ] && [ -s "$cache_root/accel" ]; then accel="$(cat "$cache_root/accel")"; fi
t_start=$(date +%s)
rc=0
if [ -z "$accel" ]; then
    if [ -w /dev/kvm ]; then
        log "probing KVM (boot within 120 s, else TCG)"
        if boot kvm 120; then accel=kvm; else rc=$?; fi
        [ "$rc" = 2 ] && { log "timeout during boot"; exit 124; }
        rc=0
        if [ "$accel" = kvm ]; then echo kvm > "$cache_root/accel"; else
            log "KVM did not boot the guest (qemu: $(tail -c 300 "$out/qemu.log" | tr '\n' ' ')); using TCG"
            echo tcg > "$cache_root/accel"; accel=tcg
            boot tcg 0 || rc=$?
        fi
    else
        accel=tcg
        boot tcg 0 || rc=$?
    fi
else
    boot "$accel" 0 || rc=$?
fi
if [ "$rc" = 2 ]; then log "timeout ($timeout s) during boot"; exit 124; fi
if [ "$rc" != 0 ]; then
    log "the VM stopped before running the command; console tail:"
    tail -n 40 "$out/console.log" >&2; tail -n 5 "$out/qemu.log" >&2
    exit 125
fi

tail -n +1 -F "$out/log" 2>/dev/null &
tailpid=$!
while kill -0 "$qpid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "timeout: ${timeout}s; killing qemu"
        kill "$qpid" 2>/dev/null || true
        sleep 1; kill -9 "$qpid" 2>/dev/null || true
        exit 124
    fi
    sleep 1
done
wait "$qpid" 2>/dev/null || true
qpid=""
sleep 1
kill "$tailpid" 2>/dev/null || true; wait "$tailpid" 2>/dev/null || true; tailpid=""
if [ ! -s "$out/status" ]; then
    log "no exit status from the guest; console tail:"
    tail -n 40 "$out/console.log" >&2
    exit 125
fi
status="$(cat "$out/status")"
log "$accel: exit status $status, $(( $(date +%s) - t_start ))s in the VM"
exit "$status"
exit
}
