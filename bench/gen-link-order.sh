#!/usr/bin/env bash
# Regenerates bench/link-order.txt: the functions skiff runs for its common commands, as the
# linker's --symbol-ordering-file (lld, see Package.swift). They are laid out together at the
# start of .text between the markers sk_hot_text_start and sk_hot_text_end, so each invocation
# faults in few, dense code pages; Sources/CSkiffSys/faultaround.c maps everything outside
# that range page by page. Re-run it after large changes:
#
#   sudo bench/gen-link-order.sh          # needs valgrind (installed if missing) and root
#   SKIFF_SCRATCH=DIR bench/gen-link-order.sh   # build in DIR (swift build --scratch-path)
#
# Order: functions used by more of the profiled commands first, then by first use. Functions
# in input sections larger than 64 KiB are left out: the linker moves whole sections, and the
# standard library's 1.6 MB monolithic .text (libswiftCore.a(Swift.o)) would bury the rest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="/opt/swift/usr/bin:$PATH"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
scratch="${SKIFF_SCRATCH:-$repo/.build}"
scripts/build-rootfs.sh >/dev/null
work="$(mktemp -d /tmp/skiff-order.XXXXXX)"
trap '"$work/skiff" --root "$work/root" delete -f o1 >/dev/null 2>&1 || true
      "$work/skiff" --root "$work/root" delete -f o2 >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# The link map gives the input section of every function.
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/skiff"
rm -f "$bin"
swift build -c release --scratch-path "$scratch" -Xlinker "-Map=$work/skiff.map" >/dev/null
# valgrind cannot read the debug info of the static binary: profile a copy without it.
strip -g -o "$work/skiff" "$bin"
mkdir -p "$work/b" "$work/specb" "$work/prof"
cp -al spec-fixtures/rootfs "$work/b/rootfs"
# valgrind lowers RLIMIT_NOFILE: a bundle without rlimits.
jq '.process.args = ["/bin/true"] | del(.process.rlimits)' spec-fixtures/baseline/config.json >"$work/b/config.json"
S="$work/skiff"; R="$work/root"; i=0
for cmd in "--version" "create -b $work/b o1" "state o1" "start o1" "state o1" "delete o1" \
           "create -b $work/b o2" "kill o2 KILL" "delete -f o2" "list" "list --format json" \
           "features" "spec --bundle $work/specb" "state nosuch"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/prof/run.$(printf %02d $i).out" -q \
        $S --root "$R" $cmd >/dev/null 2>&1 </dev/null || true
    sleep 0.2
done
python3 - "$work/skiff.map" "$work"/prof/run.*.out >bench/link-order.txt <<'PY'
import collections, re, sys
# Input section size of every text symbol (lld's map: input section lines, then their symbols).
size, current = {}, None
for line in open(sys.argv[1]):
    fields = line.split(None, 4)
    if len(fields) < 5:
        continue
    if ':(' in fields[4]:
        m = re.search(r':\((\.text[^)]*)\)', fields[4])
        current = int(fields[2], 16) if m else None
        if m and m.group(1).startswith('.text.'):
            size.setdefault(m.group(1)[6:], current)
    elif current is not None:
        size[fields[4].strip()] = current
first, used = {}, collections.Counter()
for profile in sys.argv[2:]:
    ids, seen = {}, set()
    for line in open(profile, errors='replace'):
        m = re.match(r'^(?:fn|cfn)=\((\d+)\)(?: (.*))?$', line.rstrip('\n'))
        if not m:
            continue
        if m.group(2):
            ids[m.group(1)] = re.sub(r"'\d+$", '', m.group(2))
        name = ids.get(m.group(1))
        if name and name not in seen:
            seen.add(name)
            used[name] += 1
            first.setdefault(name, len(first))
names = [n for n in first if 0 < size.get(n, 0) <= 65536]
names.sort(key=lambda n: (-used[n], first[n]))
# Start-up code callgrind reports as "(below main)" goes first, right after the marker.
print('\n'.join(['sk_hot_text_start', '_start', '__libc_start_main', '__libc_start_call_main'] + names + ['sk_hot_text_end']))
PY
echo "bench/link-order.txt: $(($(wc -l <bench/link-order.txt) - 2)) functions"
# SwiftPM does not track the order file as a link input: make the next build relink.
rm -f "$bin"
