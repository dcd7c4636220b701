#!/usr/bin/env bash
# Regenerates bench/link-order.txt: the functions skiff runs for its common commands, as the
# linker's --symbol-ordering-file (lld, see Package.swift). They are laid out together at the
# start of .text between the markers sk_hot_text_start and sk_hot_text_end, so each invocation
# faults in few, dense code pages; Sources/CSkiffSys/faultaround.c maps everything outside
# that range page by page. Re-run it after large changes:
#
#   sudo bench/gen-link-order.sh          # needs valgrind (installed if missing) and root
#   sudo bench/gen-link-order.sh --guest  # also profile the commands in the test VM (below)
#   sudo bench/gen-link-order.sh --profiles DIR   # also merge guest profiles kept from a
#                                         # --guest run (.build/link-order/guest)
#   SKIFF_SCRATCH=DIR bench/gen-link-order.sh   # build in DIR (swift build --scratch-path)
#
# Order: functions used by more of the profiled commands first, then by first use. Functions
# in input sections larger than 64 KiB are left out: the linker moves whole sections, and the
# standard library's 1.6 MB monolithic .text (libswiftCore.a(Swift.o)) would bury the rest.
# (The link map is written with --no-demangle: callgrind's names are mangled, C++ ones too.)
#
# What callgrind does not show, and is added natively:
# - IFUNC: valgrind's virtual CPU makes glibc pick other string functions (avx2 where this host
#   runs evex/avx512 ones). Each profile set comes with PREFIX.ifunc: the IRELATIVE slots of a
#   create read from /proc/PID/mem natively and under valgrind; the merge substitutes them.
# - Code valgrind never runs natively (glibc setting up the vDSO, which valgrind hides), and
#   whatever else the profiles miss: SKIFF_ORDER_ROUNDS (default 3) rounds of relinking and
#   running the same commands natively under `perf record -e page-faults -d`; functions whose
#   code faulted outside the hot range join the order (skipped without perf).
# - Swift's local helpers without a symbol (.L__unnamed_N, .Lobjectdestroy.N) cannot be named
#   here: bench/link-order.ld (a linker script, INSERT) gathers them ahead of .text.
#
# --guest: on a pure cgroup v2 + systemd host create, start, run and delete take code paths
# this (hybrid cgroup v1) host never runs: the cgroup2 files, clone3 into the cgroup, the
# eBPF device filter. Kernels before 6.7 cannot map code page by page (no
# UFFD_FEATURE_WP_ASYNC), so there every touch of scattered cold code maps a 64 KiB
# fault-around block. --guest runs the same commands under callgrind in the test VM
# (scripts/vm/run.sh; the VM image has no valgrind: the host's valgrind.bin and its callgrind
# tool are copied to .build/link-order/valgrind and run with VALGRIND_LIB, host and guest are
# both Debian 12) and keeps the profiles in .build/link-order/guest. Functions only the guest
# runs are put right BEFORE sk_hot_text_start: contiguous with the hot range for the guest,
# outside it (mapped page by page, and never touched) on this host. Functions both run come
# first in the hot range, then those only this host runs, so the host's hot range holds the
# same functions as without --guest. (In practice the guest adds few: ~35 functions. Most of
# what it mapped on top of this host came from code no profile showed, see above.)
# bench/link-order.txt as committed: `--profiles` with the guest profiles of a --guest run.
#
#   bench/gen-link-order.sh --profile BIN DIR   # internal (what the guest runs): profile BIN
#                                               # into DIR; VALGRIND=path of valgrind
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="/opt/swift/usr/bin:$PATH"

