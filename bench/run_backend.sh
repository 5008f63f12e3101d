#!/usr/bin/env bash
# bench/run_backend.sh — signing throughput of N signer instances sharing one anti-slashing database.
#
#   bench/run_backend.sh [postgres]
#
# Builds nothing: expects $BUILD/containment-chamber, $BUILD/bench/bench_blst and $BUILD/bench/loadgen.
#
#   1. makes BENCH_KEYS (default 1,000) interop file-raw keys (the same scalars as bench/run.sh);
#   2. starts a throwaway PostgreSQL 15 on loopback (tests/support/postgres.sh: TLS, verify-full,
#      fsync on — the durable default) and BENCH_INSTANCES (default 3) `server` processes on it,
#      every instance loading every key;
#   3. measures raw blst signing on all cores (build/bench/bench_blst), before and after;
#   4. for each BENCH_PG_BATCH setting (the backend's group-commit cap, CC_PG_BATCH_MAX; default
#      "32 1": batches of up to 32 checks per transaction, then one check per transaction), restarts
#      the instances and drives ATTESTATION signing with one loadgen per instance (BENCH_CONNS
#      connections in all, split evenly), each loadgen on its own disjoint share of the keys so no
#      request conflicts with another: every request writes a new record;
#   5. prints the aggregate: rps summed over the instances ÷ the raw blst rate measured in the same
#      run on the same cores, p50/p99 (the worst instance's), non-200 answers.
#
# Everything (database, signers, load generators) shares the machine's cores: the ratio is what a
# box this size can sign with this backend, not the backend's ceiling.  It measures and prints;
# it asserts nothing.  Every process it starts is stopped on exit.
#
# Environment: BUILD=build BENCH_KEYS=1000 BENCH_INSTANCES=3 BENCH_CONNS=96 BENCH_DURATION=20
#   BENCH_WARMUP=3 BENCH_BLST_DURATION=10 BENCH_PG_BATCH="32 1" BENCH_POOL=8 (pool_size per instance)
set -euo pipefail

cd "$(dirname "$0")/.."
BACKEND=${1:-postgres}
[[ $BACKEND == postgres ]] || { echo "bench/run_backend.sh: only postgres is implemented here" >&2; exit 2; }
BUILD=${BUILD:-build}
KEYS=${BENCH_KEYS:-1000}
N=${BENCH_INSTANCES:-3}
CONNS=${BENCH_CONNS:-96}
DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-3}
BLST_DURATION=${BENCH_BLST_DURATION:-10}
BATCHES=${BENCH_PG_BATCH:-"32 1"}
POOL=${BENCH_POOL:-8}
GVR=0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95

SIGNER=$BUILD/containment-chamber
BLST=$BUILD/bench/bench_blst
LOADGEN=$BUILD/bench/loadgen
for b in "$SIGNER" "$BLST" "$LOADGEN"; do
    [[ -x $b ]] || { echo "bench: $b is missing — make build and the bench binaries first" >&2; exit 2; }
done

