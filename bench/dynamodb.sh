#!/usr/bin/env bash
# bench/dynamodb.sh — signing throughput with the dynamodb anti-slashing backend: N signer
# instances on ONE table (dynalite on loopback), aggregate rps ÷ raw blst rate on the same cores.
#
#   1. starts dynalite 4.0.0 (build/tools) on a free loopback port, creates the table with
#      `containment-chamber dynamodb create-tables`;
#   2. writes BENCH_KEYS file-raw keys (interop scalars, as bench/run.sh);
#   3. measures raw blst signing (build/bench/bench_blst, all cores);
#   4. for each N in BENCH_INSTANCES: starts N signers on the table, splits the keys into N
#      disjoint sets, runs one build/bench/loadgen per signer at the same time (every request a
#      new ATTESTATION: two conditional writes each), sums their rps;
#   5. prints one RESULT line per N: aggregate rps, the ratio to raw blst, p50/p99 of each loadgen.
# It measures and prints; it asserts nothing.  Every process it starts is stopped on exit.
#
# Environment: BUILD=build  BENCH_KEYS=1000  BENCH_INSTANCES="1 3"  BENCH_CONNS=32 (per signer)
#              BENCH_DURATION=20  BENCH_WARMUP=3  BENCH_BLST_DURATION=10
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
KEYS=${BENCH_KEYS:-1000}
INSTANCES=${BENCH_INSTANCES:-"1 3"}
CONNS=${BENCH_CONNS:-32}
DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-3}
BLST_DURATION=${BENCH_BLST_DURATION:-10}
GVR=0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95
SIGNER=$BUILD/containment-chamber
BLST=$BUILD/bench/bench_blst
LOADGEN=$BUILD/bench/loadgen
tools=$BUILD/tools
[[ -d $tools/node_modules/dynalite ]] || tools=build/tools
for b in "$SIGNER" "$BLST" "$LOADGEN" "$tools/node_modules/dynalite/cli.js"; do
    [[ -e $b ]] || { echo "bench: $b is missing (make build, the bench binaries, scripts/install-deps.sh --test)" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cc-bench-ddb.XXXXXX")
PIDS=()
DPID=""
stop_signers() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
cleanup() {
    local rc=$?
    stop_signers
    if [[ -n $DPID ]]; then kill "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_EC2_METADATA_DISABLED=true
echo "== containment-chamber signing benchmark, anti-slashing on DynamoDB (dynalite)"
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
b0=$(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat); sleep 1
b1=$(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat)
echo "background load before starting: $(echo "$b0 $b1" | awk '{ printf "%.0f", ($4 > $2) ? 100 * ($3 - $1) / ($4 - $2) : 0 }')% of all CPUs"

# ---- 1. dynalite and the table -------------------------------------------------------------------
DPORT=$(free_port)
node "$tools/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$DPORT" --createTableMs 0 \
    --deleteTableMs 0 --updateTableMs 0 >"$TMP/dynalite.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$DPORT/" && break; sleep 0.1; done
cat >"$TMP/base.yaml" <<EOF
network: mainnet
server: {listen_address: 127.0.0.1}
metrics: {enabled: false}
key_sources: {filesystem: {paths: [$TMP/keys]}}
anti_slashing: {backend: dynamodb, table: bench-slashing}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "http://127.0.0.1:$DPORT"}}
backpressure: {max_queue: 4096}
log: {level: warn}
EOF
"$SIGNER" dynamodb create-tables -c "$TMP/base.yaml" 2>/dev/null

# ---- 2. keys ----------------------------------------------------------------------------------------
mkdir -p "$TMP/keys"
node --input-type=module -e "import { writeInteropKeys } from '$PWD/tests/integration/slashing_msgs.mjs';
writeInteropKeys('$TMP/keys', $KEYS);"

