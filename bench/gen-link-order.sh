#!/usr/bin/env bash
# Regenerates bench/link-order.txt: the functions skiff runs for its common commands, in the
# order they are first used, as the linker's --section-ordering-file (see Package.swift).
# Laying them out together means each invocation faults in far fewer code pages (peak RSS of
# `create` 6.2 → 4.5 MiB when introduced). Re-run it after large changes:
#
#   sudo bench/gen-link-order.sh        # needs valgrind (installed if missing) and root
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="/opt/swift/usr/bin:$PATH"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
scripts/build-rootfs.sh >/dev/null
swift build -c release >/dev/null
work="$(mktemp -d /tmp/skiff-order.XXXXXX)"
trap '"$work/skiff" --root "$work/root" delete -f o1 >/dev/null 2>&1 || true
      "$work/skiff" --root "$work/root" delete -f o2 >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# valgrind cannot read the debug info of the static binary: profile a copy without it.
strip -g -o "$work/skiff" "$(swift build -c release --show-bin-path)/skiff"
mkdir -p "$work/b" "$work/specb"
cp -al spec-fixtures/rootfs "$work/b/rootfs"
# valgrind lowers RLIMIT_NOFILE: a bundle without rlimits.
jq '.process.args = ["/bin/true"] | del(.process.rlimits)' spec-fixtures/baseline/config.json >"$work/b/config.json"
S="$work/skiff"; R="$work/root"
for cmd in "--version" "create -b $work/b o1" "state o1" "start o1" "state o1" "delete o1" \
           "create -b $work/b o2" "kill o2 KILL" "delete -f o2" "list" "list --format json" \
           "features" "spec --bundle $work/specb" "state nosuch"; do
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/run.%p.out" -q $S --root "$R" $cmd \
        >/dev/null 2>&1 || true
    sleep 0.2
done
python3 - "$work" >bench/link-order.txt <<'PY'
import glob, os, re, sys
names, seen = [], set()
for f in sorted(glob.glob(sys.argv[1] + "/run.*.out"), key=os.path.getmtime):
    ids = {}
    for line in open(f, errors="replace"):
        m = re.match(r"^(?:fn|cfn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not m:
            continue
        if m.group(2):
            ids[m.group(1)] = m.group(2)
        name = ids.get(m.group(1))
        if name and name not in seen and not name.startswith("0x"):
            seen.add(name)
            names.append(name)
print("\n".join(".text." + n for n in names))
PY
echo "bench/link-order.txt: $(wc -l <bench/link-order.txt) functions"
# SwiftPM does not track the order file as a link input: make the next build relink.
rm -f "$(swift build -c release --show-bin-path)/skiff"