# profile BIN OUTDIR PREFIX: every command below under callgrind, OUTDIR/PREFIX.NN.out.
profile() {
    local bin="$1" out="$2" prefix="$3" pw S R i=0 cmd
    pw="$(mktemp -d /tmp/skiff-prof.XXXXXX)"
    mkdir -p "$pw/b" "$pw/specb" "$out"
    cp "$bin" "$pw/skiff"
    cp -al spec-fixtures/rootfs "$pw/b/rootfs" 2>/dev/null || cp -a spec-fixtures/rootfs "$pw/b/rootfs"
    # valgrind lowers RLIMIT_NOFILE: the bundle sets RLIMIT_CORE instead (same code paths).
    jq '.process.args = ["/bin/true"] | .process.rlimits = [{"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]' \
        spec-fixtures/baseline/config.json >"$pw/b/config.json"
    S="$pw/skiff"; R="$pw/root"
    for cmd in "--version" "create -b $pw/b o1" "state o1" "start o1" "state o1" "delete o1" \
               "create -b $pw/b o2" "kill o2 KILL" "delete -f o2" "list" "list --format json" \
               "features" "spec --bundle $pw/specb" "state nosuch" "run -b $pw/b o3"; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        if [ "${VALGRIND:-}" = none ]; then
            $S --root "$R" $cmd >/dev/null 2>&1 </dev/null || true
        else
            "${VALGRIND:-valgrind}" --tool=callgrind --demangle=no -q \
                --callgrind-out-file="$out/$prefix.$(printf %02d $i).out" \
                $S --root "$R" $cmd >/dev/null 2>&1 </dev/null || true
        fi
        sleep 0.2
    done
    for cmd in o1 o2 o3; do "$S" --root "$R" delete -f "$cmd" >/dev/null 2>&1 || true; done
    [ "${VALGRIND:-}" = none ] || ifuncs "$S" "$out/$prefix.ifunc" "$pw"
    rm -rf "$pw"
}

# ifuncs BIN OUT WORK: the string functions glibc picks for this CPU (IFUNC), which callgrind
# cannot show: valgrind's virtual CPU makes glibc pick the SSE2 ones. Read natively from the
# IRELATIVE slots of a skiff create while its createRuntime hook runs: "resolver variant" lines.
ifuncs() {
    local bin="$1" out="$2" pw="$3"
    mkdir -p "$pw/i"
    cp -a "$pw/b/rootfs" "$pw/i/rootfs" 2>/dev/null || return 0
    jq '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "60"]}]' "$pw/b/config.json" >"$pw/i/config.json"
    python3 - "$bin" "$out" "$pw" "${VALGRIND:-valgrind}" <<'PY' || true
import os, re, struct, subprocess, sys, time
binary, out, pw, valgrind = sys.argv[1:5]
rel = subprocess.run(['readelf', '-rW', binary], capture_output=True, text=True).stdout
slots = [(int(a, 16), int(r, 16)) for a, r in
         re.findall(r'^([0-9a-f]+)\s+[0-9a-f]+\s+R_X86_64_IRELATIVE\s+([0-9a-f]+)', rel, re.M)]
names = {}
for line in subprocess.run(['nm', binary], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3:
        names.setdefault(int(f[0], 16), []).append((f[1], f[2]))

def picks(prefix):
    """The function each IRELATIVE slot holds in a create run as PREFIX + binary."""
    p = subprocess.Popen(prefix + [binary, '--root', pw + '/iroot', 'create', '-b', pw + '/i', 'ifunc'],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline and p.poll() is None:
            kids = open(f'/proc/{p.pid}/task/{p.pid}/children').read().split()
            if any(open(f'/proc/{k}/comm').read().strip() == 'sleep' for k in kids):
                break
            time.sleep(0.005)
        else:
            sys.exit('ifuncs: the createRuntime hook did not start')
        with open(f'/proc/{p.pid}/mem', 'rb') as mem:
            result = []
            for slot, _ in slots:
                mem.seek(slot)
                target = struct.unpack('<Q', mem.read(8))[0]
                var = sorted((n for t, n in names.get(target, []) if t in 'tT'),
                             key=lambda n: (not n.startswith('__'), n))
                result.append(var[0] if var else None)
            return result
    finally:
        for k in kids:
            try:
                os.kill(int(k), 9)
            except OSError:
                pass
        p.kill()
        p.wait()
        subprocess.run([binary, '--root', pw + '/iroot', 'delete', '-f', 'ifunc'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

native = picks([])
emulated = picks([valgrind, '--tool=callgrind', '--callgrind-out-file=/dev/null', '-q'])
with open(out, 'w') as o:
    for n, e in sorted(set(zip(native, emulated))):
        if n and e and n != e:
            print(e, n, file=o)  # what callgrind saw, what runs natively
PY
}

mode=host guest_dir=""
case "${1:-}" in
    --profile) profile "${2:?binary}" "${3:?directory}" guest; exit 0 ;;
    --guest) mode=guest; guest_dir="$repo/.build/link-order/guest" ;;
    --profiles) guest_dir="$(realpath "${2:?directory}")" ;;
    "") ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac

command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
scratch="${SKIFF_SCRATCH:-$repo/.build}"
scripts/build-rootfs.sh >/dev/null
work="$(mktemp -d /tmp/skiff-order.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# The link map gives the input section of every function.
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/skiff"
rm -f "$bin"
swift build -c release --scratch-path "$scratch" -Xlinker "-Map=$work/skiff.map" -Xlinker --no-demangle >/dev/null
# valgrind cannot read the debug info of the static binary: profile a copy without it.
strip -g -o "$work/skiff" "$bin"
profile "$work/skiff" "$work/prof" host

if [ "$mode" = guest ]; then
    stage="$repo/.build/link-order"
    rm -rf "$stage/valgrind" "$guest_dir"
    mkdir -p "$stage/valgrind/lib" "$guest_dir"
    cp "$work/skiff" "$stage/skiff"
    vglib=/usr/libexec/valgrind
    cp "$(dirname "$(realpath "$(command -v valgrind)")")/valgrind.bin" "$stage/valgrind/valgrind" 2>/dev/null \
        || cp /usr/bin/valgrind.bin "$stage/valgrind/valgrind"
    cp "$vglib/callgrind-amd64-linux" "$vglib/vgpreload_core-amd64-linux.so" "$vglib/default.supp" "$stage/valgrind/lib/"
    # On the guest's disk: 9p is slow.
    scripts/vm/run.sh --timeout "${SKIFF_VM_TIMEOUT:-3000}" -- \
        "rm -rf /var/tmp/vg && cp -a '$stage/valgrind' /var/tmp/vg && \
         VALGRIND_LIB=/var/tmp/vg/lib VALGRIND=/var/tmp/vg/valgrind \
         bash bench/gen-link-order.sh --profile '$stage/skiff' '$guest_dir'"
fi
guest_profiles=()
if [ -n "$guest_dir" ]; then
    mapfile -t guest_profiles < <(ls "$guest_dir"/guest.*.out "$guest_dir"/guest.ifunc 2>/dev/null)
    [ "${#guest_profiles[@]}" -gt 1 ] || { echo "gen-link-order: no guest profiles in $guest_dir" >&2; exit 1; }
