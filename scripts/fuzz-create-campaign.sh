#!/usr/bin/env bash
# A long create fuzz campaign, on demand (run as root):
#
#   scripts/fuzz-create-campaign.sh [COUNT [SEED]]      default: 2000 cases from seed 1
#
# Runs the integration fuzz target (Integration/CreateFuzz, Tests/SkiffIntegrationTests/
# CreateFuzzTests.swift) with SKIFF_CREATE_FUZZ_ITERATIONS=COUNT and SKIFF_CREATE_FUZZ_SEED=SEED:
# COUNT mutated sleep bundles through `skiff create` + `skiff delete -f`, each checked for exit
# status 0/1, no signal, a deadline, and nothing left behind (state dir, cgroups, mounts,
# processes). CI runs the same target with 300 cases (under a minute here).
#
# Every failing case is kept as a fixture, spec-fixtures/fuzz-create/<seed>/config.json with
# reason.txt (what was mutated, what went wrong), which the suite then replays on every run
# (savedFailingCasesStayFixed) until it passes: commit the fixture with the fix.
# Prints the campaign's figures (cases, created, rejected, failures, time).
set -euo pipefail

count="${1:-2000}"
seed="${2:-1}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
case ":$PATH:" in *:/opt/swift/usr/bin:*) ;; *) PATH="/opt/swift/usr/bin:$PATH" ;; esac
export PATH

keep="$(mktemp -d /tmp/skiff-fuzz-create-XXXXXX)"
trap 'rm -rf "$keep"' EXIT

scripts/build-rootfs.sh >/dev/null
swift build -c release >/dev/null
: "${SKIFF_BIN:=$(swift build -c release --show-bin-path)/skiff}"
export SKIFF_BIN SKIFF_FIXTURES="$repo/spec-fixtures"
export SKIFF_CREATE_FUZZ_ITERATIONS="$count" SKIFF_CREATE_FUZZ_SEED="$seed" SKIFF_CREATE_FUZZ_KEEP="$keep"

start=$(date +%s)
status=0
swift test --filter 'CreateFuzz/mutatedBundlesThroughCreateAndDeleteForce' 2>&1 | tee "$keep/log" \
    | grep -E 'create fuzz:|failing cases|seed [0-9]+:|passed|failed' || true
grep -q 'create fuzz:' "$keep/log" || { echo "fuzz-create-campaign: the test did not run (see the swift test output above)" >&2; status=2; }
end=$(date +%s)

found=0
for dir in "$keep"/*/; do
    [ -f "$dir/config.json" ] || continue
    name="$(basename "$dir")"
    mkdir -p spec-fixtures/fuzz-create/"$name"
    cp "$dir/config.json" "$dir/reason.txt" spec-fixtures/fuzz-create/"$name"/
    found=$((found + 1))
done
echo "fuzz-create-campaign: $count cases from seed $seed in $((end - start)) s; $found failing case(s) kept under spec-fixtures/fuzz-create/"
[ "$found" -eq 0 ] && [ "$status" -eq 0 ]
