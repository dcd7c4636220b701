#!/usr/bin/env bash
# First command to run on a fresh Debian 12 machine (as root):
#
#   sudo scripts/setup-and-demo.sh
#
# Installs the build/test dependencies (scripts/install-deps.sh), builds skiff
# in release mode, builds the busybox rootfs, then runs the demo container
# (spec-fixtures/demo) with `skiff run` from a temporary copy of the bundle and
# a temporary --root: it prints its hostname, `ps` (its shell is pid 1) and its
# mounts. Everything temporary is removed afterwards.
#
# Env: SKIFF_BIN=PATH|NAME runs the demo with another binary (e.g. SKIFF_BIN=runc)
#      and skips the swift build. SKIP_DEPS=1 skips the package install.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
case ":$PATH:" in *:/opt/swift/usr/bin:*) ;; *) PATH="/opt/swift/usr/bin:$PATH" ;; esac
export PATH

section() { printf '\n==> %s\n' "$*"; }

[ "$(id -u)" -eq 0 ] || { echo "setup-and-demo: must run as root (try: sudo $0)" >&2; exit 1; }

if [ "${SKIP_DEPS:-0}" != 1 ]; then
    section "installing dependencies"
    scripts/install-deps.sh
fi

if [ -n "${SKIFF_BIN:-}" ]; then
    skiff="$SKIFF_BIN"
    [[ "$skiff" == */* ]] || skiff="$(command -v "$skiff")" || { echo "setup-and-demo: SKIFF_BIN=$SKIFF_BIN not found" >&2; exit 1; }
    section "using SKIFF_BIN=$skiff (no build)"
else
    section "building skiff (swift build -c release)"
    swift build -c release
    skiff="$(swift build -c release --show-bin-path)/skiff"
    echo "built $skiff"
fi

section "building the busybox rootfs"
scripts/build-rootfs.sh

tmp="$(mktemp -d /tmp/skiff-demo.XXXXXX)"
id="skiff-demo-$$"
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    "$skiff" --root "$tmp/state" delete --force "$id" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/bundle" "$tmp/state"
cp spec-fixtures/demo/config.json "$tmp/bundle/"
cp -al spec-fixtures/rootfs "$tmp/bundle/rootfs" 2>/dev/null || cp -a spec-fixtures/rootfs "$tmp/bundle/rootfs"

section "demo: $(basename "$skiff") --root $tmp/state run --bundle $tmp/bundle $id"
status=0
"$skiff" --root "$tmp/state" run --bundle "$tmp/bundle" "$id" </dev/null || status=$?
echo
echo "container exited with status $status"

section "after run: list (the container was removed by run)"
"$skiff" --root "$tmp/state" list

exit "$status"