fi
# order MAP: writes bench/link-order.txt from the profiles (host.*, guest.*, native.*).
order() {
    python3 - "$1" "$work"/prof/host.* "$work"/prof/native.* "${guest_profiles[@]}" >bench/link-order.txt <<'PY'
import collections, os, re, sys
# Input section size of every text symbol (lld's map: input section lines, then their symbols),
# and which symbols share a section (aliases).
size, section, current, sec_id = {}, {}, None, None
for line in open(sys.argv[1]):
    fields = line.split(None, 4)
    if len(fields) < 5:
        continue
    if ':(' in fields[4]:
        m = re.search(r':\((\.text[^)]*)\)', fields[4])
        current = int(fields[2], 16) if m else None
        sec_id = fields[0] + fields[4]
        if m and m.group(1).startswith('.text.'):
            size.setdefault(re.sub(r'^\.text\.(?:(?:unlikely|hot|startup|exit)\.)?', '', m.group(1)), current)
    elif current is not None:
        size[fields[4].strip()] = current
        section[fields[4].strip()] = sec_id
first, used, where = {}, collections.Counter(), collections.defaultdict(set)
profiles = [p for p in sys.argv[2:] if os.path.exists(p)]
# IFUNC: callgrind saw the variant glibc picks on valgrind's CPU; use the one picked natively.
subst = collections.defaultdict(dict)
for profile in profiles:
    if profile.endswith('.ifunc'):
        kind = os.path.basename(profile).split('.')[0]
        for line in open(profile):
            emulated, native = line.split()
            if emulated in section:
                subst[kind][section[emulated]] = native
for profile in profiles:
    if profile.endswith('.ifunc'):
        continue
    kind = os.path.basename(profile).split('.')[0]
    ids, seen = {}, set()
    for line in open(profile, errors='replace'):
        if kind == 'native':  # function names, one a line
            name = line.strip()
        else:
            m = re.match(r'^(?:fn|cfn)=\((\d+)\)(?: (.*))?$', line.rstrip('\n'))
            if not m:
                continue
            if m.group(2):
                ids[m.group(1)] = re.sub(r"'\d+$", '', m.group(2))
            name = ids.get(m.group(1))
            name = subst[kind].get(section.get(name), name)
        if name and name not in seen:
            seen.add(name)
            used[name] += 1
            where[name].add(kind)
            first.setdefault(name, len(first))
names = [n for n in first if 0 < size.get(n, 0) <= 65536]
names.sort(key=lambda n: (-used[n], first[n]))
guests = any(os.path.basename(p).startswith('guest.') for p in profiles)
start = ['_start', '__libc_start_main', '__libc_start_call_main']
def side(n):
    host = bool(where[n] & {'host', 'native'})
    guest = bool(where[n] & {'guest', 'native'}) or not guests
    return host, guest
both = [n for n in names if side(n) == (True, True) and n not in start]
guest_only = [n for n in names if side(n) == (False, True) and n not in start]
host_only = [n for n in names if side(n) == (True, False) and n not in start]
# Start-up code callgrind reports as "(below main)" goes first, right after the marker.
print('\n'.join(guest_only + ['sk_hot_text_start'] + start + both + host_only + ['sk_hot_text_end']))
PY
}
order "$work/skiff.map"
# Functions that run natively but not under callgrind (glibc sets up the vDSO, which valgrind
# hides): page faults on code outside the hot range, sampled with perf in a native run of the
# same commands, over a few rounds of relinking (each round moves code). Skipped without perf.
rounds="${SKIFF_ORDER_ROUNDS:-3}"
if ! command -v perf >/dev/null; then rounds=0; echo "gen-link-order: no perf, no native round" >&2; fi
for round in $(seq 1 "$rounds"); do
    rm -f "$bin"
    swift build -c release --scratch-path "$scratch" -Xlinker "-Map=$work/skiff.map" -Xlinker --no-demangle >/dev/null
    strip -g -o "$work/skiff" "$bin"
    perf record -q -e page-faults -c 1 -d -o "$work/pf.data" -- \
        env VALGRIND=none bash "$0" --profile "$work/skiff" "$work/pfprof" >/dev/null 2>&1 || true
    perf script -i "$work/pf.data" -F comm,ip,addr 2>/dev/null | python3 -c '
import re, sys
syms, lo, hi, text = [], None, None, None
for line in open(sys.argv[1]):
    f = line.split(None, 4)
    if len(f) < 5 or ":(" in f[4]:
        continue
    try:
        a, n = int(f[0], 16), f[4].strip()
    except ValueError:
        continue
    if n == ".text": text = (a, a + int(f[2], 16))
    elif n == "sk_hot_text_start": lo = a & ~4095
    elif n == "sk_hot_text_end": hi = (a + 4096) & ~4095
    elif text and text[0] <= a < text[1] and not n.startswith("."): syms.append((a, n))
syms.sort()
import bisect
addrs = [s[0] for s in syms]
found = set()
for line in sys.stdin:
    f = line.split()
    if len(f) != 3 or f[0] != "skiff": continue
    ip, addr = int(f[1], 16), int(f[2], 16)
    if ip == addr and text[0] <= ip < text[1] and not lo <= ip < hi:
        i = bisect.bisect_right(addrs, ip) - 1
        if i >= 0: found.add(syms[i][1])
print("\n".join(sorted(found)))' "$work/skiff.map" >"$work/prof/native.$round"
    echo "gen-link-order: native round $round: $(wc -l <"$work/prof/native.$round") functions faulted outside the hot range" >&2
    [ -s "$work/prof/native.$round" ] || break
    order "$work/skiff.map"
done
echo "bench/link-order.txt: $(($(wc -l <bench/link-order.txt) - 2)) functions"
# SwiftPM does not track the order file as a link input: make the next build relink.
rm -f "$bin"