. tests/support/postgres.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cc-bench-backend.XXXXXX")
PIDS=()
LG_PIDS=()
stop_signers() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    local rc=$? p
    for p in "${LG_PIDS[@]+"${LG_PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
    stop_signers
    pg_stop
    if [[ -n ${BENCH_KEEP:-} ]]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ncpu=$(nproc)
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "== containment-chamber: $N signer instances on one $BACKEND database"
echo "machine: $ncpu CPU(s), $cpu_model, $(uname -sr); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- keys and database ----------------------------------------------------------------------------
node --input-type=module -e "
import { writeInteropKeys } from '$PWD/tests/integration/slashing_msgs.mjs';
writeInteropKeys('$TMP/keys', $KEYS);"
pg_start
pg_createdb cc_bench
URL=$(pg_url cc_bench)
echo "postgres 15: pid $PG_PID on 127.0.0.1:$PG_PORT (TLS verify-full, fsync on, synchronous_commit on)"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
result_field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
clk=$(getconf CLK_TCK)
ticks() { # ticks PID... → summed utime+stime
    local t=0 p v
    for p in "$@"; do
        v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
        t=$((t + v))
    done
    echo "$t"
}
pg_pids() { echo "$PG_PID" $(pgrep -P "$PG_PID" 2>/dev/null || true); }
sys_busy() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

run_blst() {
    "$BLST" --duration "$BLST_DURATION" --warmup 1 >"$TMP/blst.out"
    local res
    res=$(grep '^RESULT' "$TMP/blst.out")
    echo "  $res"
    BLST_RATE=$(result_field "$res" blst_sign_per_s)
    BLST_CPU=$(result_field "$res" per_cpu_s)
}

start_signers() { # start_signers BATCH_MAX
    PORTS=()
    local i port up
    for i in $(seq 0 $((N - 1))); do
        port=$(free_port)
        umask 077
        cat >"$TMP/config.$i.yaml" <<EOF
network: mainnet
server: {listen_address: 127.0.0.1, listen_port: $port}
metrics: {enabled: false}
key_sources: {filesystem: {paths: [$TMP/keys]}}
anti_slashing: {backend: postgres, url: "$URL", pool_size: $POOL}
log: {level: warn}
EOF
        CC_PG_BATCH_MAX=$1 "$SIGNER" server -c "$TMP/config.$i.yaml" >"$TMP/server.$i.log" 2>&1 &
        PIDS+=($!)
        PORTS+=("$port")
    done
    for i in $(seq 0 $((N - 1))); do
        up=""
        for _ in $(seq 1 600); do
            if curl -fsS -m 2 "http://127.0.0.1:${PORTS[$i]}/upcheck" >/dev/null 2>&1; then up=1; break; fi
            sleep 0.1
        done
        [[ -n $up ]] || { echo "bench: instance $i did not start:" >&2; tail -n 20 "$TMP/server.$i.log" >&2; exit 1; }
    done
}

echo
echo "-- raw blst signing, $ncpu threads, ${BLST_DURATION} s (before)"
run_blst
blst_before=$BLST_RATE blst_cpu_before=$BLST_CPU

declare -A AGG P50 P99 NON200 TERR SCPU DBCPU BUSY
start_epoch=370000
for batch in $BATCHES; do
    start_signers "$batch"
    curl -fsS -m 10 "http://127.0.0.1:${PORTS[0]}/api/v1/eth2/publicKeys" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(JSON.parse(s).join("\n"))})' \
            >"$TMP/pubkeys.txt"
    # each instance drives its own share of the keys (round robin): no two requests conflict
    for i in $(seq 0 $((N - 1))); do
        awk -v n="$N" -v i="$i" '(NR - 1) % n == i' "$TMP/pubkeys.txt" >"$TMP/keys.$i.txt"
    done
    echo
    echo "-- CC_PG_BATCH_MAX=$batch: ATTESTATION over keep-alive, $CONNS connections over $N instances, ${WARMUP} s + ${DURATION} s"
    LG_PIDS=()
    for i in $(seq 0 $((N - 1))); do
        "$LOADGEN" --port "${PORTS[$i]}" --keys "$TMP/keys.$i.txt" --connections $((CONNS / N)) \
            --duration "$DURATION" --warmup "$WARMUP" --gvr "$GVR" --start-epoch "$start_epoch" \
            >"$TMP/loadgen.$i.out" 2>&1 &
        LG_PIDS+=($!)
    done
    # CPU of the signers and of PostgreSQL (postmaster + backends) over the measured window
    sleep "$WARMUP"
    s0=$(ticks "${PIDS[@]}"); d0=$(ticks $(pg_pids)); read -r b0 t0 < <(sys_busy); w0=$(date +%s.%N)
    sleep "$DURATION"
    s1=$(ticks "${PIDS[@]}"); d1=$(ticks $(pg_pids)); read -r b1 t1 < <(sys_busy); w1=$(date +%s.%N)
    wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
    SCPU[$batch]=$(awk -v a="$s0" -v b="$s1" -v hz="$clk" -v w="$wall" 'BEGIN { printf "%.2f", (b - a) / hz / w }')
    DBCPU[$batch]=$(awk -v a="$d0" -v b="$d1" -v hz="$clk" -v w="$wall" 'BEGIN { printf "%.2f", (b - a) / hz / w }')
    BUSY[$batch]=$(awk -v a="$b0" -v b="$b1" -v x="$t0" -v y="$t1" 'BEGIN { printf "%.0f", (y > x) ? 100 * (b - a) / (y - x) : 0 }')
    for p in "${LG_PIDS[@]}"; do wait "$p" || { echo "bench: a loadgen failed" >&2; cat "$TMP"/loadgen.*.out >&2; exit 1; }; done
    LG_PIDS=()
    sum=0 p50=0 p99=0 non=0 terr=0
    for i in $(seq 0 $((N - 1))); do
        res=$(grep '^RESULT' "$TMP/loadgen.$i.out")
        echo "  instance $i: $res"
        sum=$(awk -v a="$sum" -v b="$(result_field "$res" rps)" 'BEGIN { print a + b }')
        p50=$(awk -v a="$p50" -v b="$(result_field "$res" p50_ms)" 'BEGIN { print (b > a) ? b : a }')
        p99=$(awk -v a="$p99" -v b="$(result_field "$res" p99_ms)" 'BEGIN { print (b > a) ? b : a }')
        non=$((non + $(result_field "$res" non200)))
        terr=$((terr + $(result_field "$res" transport_err)))
    done
    AGG[$batch]=$sum P50[$batch]=$p50 P99[$batch]=$p99 NON200[$batch]=$non TERR[$batch]=$terr
    stop_signers
    start_epoch=$((start_epoch + 100000))
