#!/usr/bin/env bash
# Long config fuzzing campaign (issue #13), on demand:
#
#   scripts/fuzz-campaign.sh [-n CONFIGS] [-s SEED] [-f FIRST] [-b BATCH] [-j JOBS] [-k]
#
# Mutated configs come from the seeded mutator of Tests/SkiffSpecTests/FuzzTests.swift
# (the same one `swift test` runs in CI with 3000 configs), which also checks decode +
# validate in process for each (no trap, every error names a JSON path, round trip). Every
# config then goes through the built `skiff check` out of process, in a bundle with a real
# rootfs: the exit status must be 0 or 1 (no signal, i.e. no Swift trap), within 10 s, with
# no raw control character (ESC, newline inside a line) in what it prints.
#
# A failing config is kept as a fixture: spec-fixtures/fuzz/s<SEED>-i<ITERATION>/config.json
# plus `why` (seed, iteration, what failed, the output's start); the fuzz test then uses it
# as a seed config too. The configs themselves are deleted batch by batch (some hold 300 kB
# strings). Needs the release build (swift build -c release) and the rootfs
# (scripts/build-rootfs.sh); SKIFF_BIN overrides the binary. -f starts at that iteration
# (to resume a campaign), -j runs that many `skiff check` at once (default 1), -k keeps
# going after a failing in-process batch.
set -uo pipefail
export PATH=/opt/swift/usr/bin:$PATH
# SKIFF_FUZZ_SCRATCH: a separate build directory for the tests (swift --scratch-path).
scratch=()
[ -n "${SKIFF_FUZZ_SCRATCH:-}" ] && scratch=(--scratch-path "$SKIFF_FUZZ_SCRATCH")
cd "$(dirname "$0")/.."
repo=$PWD
n=20000 seed=1 batch=2000 keep_going=0 from=0 jobs=1
while getopts "n:s:f:b:j:k" opt; do
    case $opt in
        n) n=$OPTARG ;; s) seed=$OPTARG ;; f) from=$OPTARG ;; b) batch=$OPTARG ;; j) jobs=$OPTARG ;; k) keep_going=1 ;;
        *) echo "usage: $0 [-n CONFIGS] [-s SEED] [-f FIRST] [-b BATCH] [-j JOBS] [-k]" >&2; exit 2 ;;
    esac
done
skiff=${SKIFF_BIN:-$repo/.build/release/skiff}
[ -x "$skiff" ] || { echo "fuzz-campaign: no $skiff (swift build -c release)" >&2; exit 2; }
[ -d spec-fixtures/rootfs/bin ] || { echo "fuzz-campaign: no rootfs (scripts/build-rootfs.sh)" >&2; exit 2; }

work=$(mktemp -d /tmp/skiff-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/configs"
for ((j = 0; j < jobs; j++)); do
    mkdir -p "$work/bundle$j"
    cp -al spec-fixtures/rootfs "$work/bundle$j/rootfs" 2>/dev/null || cp -a spec-fixtures/rootfs "$work/bundle$j/rootfs"
done
swift build --build-tests "${scratch[@]}" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 2; }

start=$(date +%s)
configs=0 valid=0 refused=0 failures=0 crashes=0 hangs=0 inproc_fail=0
keep() {  # keep ITERATION WHY OUTPUT
    local dir=spec-fixtures/fuzz/s$seed-i$1
    mkdir -p "$dir"
    cp "$work/configs/$(printf %06d "$1").json" "$dir/config.json"
    { echo "seed: $seed"; echo "iteration: $1"; echo "failure: $2"; echo "output:"; head -c 2000 "$3"; echo; } >"$dir/why"
    echo "fuzz-campaign: FAIL s$seed-i$1: $2 (kept in $dir)"
}
# One worker: every JOBS-th config of the slice through `skiff check` in its own bundle;
# prints "valid refused failures crashes hangs" at the end.
worker() {  # worker J
    local bundle=$work/bundle$1 out=$work/out$1 k=0 t=0 v=0 r=0 f=0 c=0 h=0 file i status
    for file in "$work"/configs/*.json; do
        [ -e "$file" ] || continue
        k=$((k + 1)); [ $(( (k - 1) % jobs )) -eq "$1" ] || continue
        i=$((10#$(basename "$file" .json))) t=$((t + 1))
        cp "$file" "$bundle/config.json"
        timeout -s KILL 10 "$skiff" check --bundle "$bundle" >"$out" 2>&1
        status=$?
        case $status in
            0) v=$((v + 1)) ;;
            1) r=$((r + 1)) ;;
            137) h=$((h + 1)); f=$((f + 1)); keep "$i" "no exit within 10 s" "$out"; continue ;;
            *) if [ $status -gt 128 ]; then c=$((c + 1)); fi
               f=$((f + 1)); keep "$i" "exit status $status" "$out"; continue ;;
        esac
        # Every line of output is one line: no ESC or other raw control character.
        if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$out"; then
            f=$((f + 1)); keep "$i" "raw control character in the output" "$out"
        fi
    done
    echo "$t $v $r $f $c $h" >"$work/counts$1"
}
for ((first = from; first < from + n; first += batch)); do
    count=$(( from + n - first < batch ? from + n - first : batch ))
    rm -f "$work"/configs/*.json
    # In process: decode + validate of every config of the slice (a trap shows as a signal).
    SKIFF_FUZZ_SEED=$seed SKIFF_FUZZ_FIRST=$first SKIFF_FUZZ_ITERATIONS=$count SKIFF_FUZZ_EMIT_DIR=$work/configs \
        swift test --skip-build "${scratch[@]}" --filter 'FuzzTests/mutatedConfigs' >"$work/test.log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        inproc_fail=$((inproc_fail + 1))
        echo "fuzz-campaign: in-process fuzz test failed (status $status) for iterations $first..$((first + count - 1)):"
        grep -E "✘|SKIFF_FUZZ_SEED|Fatal|signal" "$work/test.log" | head -20
        [ $keep_going = 1 ] || exit 1
    fi
    # Out of process: the built binary.
    for ((j = 0; j < jobs; j++)); do worker "$j" & done
    wait
    for ((j = 0; j < jobs; j++)); do
        read -r t v r f c h <"$work/counts$j"
        configs=$((configs + t)) valid=$((valid + v)) refused=$((refused + r))
        failures=$((failures + f)) crashes=$((crashes + c)) hangs=$((hangs + h))
    done
    echo "fuzz-campaign: $configs/$n configs checked ($valid valid, $refused refused, $failures failures) $(( $(date +%s) - start )) s"
done
elapsed=$(( $(date +%s) - start ))
echo "fuzz-campaign: seed $seed, iterations $from..$((from + n - 1)): $configs configs through skiff check in $elapsed s: $valid valid, $refused refused," \
     "$failures failures ($crashes crashes, $hangs hangs), $inproc_fail failing in-process slices"
[ $failures -eq 0 ] && [ $inproc_fail -eq 0 ]
