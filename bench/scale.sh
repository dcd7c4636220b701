#!/usr/bin/env bash
# Scale check (issue "Performance"): create+start N sleeping containers, `list` them, delete
# them all; per-container cost at N against the cost at 10, and nothing left behind.
#
#   sudo bench/scale.sh [-n 500] [-r RUNTIME]      # RUNTIME: skiff (default) or a path, e.g. runc
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n=500
rt=""
while [ $# -gt 0 ]; do
    case "$1" in
        -n) n="$2"; shift 2 ;;
        -r) rt="$2"; shift 2 ;;
        *) echo "usage: $0 [-n N] [-r RUNTIME]" >&2; exit 2 ;;
    esac
done
export PATH="/opt/swift/usr/bin:$PATH"
if [ -z "$rt" ]; then
    (cd "$repo" && swift build -c release >/dev/null)
    rt="$(cd "$repo" && swift build -c release --show-bin-path)/skiff"
fi
"$repo/scripts/build-rootfs.sh" >/dev/null
tmp="$(mktemp -d /tmp/skiff-scale.XXXXXX)"
root="$tmp/root"
cleanup() {
    for id in $("$rt" --root "$root" list -q 2>/dev/null); do "$rt" --root "$root" delete -f "$id" >/dev/null 2>&1 || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/b"
cp -al "$repo/spec-fixtures/rootfs" "$tmp/b/rootfs"
jq '.process.args = ["sleep", "3600"]' "$repo/spec-fixtures/baseline/config.json" >"$tmp/b/config.json"

now() { echo "${EPOCHREALTIME/./}"; }   # µs
# phase COUNT: create+start COUNT containers, list, delete them; prints µs per container.
phase() {
    local count="$1" tag="$2" t0 t1 t2 t3 i
    t0=$(now)
    for i in $(seq "$count"); do
        "$rt" --root "$root" create -b "$tmp/b" "$tag-$i" </dev/null >/dev/null 2>&1
        "$rt" --root "$root" start "$tag-$i"
    done
    t1=$(now)
    local listed
    listed=$("$rt" --root "$root" list -q | wc -l)
    t2=$(now)
    for i in $(seq "$count"); do "$rt" --root "$root" delete -f "$tag-$i"; done
    t3=$(now)
    [ "$listed" -eq "$count" ] || { echo "list showed $listed of $count" >&2; exit 1; }
    echo "$(( (t1 - t0) / count )) $(( t2 - t1 )) $(( (t3 - t2) / count ))"
}
read -r c10 l10 d10 < <(phase 10 small)
read -r cn ln dn < <(phase "$n" big)
left=$(find /sys/fs/cgroup -maxdepth 3 -path "*skiff/big-*" -o -maxdepth 3 -path "*skiff/small-*" | wc -l)
printf '%-34s %10s %10s %8s\n' "per container (µs)" "at 10" "at $n" "ratio"
printf '%-34s %10d %10d %8s\n' "create+start" "$c10" "$cn" "$(awk "BEGIN{printf \"%.2f\", $cn/$c10}")"
printf '%-34s %10d %10d %8s\n' "delete -f" "$d10" "$dn" "$(awk "BEGIN{printf \"%.2f\", $dn/$d10}")"
printf '%-34s %10d %10d\n' "list (whole call, µs)" "$l10" "$ln"
echo "cgroup dirs left: $left; state dirs left: $(find "$root" -mindepth 1 -maxdepth 1 | wc -l)"
