#!/usr/bin/env bash
# Build the test VM image: a Debian 12 (bookworm) system from Debian packages only, with
# systemd as PID 1 (pure cgroup v2), the Debian 6.1 kernel, the container engines and criu.
#
#   sudo scripts/vm/build-image.sh [--force]
#
# Prints the image directory on stdout (last line). It holds
#   rootfs.ext4   the root file system (booted with qemu -snapshot: never written to)
#   vmlinuz, initrd.img   the kernel and initramfs, taken out of the image
# The directory is $SKIFF_VM_CACHE (default /var/cache/skiff-vm)/<hash of this script>, so a
# second call on the same machine reuses it; --force rebuilds. Nothing here is committed.
#
# Host needs (run as root): mmdebstrap, e2fsprogs (mkfs.ext4 -d), network access to the Debian
# mirror in /etc/apt/sources.list*. scripts/vm/run.sh installs them when missing.
#
# In the image:
#   - /usr/local/sbin/skiff-vm-run, started by skiff-vm.service once the system is up: mounts
#     the 9p shares (see run.sh), runs /mnt/skiff-vm-ctl/cmd.sh with output to
#     /mnt/skiff-vm-out/log, writes its exit status to /mnt/skiff-vm-out/status, powers off.
#   - docker, containerd and the other daemons that would start at boot are disabled (the engine
#     tests start their own); no network (qemu -nic none); root has no password (console only).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
force=0
[ "${1:-}" = --force ] && force=1

[ "$(id -u)" -eq 0 ] || { echo "build-image: must run as root" >&2; exit 1; }

# Packages in the guest. The Swift test bundles use /opt/swift's runtime (shared over 9p); they
# need only glibc, libstdc++ and zlib from the image. gcc + libc6-dev: NotifySocketTests builds
# a static helper; python3: SeccompNotifyTests' agent; time, jq: bench/bench.sh;
# python3-grpcio, python3-grpc-tools, python3-protobuf: the engine tests' CRI client (the
# Kubernetes-style pod through containerd's CRI plugin).
PACKAGES=(
    systemd systemd-sysv dbus dbus-user-session udev kmod procps iproute2 util-linux mount
    linux-image-amd64 initramfs-tools e2fsprogs
    libstdc++6 zlib1g libcurl4 libxml2 ca-certificates
    busybox-static jq time python3 gcc libc6-dev strace less psmisc
    runc crun criu podman buildah containerd docker.io conmon netavark aardvark-dns catatonit
    uidmap fuse-overlayfs slirp4netns iptables
    python3-grpcio python3-grpc-tools python3-protobuf
)

cache_root="${SKIFF_VM_CACHE:-/var/cache/skiff-vm}"
key="$(cat "$here/build-image.sh" | sha256sum | cut -c1-16)"
dir="$cache_root/$key"

if [ "$force" = 0 ] && [ -s "$dir/rootfs.ext4" ] && [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.img" ]; then
    echo "build-image: cached: $dir" >&2
    echo "$dir"
    exit 0
fi

for tool in mmdebstrap mkfs.ext4; do
    command -v "$tool" >/dev/null || { echo "build-image: $tool missing (apt-get install mmdebstrap e2fsprogs)" >&2; exit 1; }
done

mkdir -p "$cache_root"
# Older images (other hashes) are removed: one machine keeps one image.
find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} + 2>/dev/null || true
work="$(mktemp -d "$cache_root/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir "$root"

t0=$(date +%s)
echo "build-image: mmdebstrap bookworm into $root" >&2
# Files written into the image by the customize hook.
cat > "$work/skiff-vm-run" <<'EOF'
#!/bin/sh
# Run by skiff-vm.service: mount the host's shares, run the command script, record its exit
# status and power off. Shares (9p mount tags from scripts/vm/run.sh):
#   swift -> /opt/swift (ro)   ctl -> /mnt/skiff-vm-ctl   out -> /mnt/skiff-vm-out
#   src   -> the checkout, at the same path as on the host (path in ctl/src-path)
out=/mnt/skiff-vm-out
mkdir -p /opt/swift /mnt/skiff-vm-ctl "$out"
opts=trans=virtio,version=9p2000.L,msize=1048576
mount -t 9p -o "$opts,cache=none" ctl /mnt/skiff-vm-ctl || { echo "skiff-vm: cannot mount ctl" > /dev/ttyS0; systemctl poweroff -ff; }
mount -t 9p -o "$opts,cache=none" out "$out"
mount -t 9p -o "$opts,ro,cache=loose" swift /opt/swift 2>/dev/null || true
if [ -s /mnt/skiff-vm-ctl/src-path ]; then
    src="$(cat /mnt/skiff-vm-ctl/src-path)"
    mkdir -p "$src"
    mount -t 9p -o "$opts,cache=none" src "$src"
