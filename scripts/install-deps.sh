#!/usr/bin/env bash
# Install the Debian 12 packages skiff needs to build and test (run as root).
#   libseccomp-dev, libcap-dev, pkg-config  build: CSeccomp/CCap link statically
#   busybox-static                          test rootfs (scripts/build-rootfs.sh)
#   runc, jq, time                          integration tests, bench/bench.sh
#   podman buildah containerd docker.io     engine tests (Tests/SkiffEngineTests)
#   catatonit netavark                      (podman --init, networks without recommends)
#   uidmap                                  newuidmap/newgidmap: rootless multi-range id maps
#   man-db groff-base zsh fish              CLI docs tests: man -l, groff -ww, completion syntax
#   dbus                                    dbus-daemon: a real peer for the D-Bus client tests
# The Swift toolchain is expected at /opt/swift (or on PATH).
# Env: SKIP_APT_UPDATE=1 skips `apt-get update` when every package is present.
set -euo pipefail

DEPS=(libseccomp-dev libcap-dev pkg-config busybox-static runc jq time
      podman buildah containerd docker.io catatonit netavark uidmap
      man-db groff-base zsh fish dbus)

[ "$(id -u)" -eq 0 ] || { echo "install-deps: must run as root (try: sudo $0)" >&2; exit 1; }

missing=()
for p in "${DEPS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -eq 0 ] && [ "${SKIP_APT_UPDATE:-0}" = 1 ]; then
    echo "install-deps: all present: ${DEPS[*]}"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${DEPS[@]}"
