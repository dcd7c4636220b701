#!/usr/bin/env bash
# Benchmark skiff against runc (and crun, when installed) on this host.
#
#   sudo bench/bench.sh [-n N] [-r R] [--no-crun] [--csv FILE]
#
#   -n N        timed iterations per runtime (default 50)
#   -r R        extra iterations run under /usr/bin/time for peak RSS (default 3)
#   --no-crun   leave crun out even if it is installed
#   --csv FILE  also write every timing sample as runtime,operation,microseconds
#
# Env: SKIFF_BIN (default .build/release/skiff; e.g. SKIFF_BIN=runc to try the
#      script before skiff exists), RUNC_BIN (default runc), CRUN_BIN (default crun).
#
# Each iteration runs, for every runtime in turn (the order rotates each
# iteration, so no runtime always goes first), with its own temporary --root
# and unique container ids:
#   cycle   create + start + wait + delete of a /bin/true container (bundle:
#           spec-fixtures/baseline with args ["/bin/true"]); `wait` polls
#           `state` with no sleep until the status is "stopped". The parts are
#           reported too, plus one `state` of the stopped container.
#   run     `run` of the same /bin/true container, end to end (run removes it).
#   kill    `kill <id> KILL` of a started `sleep 3600` container
#           (spec-fixtures/sleep); then it is waited for and deleted, untimed.
# Times are medians of wall-clock time around each runtime invocation.
# Peak RSS is the largest %M (KiB, from /usr/bin/time; it covers the process
# and the children it waited for, e.g. `runc init`) over the -r iterations.
#
# crun 1.8.1 refuses hybrid cgroup hosts (cgroup v1 plus a cgroup2 mount with
# controllers at /sys/fs/cgroup/unified). On such a host every crun call runs as
#   unshare -m sh -c 'mount --bind EMPTY /sys/fs/cgroup/unified/cgroup.controllers && exec crun ...'
# i.e. in a private mount namespace where the cgroup2 mount shows no
# controllers. The wrapper's own cost (median of wrapped minus plain
# `crun --version`) is subtracted from every crun sample. crun failures never
# fail the benchmark; its column then reads n/a.
#
# Everything the script creates (state dirs, containers, bundles) is removed on
# exit, including on Ctrl-C.
set -euo pipefail

N=50
R=3
use_crun=1
csv_out=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        -n) N="${2:?-n needs a number}"; shift 2 ;;
        -n*) N="${1#-n}"; shift ;;
        -r) R="${2:?-r needs a number}"; shift 2 ;;
        --no-crun) use_crun=0; shift ;;
        --csv) csv_out="${2:?--csv needs a file}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "bench: -n must be a positive integer" >&2; exit 2; }
