#!/usr/bin/env bash
# The project's single test command (run as root: the integration tests create
# real containers):
#
#   scripts/test.sh [extra `swift test` arguments, e.g. --filter Kill]
#
# 1. builds the busybox rootfs for spec-fixtures/ (scripts/build-rootfs.sh)
# 2. builds skiff in release mode (swift build -c release)
# 3. runs `swift test` with
#      SKIFF_BIN       absolute path of the release skiff binary
#      SKIFF_FIXTURES  absolute path of spec-fixtures/
#    Set SKIFF_BIN beforehand to test another binary (e.g. SKIFF_BIN=runc, to
#    check the integration tests themselves against runc); a bare name is
#    looked up on PATH.
# Exits non-zero on any failure.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
case ":$PATH:" in *:/opt/swift/usr/bin:*) ;; *) PATH="/opt/swift/usr/bin:$PATH" ;; esac
export PATH

section() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: warning: not root; the integration tests need root and may fail or skip" >&2
fi

section "rootfs"
scripts/build-rootfs.sh

section "swift build -c release"
swift build -c release
release_bin="$(swift build -c release --show-bin-path)/skiff"

if [ -n "${SKIFF_BIN:-}" ]; then
    bin="$SKIFF_BIN"
    [[ "$bin" == */* ]] || bin="$(command -v "$bin")" || { echo "test.sh: SKIFF_BIN=$SKIFF_BIN not found" >&2; exit 1; }
    SKIFF_BIN="$(realpath -m "$bin")"
    echo "test.sh: SKIFF_BIN overridden: $SKIFF_BIN"
else
    SKIFF_BIN="$release_bin"
fi
[ -x "$SKIFF_BIN" ] || { echo "test.sh: $SKIFF_BIN is not an executable" >&2; exit 1; }
SKIFF_FIXTURES="$repo/spec-fixtures"
export SKIFF_BIN SKIFF_FIXTURES

section "swift test (SKIFF_BIN=$SKIFF_BIN SKIFF_FIXTURES=$SKIFF_FIXTURES)"
swift test "$@"
