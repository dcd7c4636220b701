#!/usr/bin/env bash
# Builds a Debian package of skiff from this tree with dpkg-deb (no debhelper):
#
#   scripts/package-deb.sh [--binary PATH] [--output DIR]     # prints the .deb's path
#
# Layout (scripts/install.sh --prefix /usr): /usr/bin/skiff (static, stripped), man pages
# (gzipped) in /usr/share/man/man8 and man5, bash/zsh/fish completions, and
# /usr/share/doc/skiff/{README.Debian,copyright}. The package configures no container engine;
# README.Debian shows how. Install it with `apt-get install ./skiff_VERSION_ARCH.deb`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="" output="$repo/.build/deb"
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="${2:?}"; shift 2 ;;
        --output) output="${2:?}"; shift 2 ;;
        -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "package-deb.sh: unknown argument $1" >&2; exit 1 ;;
    esac
done
if [ -z "$binary" ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
    (cd "$repo" && swift build -c release >&2)
    binary="$(cd "$repo" && swift build -c release --show-bin-path)/skiff"
fi

# Version: the release, plus the commit when built from a checkout (0.1.0+git1a2b3c4d5e6f).
release="$("$binary" --version | sed -n 's/^skiff version //p')"
commit="$("$binary" --version | sed -n 's/^commit: //p')"
version="$release"
case "$commit" in unknown|"") ;; *) version="$release+git${commit:0:12}" ;; esac
arch="$(dpkg --print-architecture)"

pkg="$(mktemp -d /tmp/skiff-deb.XXXXXX)"
trap 'rm -rf "$pkg"' EXIT
chmod 755 "$pkg"
"$repo/scripts/install.sh" --prefix /usr --destdir "$pkg" --binary "$binary" >&2
gzip -9n "$pkg"/usr/share/man/man8/*.8 "$pkg"/usr/share/man/man5/*.5

doc="$pkg/usr/share/doc/skiff"
install -d -m 755 "$doc"
cat >"$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: skiff
Comment: See the LICENSE section of README.md in the source tree. The static binary also
 contains the Swift runtime (Apache-2.0 with Runtime Library Exception), glibc (LGPL-2.1+),
 libseccomp (LGPL-2.1) and libcap (BSD-3-Clause or GPL-2).
EOF
cat >"$doc/README.Debian" <<'EOF'
skiff for Debian
================

skiff is an OCI container runtime with runc's command line: /usr/bin/skiff. It keeps its
state under /run/skiff (or the --root the caller gives). `man skiff`, `man skiff-create`, ...,
`man skiff-config`; `skiff COMMAND --help`.

This package configures no container engine. To use skiff:

podman, in /etc/containers/containers.conf (or per command: podman --runtime /usr/bin/skiff):

    [engine]
    runtime = "skiff"
    runtime_supports_json = ["skiff"]
    [engine.runtimes]
    skiff = ["/usr/bin/skiff"]

containerd (CRI), in /etc/containerd/config.toml (or per container: ctr run --runc-binary /usr/bin/skiff):

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.skiff]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.skiff.options]
        BinaryName = "/usr/bin/skiff"

Docker, in /etc/docker/daemon.json, then `docker run --runtime skiff ...`:

    { "runtimes": { "skiff": { "path": "/usr/bin/skiff" } } }

Without systemd use the cgroupfs driver (podman --cgroup-manager=cgroupfs, dockerd
--exec-opt native.cgroupdriver=cgroupfs). `skiff ps` runs ps(1) from procps.
EOF
chmod 644 "$doc"/*

install -d -m 755 "$pkg/DEBIAN"
size="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
cat >"$pkg/DEBIAN/control" <<EOF
Package: skiff
Version: $version
Architecture: $arch
Maintainer: skiff developers <skiff@localhost>
Installed-Size: $size
Recommends: procps
Section: admin
Priority: optional
Description: OCI container runtime with runc's command line
 skiff creates, starts, signals and deletes containers from OCI bundles with
 the command line, state, exit codes and error wording of runc, so that
 containerd, Docker, podman, CRI-O and buildah can use it in runc's place.
 One statically linked binary; libseccomp and libcap are linked in.
EOF
(cd "$pkg" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

mkdir -p "$output"
deb="$output/skiff_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >&2
echo "$deb"