[[ "$R" =~ ^[0-9]+$ ]] || { echo "bench: -r must be a non-negative integer" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench: must run as root" >&2; exit 1; }
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench: needs bash >= 5 (EPOCHREALTIME)" >&2; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

resolve() { # NAME-OR-PATH -> absolute path, or empty
    local b="$1"
    if [[ "$b" == */* ]]; then
        if [ -x "$b" ]; then realpath "$b"; fi
    else
        command -v "$b" || true
    fi
}

SKIFF="$(resolve "${SKIFF_BIN:-$repo/.build/release/skiff}")"
[ -n "$SKIFF" ] || { echo "bench: skiff binary not found: build it (swift build -c release) or set SKIFF_BIN" >&2; exit 1; }
RUNC="$(resolve "${RUNC_BIN:-runc}")"
[ -n "$RUNC" ] || { echo "bench: runc not found (apt-get install runc)" >&2; exit 1; }
CRUN=""
if [ "$use_crun" = 1 ]; then
    CRUN="$(resolve "${CRUN_BIN:-crun}")"
    [ -n "$CRUN" ] || { echo "bench: crun not installed; leaving it out"; use_crun=0; }
fi
TIME_BIN=/usr/bin/time
[ -x "$TIME_BIN" ] || { echo "bench: /usr/bin/time missing (apt-get install time); skipping RSS" >&2; R=0; }

"$repo/scripts/build-rootfs.sh" >/dev/null

# ---------------------------------------------------------------- workspace
tmp="$(mktemp -d /tmp/skiff-bench.XXXXXX)"
runtimes=(skiff runc)
[ "$use_crun" = 1 ] && runtimes+=(crun)

# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    trap - EXIT INT TERM
    set +e
    local rt dir
    for rt in "${runtimes[@]}"; do
        for dir in "$tmp/state-$rt"/*/; do
            [ -d "$dir" ] || continue
            rt_cmd "$rt" delete --force "$(basename "$dir")" </dev/null >/dev/null 2>&1
        done
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
# fd 9: the real stderr, for the trap message (a trap can fire while a
# function's stderr is redirected to $tmp/err). Closed for the runtimes.
exec 9>&2
trap 'echo >&9; echo "bench: interrupted, cleaning up" >&9; exit 130' INT TERM

mkdir -p "$tmp/true" "$tmp/sleep"
for rt in "${runtimes[@]}"; do mkdir -p "$tmp/state-$rt"; done
jq '.process.args = ["/bin/true"]' "$repo/spec-fixtures/baseline/config.json" >"$tmp/true/config.json"
cp "$repo/spec-fixtures/sleep/config.json" "$tmp/sleep/config.json"
for b in true sleep; do
    cp -al "$repo/spec-fixtures/rootfs" "$tmp/$b/rootfs" 2>/dev/null || cp -a "$repo/spec-fixtures/rootfs" "$tmp/$b/rootfs"
done
: >"$tmp/empty"
: >"$tmp/samples"
: >"$tmp/rss-samples"

crun_wrap=0
# (cgroupfs files report size 0, so read the file rather than test -s.)
if [ "$use_crun" = 1 ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    crun_wrap=1
fi

# rt_cmd RUNTIME ARGS...: run one runtime invocation with its --root, behind
# the words in RT_PREFIX (used for /usr/bin/time).
RT_PREFIX=()
rt_cmd() {
    local rt="$1"; shift
    case "$rt" in
        skiff) "${RT_PREFIX[@]}" "$SKIFF" --root "$tmp/state-skiff" "$@" 9>&- ;;
        runc) "${RT_PREFIX[@]}" "$RUNC" --root "$tmp/state-runc" "$@" 9>&- ;;
        crun)
            if [ "$crun_wrap" = 1 ]; then
                # shellcheck disable=SC2016  # $0/$@ belong to the inner sh
                "${RT_PREFIX[@]}" unshare -m sh -c 'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && exec "$@"' \
                    "$tmp/empty" "$CRUN" --root "$tmp/state-crun" "$@" 9>&-
            else
                "${RT_PREFIX[@]}" "$CRUN" --root "$tmp/state-crun" "$@" 9>&-
            fi ;;
    esac
}

now_us() { local t="$EPOCHREALTIME"; echo $(( ${t%.*} * 1000000 + 10#${t#*.} )); }

declare -A overhead=([skiff]=0 [runc]=0 [crun]=0)
declare -A failed=()

# timed RUNTIME ARGS...: run it (stdout -> $tmp/out, stderr -> $tmp/err), set
# T_US to its wall time in µs minus the runtime's wrapper overhead. Returns the
# command's status.
T_US=0
timed() {
    local rt="$1"; shift
    local t0 t1 rc=0
    t0="$EPOCHREALTIME"
    rt_cmd "$rt" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
    t1="$EPOCHREALTIME"
    T_US=$(( (${t1%.*} - ${t0%.*}) * 1000000 + 10#${t1#*.} - 10#${t0#*.} - ${overhead[$rt]} ))
    [ "$T_US" -ge 0 ] || T_US=0
    return "$rc"
}

sample() { echo "$1,$2,$3" >>"$tmp/samples"; }

fail() { # RUNTIME WHAT: mark the runtime failed, show why once
    local rt="$1"
    if [ -z "${failed[$rt]:-}" ]; then
        failed[$rt]="$2"
        echo "bench: $rt: $2 failed:" >&2
        sed 's/^/    /' "$tmp/err" >&2
        [ "$rt" = crun ] && echo "bench: crun failures are not fatal; its column will read n/a" >&2
    fi
    return 1
}

# wait_stopped RUNTIME ID: poll `state` until "stopped"; T_US = total time.
wait_stopped() {
    local rt="$1" id="$2" total=0 polls=0
    while :; do
        timed "$rt" state "$id" || { T_US=$total; return 1; }
        total=$(( total + T_US ))
        polls=$(( polls + 1 ))
        [[ "$(<"$tmp/out")" =~ \"status\":\ *\"stopped\" ]] && break
        [ "$polls" -lt 5000 ] || { echo "still not stopped after $polls polls" >"$tmp/err"; T_US=$total; return 1; }
    done
    T_US=$total
}

# One iteration of every measurement for one runtime. $1 runtime, $2 tag.
iteration() {
    local rt="$1" tag="$2" id c s w st d
    id="b$$-$rt-$tag-cycle"
    timed "$rt" create --bundle "$tmp/true" "$id" || fail "$rt" create || return 1; c=$T_US
    timed "$rt" start "$id" || fail "$rt" start || return 1; s=$T_US
    wait_stopped "$rt" "$id" || fail "$rt" "state (wait for stopped)" || return 1; w=$T_US
    timed "$rt" state "$id" || fail "$rt" state || return 1; st=$T_US
    timed "$rt" delete "$id" || fail "$rt" delete || return 1; d=$T_US
    sample "$rt" "cycle (create+start+wait+delete)" $(( c + s + w + d ))
    sample "$rt" "  create" "$c"
    sample "$rt" "  start" "$s"
    sample "$rt" "  wait (state polls)" "$w"
    sample "$rt" "  delete" "$d"
    sample "$rt" "state (stopped)" "$st"

    id="b$$-$rt-$tag-run"
    timed "$rt" run --bundle "$tmp/true" "$id" || fail "$rt" run || return 1
    sample "$rt" "run /bin/true" "$T_US"
    rt_cmd "$rt" delete --force "$id" </dev/null >/dev/null 2>&1 || true

    id="b$$-$rt-$tag-kill"
    rt_cmd "$rt" create --bundle "$tmp/sleep" "$id" </dev/null >/dev/null 2>"$tmp/err" || fail "$rt" "create (sleep)" || return 1
    rt_cmd "$rt" start "$id" </dev/null >/dev/null 2>"$tmp/err" || fail "$rt" "start (sleep)" || return 1
    timed "$rt" exec "$id" /bin/true || fail "$rt" exec || return 1
    sample "$rt" "exec /bin/true" "$T_US"
    timed "$rt" kill "$id" KILL || fail "$rt" kill || return 1
    sample "$rt" "kill KILL" "$T_US"
    wait_stopped "$rt" "$id" || fail "$rt" "state after kill" || return 1
    rt_cmd "$rt" delete "$id" </dev/null >/dev/null 2>"$tmp/err" || fail "$rt" "delete (sleep)" || return 1
}

# rss RUNTIME OP ARGS...: run under /usr/bin/time, record peak RSS in KiB.
rss() {
    local rt="$1" op="$2"; shift 2
    local rc=0
    RT_PREFIX=("$TIME_BIN" -f %M -o "$tmp/rss")
    rt_cmd "$rt" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
    RT_PREFIX=()
    [ "$rc" -eq 0 ] || return "$rc"
    echo "$rt,$op,$(tail -n1 "$tmp/rss")" >>"$tmp/rss-samples"
}

rss_iteration() {
    local rt="$1" tag="$2" id
    id="r$$-$rt-$tag"
    rss "$rt" create create --bundle "$tmp/true" "$id" || return 1
    rss "$rt" start start "$id" || return 1
    wait_stopped "$rt" "$id" || return 1
    rss "$rt" state state "$id" || return 1
    rss "$rt" delete delete "$id" || return 1
    rss "$rt" run run --bundle "$tmp/true" "$id-run" || return 1
    rt_cmd "$rt" delete --force "$id-run" </dev/null >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- calibrate
median_of() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

if [ "$crun_wrap" = 1 ]; then
    plain=(); wrapped=()
    for _ in $(seq 20); do
        t0=$(now_us); "$CRUN" --version >/dev/null 2>&1 || true; t1=$(now_us); plain+=($((t1 - t0)))
        t0=$(now_us); rt_cmd crun --version >/dev/null 2>&1 || true; t1=$(now_us); wrapped+=($((t1 - t0)))
    done
    p=$(printf '%s\n' "${plain[@]}" | median_of); w=$(printf '%s\n' "${wrapped[@]}" | median_of)
    overhead[crun]=$(( w > p ? w - p : 0 ))
    if ! rt_cmd crun --version >/dev/null 2>"$tmp/err"; then
        fail crun "the unshare/mount wrapper" || true
    fi
fi

# ---------------------------------------------------------------- run
echo "skiff: $SKIFF"
echo "runc:  $RUNC ($("$RUNC" --version | head -n1))"
if [ "$use_crun" = 1 ]; then
    echo "crun:  $CRUN ($("$CRUN" --version | head -n1))$([ "$crun_wrap" = 1 ] && echo ", hybrid-cgroup wrapper, overhead $((overhead[crun] / 1000)).$(printf '%03d' $((overhead[crun] % 1000))) ms subtracted")"
fi
echo "host:  $(uname -r), $(nproc) CPUs; $N timed iterations, $R RSS iterations"
echo

# Progress on the terminal only (stderr), not in captured output.
progress() { [ -t 2 ] && printf '\r%-40s\r%s' "" "$1" >&2; return 0; }

k=${#runtimes[@]}
for ((i = 0; i < N; i++)); do
    progress "timing: iteration $((i + 1))/$N"
    for ((j = 0; j < k; j++)); do
        rt="${runtimes[$(( (i + j) % k ))]}"
        [ -z "${failed[$rt]:-}" ] || continue
        iteration "$rt" "$i" || true
    done
done
for ((i = 0; i < R; i++)); do
    progress "peak RSS: iteration $((i + 1))/$R"
    for ((j = 0; j < k; j++)); do
        rt="${runtimes[$(( (i + j) % k ))]}"
        [ -z "${failed[$rt]:-}" ] || continue
        rss_iteration "$rt" "$i" || fail "$rt" "RSS pass" || true
    done
done
progress ""

[ -z "$csv_out" ] || { echo "runtime,operation,us" >"$csv_out"; sed 's/,  */,/' "$tmp/samples" >>"$csv_out"; }

# ---------------------------------------------------------------- report
# Medians in ms per runtime/operation, then the table.
awk -F, -v rts="${runtimes[*]}" -v skiffbin="$SKIFF" '
    function median(key,   n, i, j, t, v) {
        n = cnt[key]
        for (i = 1; i <= n; i++) v[i] = val[key, i]
        for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
        return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    FILENAME == ARGV[1] {
        key = $1 SUBSEP $2
        if (!($2 in seen)) { seen[$2] = 1; ops[++nops] = $2 }
        val[key, ++cnt[key]] = $3
        next
    }
    FILENAME == ARGV[2] {
        if (!($2 in rseen)) { rseen[$2] = 1; rops[++nrops] = $2 }
        if ($3 + 0 > rmax[$1, $2]) rmax[$1, $2] = $3 + 0
        next
    }
    END {
        nr = split(rts, rt, " ")
        printf "%-34s %10s %10s %12s", "operation (median)", "skiff ms", "runc ms", "skiff/runc"
        if (nr > 2) printf " %10s", "crun ms"
        printf "\n"
        for (o = 1; o <= nops; o++) {
            op = ops[o]
            for (r = 1; r <= nr; r++) m[rt[r]] = (cnt[rt[r], op] ? median(rt[r] SUBSEP op) / 1000 : -1)
            printf "%-34s", op
            for (r = 1; r <= 2; r++) printf " %10s", (m[rt[r]] < 0 ? "n/a" : sprintf("%.2f", m[rt[r]]))
            printf " %12s", (m["skiff"] > 0 && m["runc"] > 0 ? sprintf("%.2f", m["skiff"] / m["runc"]) : "n/a")
            if (nr > 2) printf " %10s", (m["crun"] < 0 ? "n/a" : sprintf("%.2f", m["crun"]))
            printf "\n"
        }
        if (nrops == 0) exit
        printf "\n%-34s %10s %10s %12s", "peak RSS (max KiB)", "skiff", "runc", "skiff/runc"
        if (nr > 2) printf " %10s", "crun"
        printf "\n"
        for (o = 1; o <= nrops; o++) {
            op = rops[o]
            printf "%-34s", op
            for (r = 1; r <= 2; r++) printf " %10s", (rmax[rt[r], op] ? rmax[rt[r], op] : "n/a")
            printf " %12s", (rmax["skiff", op] && rmax["runc", op] ? sprintf("%.2f", rmax["skiff", op] / rmax["runc", op]) : "n/a")
            if (nr > 2) printf " %10s", (rmax["crun", op] ? rmax["crun", op] : "n/a")
            printf "\n"
        }
    }
' "$tmp/samples" "$tmp/rss-samples"

status=0
for rt in skiff runc; do
    if [ -n "${failed[$rt]:-}" ]; then
        echo "bench: $rt failed ($rt ${failed[$rt]}); its numbers are missing or partial" >&2
        status=1
    fi
done
exit "$status"
