#!/usr/bin/env bash
# Scale check (issue "Performance"): create+start N sleeping containers, `list` them, delete
# them all; per-container cost at N against the cost at 10, and nothing left behind.
# Each call is timed separately; the ratio is given for the median (robust to the odd call
# slowed by the kernel's deferred work, e.g. network namespace teardown) and for the mean.
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

# phase COUNT TAG: create+start COUNT containers, list, delete them. Every call is timed on its
# own and appended (µs) to $tmp/TAG.cs and $tmp/TAG.del; the list call to $tmp/TAG.list. A pause
# before the deletes lets the kernel's deferred work from the creates settle (same for both
# sizes), so it is not billed to the first deletes.
phase() {
    local count="$1" tag="$2" i a b
    for i in $(seq "$count"); do
        a=$EPOCHREALTIME
        "$rt" --root "$root" create -b "$tmp/b" "$tag-$i" </dev/null >/dev/null 2>&1
        "$rt" --root "$root" start "$tag-$i"
        b=$EPOCHREALTIME
        echo "$a $b" >>"$tmp/$tag.cs"
    done
    a=$EPOCHREALTIME
    local listed
    listed=$("$rt" --root "$root" list -q | wc -l)
    b=$EPOCHREALTIME
    echo "$a $b" >>"$tmp/$tag.list"
    sleep 2
    for i in $(seq "$count"); do
        a=$EPOCHREALTIME
        "$rt" --root "$root" delete -f "$tag-$i"
        b=$EPOCHREALTIME
        echo "$a $b" >>"$tmp/$tag.del"
    done
    [ "$listed" -eq "$count" ] || { echo "list showed $listed of $count" >&2; exit 1; }
}
# Warm-up (page cache, first-use kernel work), not measured. The cost at 10 is measured three
# times before and three times after the big run (60 calls of each kind), so a drift of the
# machine's speed during the run does not decide the ratio.
phase 3 warm
for r in 1 2 3; do phase 10 small; done
phase "$n" big
for r in 4 5 6; do phase 10 small; done
left=$(find /sys/fs/cgroup -maxdepth 3 -path "*skiff/big-*" -o -maxdepth 3 -path "*skiff/small-*" | wc -l)
python3 - "$tmp" "$n" <<'PY'
import statistics, sys
d, n = sys.argv[1], sys.argv[2]
def times(name):
    return [(float(b) - float(a)) * 1e6 for a, b in (line.split() for line in open(f"{d}/{name}"))]
print("%-34s %10s %10s %8s" % ("per container (µs)", "at 10", "at " + n, "ratio"))
for label, kind in [("create+start", "cs"), ("delete -f", "del")]:
    small, big = times("small." + kind), times("big." + kind)
    for stat in ("median", "mean"):
        f = getattr(statistics, stat)
        print("%-34s %10d %10d %8.2f" % (f"{label}, {stat}", f(small), f(big), f(big) / f(small)))
print("%-34s %10d %10d" % ("list (whole call, µs)", statistics.median(times("small.list")), times("big.list")[0]))
PY
echo "cgroup dirs left: $left; state dirs left: $(find "$root" -mindepth 1 -maxdepth 1 | wc -l)"
