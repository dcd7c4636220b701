#!/usr/bin/env bash
# Long config fuzzing campaign (issue #13), on demand:
#
#   scripts/fuzz-campaign.sh [-n CONFIGS] [-s SEED] [-b BATCH] [-k]
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
# (scripts/build-rootfs.sh); SKIFF_BIN overrides the binary. -k keeps going after a failing
# in-process batch.
set -uo pipefail
export PATH=/opt/swift/usr/bin:$PATH
cd "$(dirname "$0")/.."
repo=$PWD
n=20000 seed=1 batch=2000 keep_going=0
while getopts "n:s:b:k" opt; do
    case $opt in
        n) n=$OPTARG ;; s) seed=$OPTARG ;; b) batch=$OPTARG ;; k) keep_going=1 ;;
        *) echo "usage: $0 [-n CONFIGS] [-s SEED] [-b BATCH] [-k]" >&2; exit 2 ;;
    esac
done
skiff=${SKIFF_BIN:-$repo/.build/release/skiff}
[ -x "$skiff" ] || { echo "fuzz-campaign: no $skiff (swift build -c release)" >&2; exit 2; }
[ -d spec-fixtures/rootfs/bin ] || { echo "fuzz-campaign: no rootfs (scripts/build-rootfs.sh)" >&2; exit 2; }

work=$(mktemp -d /tmp/skiff-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
bundle=$work/bundle
mkdir -p "$bundle" "$work/configs"
cp -al spec-fixtures/rootfs "$bundle/rootfs" 2>/dev/null || cp -a spec-fixtures/rootfs "$bundle/rootfs"
swift build --build-tests >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 2; }

start=$(date +%s)
configs=0 valid=0 refused=0 failures=0 crashes=0 hangs=0 inproc_fail=0
keep() {  # keep ITERATION WHY OUTPUT
    local dir=spec-fixtures/fuzz/s$seed-i$1
    mkdir -p "$dir"
    cp "$work/configs/$(printf %06d "$1").json" "$dir/config.json"
    { echo "seed: $seed"; echo "iteration: $1"; echo "failure: $2"; echo "output:"; head -c 2000 "$3"; echo; } >"$dir/why"
    echo "fuzz-campaign: FAIL s$seed-i$1: $2 (kept in $dir)"
}
for ((first = 0; first < n; first += batch)); do
    count=$(( n - first < batch ? n - first : batch ))
    rm -f "$work"/configs/*.json
    # In process: decode + validate of every config of the slice (a trap shows as a signal).
    SKIFF_FUZZ_SEED=$seed SKIFF_FUZZ_FIRST=$first SKIFF_FUZZ_ITERATIONS=$count SKIFF_FUZZ_EMIT_DIR=$work/configs \
        swift test --skip-build --filter 'FuzzTests/mutatedConfigs' >"$work/test.log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        inproc_fail=$((inproc_fail + 1))
        echo "fuzz-campaign: in-process fuzz test failed (status $status) for iterations $first..$((first + count - 1)):"
        grep -E "✘|SKIFF_FUZZ_SEED|Fatal|signal" "$work/test.log" | head -20
        [ $keep_going = 1 ] || exit 1
    fi
    # Out of process: the built binary.
    for f in "$work"/configs/*.json; do
        [ -e "$f" ] || continue
        i=$((10#$(basename "$f" .json)))
        cp "$f" "$bundle/config.json"
        timeout -s KILL 10 "$skiff" check --bundle "$bundle" >"$work/out" 2>&1
        status=$?
        configs=$((configs + 1))
        case $status in
            0) valid=$((valid + 1)) ;;
            1) refused=$((refused + 1)) ;;
            137) hangs=$((hangs + 1)); failures=$((failures + 1)); keep "$i" "no exit within 10 s" "$work/out"; continue ;;
            *) if [ $status -gt 128 ]; then crashes=$((crashes + 1)); fi
               failures=$((failures + 1)); keep "$i" "exit status $status" "$work/out"; continue ;;
        esac
        # Every line of output is one line: no ESC or other raw control character.
        if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$work/out"; then
            failures=$((failures + 1)); keep "$i" "raw control character in the output" "$work/out"
        fi
    done
    echo "fuzz-campaign: $configs/$n configs checked ($valid valid, $refused refused, $failures failures) $(( $(date +%s) - start )) s"
done
elapsed=$(( $(date +%s) - start ))
echo "fuzz-campaign: seed $seed: $configs configs through skiff check in $elapsed s: $valid valid, $refused refused," \
     "$failures failures ($crashes crashes, $hangs hangs), $inproc_fail failing in-process slices"
[ $failures -eq 0 ] && [ $inproc_fail -eq 0 ]