# ---- 3. raw blst ------------------------------------------------------------------------------------
echo
echo "-- raw blst signing, $(nproc) threads, ${BLST_DURATION} s"
"$BLST" --duration "$BLST_DURATION" --warmup 1 >"$TMP/blst.out"
sed 's/^/  /' "$TMP/blst.out"
blst=$(field "$(grep '^RESULT' "$TMP/blst.out")" blst_sign_per_s)
# blst per CPU-second × cores: the rate of idle cores, which other jobs on a shared machine do not skew.
blst_idle=$(awk -v c="$(field "$(grep '^RESULT' "$TMP/blst.out")" per_cpu_s)" -v n="$(nproc)" 'BEGIN { printf "%.0f", c * n }')

# ---- 4. N signers on one table --------------------------------------------------------------------
round=0
for n in $INSTANCES; do
    round=$((round + 1))
    echo
    echo "-- $n signer(s) on one table, $CONNS connections each, ${WARMUP} s warm-up + ${DURATION} s"
    ports=()
    for i in $(seq 1 "$n"); do
        p=$(free_port)
        setsid "$SIGNER" server -c "$TMP/base.yaml" --server.listen_port="$p" >"$TMP/server.$n.$i.log" 2>&1 &
        PIDS+=($!)
        ports+=("$p")
    done
    for p in "${ports[@]}"; do
        for _ in $(seq 600); do curl -fsS -m 2 "http://127.0.0.1:$p/upcheck" >/dev/null 2>&1 && break; sleep 0.1; done
    done
    curl -fsS "http://127.0.0.1:${ports[0]}/api/v1/eth2/publicKeys" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).join("\n")))' \
        >"$TMP/pubkeys.txt"
    # Disjoint key sets: instance i signs only keys i, i+n, i+2n, ...
    lg=()
    for i in $(seq 1 "$n"); do
        awk -v n="$n" -v i="$i" '(NR - 1) % n == i - 1' "$TMP/pubkeys.txt" >"$TMP/keys.$i.txt"
        "$LOADGEN" --port "${ports[$((i - 1))]}" --keys "$TMP/keys.$i.txt" --connections "$CONNS" \
            --duration "$DURATION" --warmup "$WARMUP" --gvr "$GVR" --fork-version 0x05000000 \
            --prev-version 0x04000000 --fork-epoch 364032 --start-epoch $((370000 + 100000 * round)) \
            >"$TMP/loadgen.$n.$i.out" &
        lg+=($!)
    done
    for p in "${lg[@]}"; do wait "$p"; done
    total=0 non200=0 lat=""
    for i in $(seq 1 "$n"); do
        res=$(grep '^RESULT' "$TMP/loadgen.$n.$i.out")
        echo "  signer $i: $res"
        total=$(awk -v a="$total" -v b="$(field "$res" rps)" 'BEGIN { printf "%.1f", a + b }')
        non200=$((non200 + $(field "$res" non200)))
        lat="$lat p50_ms[$i]=$(field "$res" p50_ms) p99_ms[$i]=$(field "$res" p99_ms)"
    done
    stop_signers
    ratio=$(awk -v r="$total" -v b="$blst" 'BEGIN { printf "%.4f", (b > 0) ? r / b : 0 }')
    ratio_idle=$(awk -v r="$total" -v b="$blst_idle" 'BEGIN { printf "%.4f", (b > 0) ? r / b : 0 }')
    echo "RESULT backend=dynamodb instances=$n conns_per_instance=$CONNS keys=$KEYS aggregate_rps=$total" \
        "blst_sign_per_s=$blst ratio=$ratio blst_idle_cores_per_s=$blst_idle ratio_idle=$ratio_idle" \
        "non200=$non200$lat"
done
echo
echo "(ratio = aggregate signer rps ÷ raw blst signatures/s on the same cores in the same run; ratio_idle ="
echo " the same ÷ (blst signatures per CPU-second × cores), steady when other jobs share the cores; dynalite —"
echo " one Node.js process on the same cores — is the bottleneck, not the signer or DynamoDB)"