done

echo
echo "-- raw blst signing, $ncpu threads, ${BLST_DURATION} s (after)"
run_blst
blst_after=$BLST_RATE blst_cpu_after=$BLST_CPU
blst=$(awk -v a="$blst_before" -v b="$blst_after" 'BEGIN { printf "%.0f", (a + b) / 2 }')
blst_cpu=$(awk -v a="$blst_cpu_before" -v b="$blst_cpu_after" 'BEGIN { printf "%.0f", (a + b) / 2 }')
records=$(pg_psql cc_bench -tAc "SELECT count(*) FROM signed_attestations" 2>/dev/null || echo "?")

echo
echo "== summary ($ncpu CPU(s), $cpu_model; $KEYS keys; $N instances, pool_size $POOL each; postgres 15 on the same cores)"
echo "raw blst sign rate ($ncpu threads): before $blst_before/s, after $blst_after/s, mean $blst/s"
echo "raw blst signatures per CPU-second: before $blst_cpu_before, after $blst_cpu_after, mean $blst_cpu"
echo "attestation records in the database after the runs: $records"
printf '%-10s %9s %6s %9s %8s %8s %7s %6s %10s %9s %8s %6s\n' batch_max agg_rps ratio cpu_ratio p50_ms p99_ms \
    non200 t_err signer_cpu db_cpu db_us/req busy%
for batch in $BATCHES; do
    ratio=$(awk -v r="${AGG[$batch]}" -v b="$blst" 'BEGIN { printf "%.3f", (b > 0) ? r / b : 0 }')
    # requests per signer CPU-second ÷ blst signatures per CPU-second (the signers' own overhead)
    cratio=$(awk -v r="${AGG[$batch]}" -v b="$blst_cpu" -v s="${SCPU[$batch]}" 'BEGIN { printf "%.3f", (b > 0 && s > 0) ? r / s / b : 0 }')
    dbus=$(awk -v r="${AGG[$batch]}" -v d="${DBCPU[$batch]}" 'BEGIN { printf "%.0f", (r > 0) ? 1e6 * d / r : 0 }')
    printf '%-10s %9s %6s %9s %8s %8s %7s %6s %10s %9s %8s %6s\n' "$batch" "${AGG[$batch]}" "$ratio" "$cratio" "${P50[$batch]}" \
        "${P99[$batch]}" "${NON200[$batch]}" "${TERR[$batch]}" "${SCPU[$batch]}" "${DBCPU[$batch]}" "$dbus" "${BUSY[$batch]}"
    echo "RESULT backend=postgres instances=$N batch_max=$batch conns=$CONNS rps=${AGG[$batch]} blst_sign_per_s=$blst blst_per_cpu_s=$blst_cpu ratio=$ratio cpu_ratio=$cratio p50_ms=${P50[$batch]} p99_ms=${P99[$batch]} non200=${NON200[$batch]} transport_err=${TERR[$batch]} signer_cores=${SCPU[$batch]} db_cores=${DBCPU[$batch]} db_us_per_req=$dbus all_cpus_busy_pct=${BUSY[$batch]}"
done
echo "(ratio = aggregate signer rps over all instances ÷ mean raw blst rate on the same cores in the same run;"
echo " cpu_ratio = aggregate rps per CPU-second the signers used ÷ raw blst signatures per CPU-second;"
echo " signer_cpu / db_cpu = cores used by the signers / by PostgreSQL over the window; db_us/req = PostgreSQL CPU per"
echo " request; busy% = all CPUs, everything on the machine; p50/p99 are the worst instance's)"