fi
echo "skiff-vm: up after $(cut -d' ' -f1 /proc/uptime)s, running cmd.sh" > /dev/ttyS0
echo "$(cut -d' ' -f1 /proc/uptime)" > "$out/booted"
status=0
(cd /root && HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    sh /mnt/skiff-vm-ctl/cmd.sh) > "$out/log" 2>&1 < /dev/null || status=$?
echo "$status" > "$out/status.tmp" && mv "$out/status.tmp" "$out/status"
echo "skiff-vm: cmd.sh exited $status after $(cut -d' ' -f1 /proc/uptime)s" > /dev/ttyS0
sync
umount -a -t 9p 2>/dev/null || true
systemctl poweroff -ff
EOF
cat > "$work/skiff-vm.service" <<'EOF'
[Unit]
Description=skiff VM test command (scripts/vm/run.sh)
After=multi-user.target dbus.service systemd-user-sessions.service
Wants=dbus.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/skiff-vm-run
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF

include="$(IFS=,; echo "${PACKAGES[*]}")"
mmdebstrap --variant=minbase --include="$include" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --aptopt='Apt::Install-Recommends "false"' \
    --customize-hook='echo skiff-vm > "$1/etc/hostname"' \
    --customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 skiff-vm\n" > "$1/etc/hosts"' \
    --customize-hook='printf "/dev/vda / ext4 rw,relatime 0 1\n" > "$1/etc/fstab"' \
    --customize-hook='chroot "$1" passwd -d root' \
    --customize-hook="install -m 0755 $work/skiff-vm-run \"\$1/usr/local/sbin/skiff-vm-run\"" \
    --customize-hook="install -m 0644 $work/skiff-vm.service \"\$1/etc/systemd/system/skiff-vm.service\"" \
    --customize-hook='chroot "$1" systemctl enable skiff-vm.service' \
    --customize-hook='chroot "$1" systemctl set-default multi-user.target' \
    --customize-hook='for u in docker.service docker.socket containerd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer systemd-timesyncd.service podman-auto-update.timer podman-restart.service podman.socket getty@tty1.service; do chroot "$1" systemctl mask "$u" >/dev/null 2>&1 || true; done' \
    --customize-hook='mkdir -p "$1/etc/systemd/system/serial-getty@ttyS0.service.d" && printf "[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200 %%I \$TERM\n" > "$1/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"' \
    --customize-hook='rm -rf "$1/var/cache/apt/archives"/*.deb "$1/var/lib/apt/lists"/*' \
    bookworm "$root" >&2
t1=$(date +%s)

kver="$(ls "$root/lib/modules" | sort -V | tail -1)"
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
used_mb=$(du -sm "$root" | cut -f1)
# Room for podman/docker images and containers in the guest (qemu -snapshot: writes go to a
# temporary overlay, the file here stays unchanged; the file is sparse).
size_mb=$(( used_mb + 6144 ))
echo "build-image: rootfs ${used_mb} MiB, kernel $kver; mkfs.ext4 -d (${size_mb} MiB sparse)" >&2
mkfs.ext4 -q -F -L skiff-vm -d "$root" "$work/rootfs.ext4" "${size_mb}M" >&2
rm -rf "$root"
t2=$(date +%s)

rm -rf "$dir"
mkdir -p "$dir"
mv "$work/rootfs.ext4" "$work/vmlinuz" "$work/initrd.img" "$dir/"
echo "$kver" > "$dir/kernel-version"
printf 'mmdebstrap %ss, mkfs %ss\n' "$((t1 - t0))" "$((t2 - t1))" > "$dir/build-time"
echo "build-image: done in $((t2 - t0))s (mmdebstrap $((t1 - t0))s, mkfs.ext4 $((t2 - t1))s): $dir" >&2
echo "$dir"
