#!/usr/bin/env bash
# End to end: a Lodestar 1.5.1 dev chain finalizes with every signature made by
# containment-chamber.
#
#   beacon node   `lodestar dev` without validators (minimal preset, 8 interop
#                 genesis validators, ALTAIR at epoch 0, BELLATRIX at epoch 1 on the mock
#                 execution engine, $E2E_SECONDS_PER_SLOT s slots)
#   signer        `containment-chamber server`, network = the chain's config.yaml
#                 (written from GET /eth/v1/config/spec), GVR from GET /eth/v1/beacon/genesis,
#                 the 8 interop keys as EIP-2335 keystores, SQLite anti-slashing
#   proxy         proxy.mjs: forwards to the signer, records every request and answer
#   validator     `lodestar validator --network dev --preset minimal` (separate process)
#                 with --externalSigner.url = the proxy and --externalSigner.fetch
#
# Checks (each prints "ok NAME" / "FAIL NAME"):
#   finalized            the chain finalizes epoch >= $E2E_FINALIZED_EPOCH (3)
#   no_refusal_before_drills, validator_no_signing_errors, signer_log_accounts_for_requests,
#   signer_metrics_account_for_requests (/metrics of the running signer = its log, by type and status)
#   restart drill        signer stopped (by PID) for two slots and restarted on the same
#                        port and DB; the chain finalizes a later epoch; nothing refused
#                        afterwards unless it truly conflicts
#   slashing drills      replay of a signed ATTESTATION (200, same signature), double vote,
#                        surround vote and an earlier-slot BLOCK_V2 with another body (412)
#   anti-slashing        every BLOCK_V2 and ATTESTATION signed is in `slashing export`
# Ends with "FIGURES …" and "N passed, N failed".  Logs stay in build/e2e/logs.
#
# Environment: CC_BIN (signer binary), E2E_SECONDS_PER_SLOT (2), E2E_FINALIZED_EPOCH (3),
# E2E_BELLATRIX_EPOCH (1; "none" keeps the chain on altair), E2E_RESTART_SIGNAL (TERM; KILL
# makes the restart drill a crash),
# E2E_BUDGET (570 s for the whole run; the first-finality timeout is what the install leaves
# of it minus 150 s, within 120..300 s), E2E_FINALITY_TIMEOUT (overrides that),
# E2E_GENESIS_DELAY (20), E2E_KEEP_DATA=1 keeps the chain and signer data under build/e2e/data.
set -uo pipefail
shopt -s lastpipe
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
BIN=${CC_BIN:-$top/build/containment-chamber}
E2E=$top/build/e2e
LS=$E2E/lodestar
LOGS=$E2E/logs
DATA=$E2E/data
SPS=${E2E_SECONDS_PER_SLOT:-2}
WANT_FINAL=${E2E_FINALIZED_EPOCH:-3}
BELLATRIX_EPOCH=${E2E_BELLATRIX_EPOCH:-1}   # "none": altair only
RESTART_SIGNAL=${E2E_RESTART_SIGNAL:-TERM}  # how the restart drill stops the signer (KILL: a crash)
BUDGET=${E2E_BUDGET:-570}   # seconds for the whole run, install included (the runner allows 900)
FINALITY_TIMEOUT=${E2E_FINALITY_TIMEOUT:-}
H="node $here/harness.mjs"
T0=$SECONDS

pass=0; failed=0
ok()   { echo "ok $1${2:+ - $2}"; pass=$((pass + 1)); }
bad()  { echo "FAIL $1${2:+ - $2}"; failed=$((failed + 1)); }
note() { echo "# [$((SECONDS - T0))s] $*"; }
# Counts the ok/FAIL lines of a harness.mjs check and echoes them.
tally() {
    local line
    while IFS= read -r line; do
        echo "$line"
        case $line in ok\ *) pass=$((pass + 1)) ;; FAIL\ *) failed=$((failed + 1)) ;; esac
    done
}
finish() {
    echo "# logs: $LOGS"
    echo "$pass passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0 || exit 1
}

# ---- processes: started here, stopped here by their own PIDs ------------------------
bn_pid=; sig_pid=; proxy_pid=; vc_pid=
stop() {  # stop PID [seconds]: TERM, then KILL after a grace period
    local pid=$1 grace=${2:-10} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}
cleanup() {
    stop "$vc_pid"; vc_pid=
    stop "$proxy_pid" 3; proxy_pid=
    stop "$sig_pid"; sig_pid=
    stop "$bn_pid"; bn_pid=
    [ -n "${E2E_KEEP_DATA:-}" ] || rm -rf "$DATA"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 1' INT TERM

# One run at a time: the install, build/e2e/logs and build/e2e/data are shared.
mkdir -p "$E2E"
exec 9>"$E2E/.lock"
if ! flock -n 9; then
    echo "# another e2e run holds $E2E/.lock; waiting up to 300s"
    flock -w 300 9 || { echo "FAIL setup - another e2e run holds $E2E/.lock"; echo "0 passed, 1 failed"; exit 1; }
fi
rm -rf "$LOGS" "$DATA"
mkdir -p "$LOGS" "$DATA"

if [ ! -x "$BIN" ]; then bad setup "no signer binary at $BIN (make build)"; finish; fi

# ---- 1. Lodestar 1.5.1, pinned ---------------------------------------------------------
installed() {
    [ -f "$LS/node_modules/mortice/package.json" ] &&
        node -e 'process.exit(require(process.argv[1]).version === "3.0.0" ? 0 : 1)' "$LS/node_modules/mortice/package.json" &&
        cmp -s "$here/package.json" "$LS/package.json" && [ -x "$LS/node_modules/.bin/lodestar" ]
}
if installed; then
    note "Lodestar already installed in $LS"
else
    note "installing Lodestar 1.5.1 into $LS (about a minute)"
    t=$SECONDS
    mkdir -p "$E2E/yarn1" "$LS"
    if [ ! -x "$E2E/yarn1/node_modules/.bin/yarn" ]; then
        npm install --prefix "$E2E/yarn1" --no-audit --no-fund yarn@1 > "$LOGS/install-yarn.log" 2>&1 ||
            { bad install "npm install yarn@1 failed (see $LOGS/install-yarn.log)"; finish; }
    fi
    rm -rf "$LS/node_modules"
    cp "$here/package.json" "$LS/package.json"
    sed "s#@@REGISTRY@@#$(npm config get registry | sed 's#/$##')#" "$here/yarn.lock.template" > "$LS/yarn.lock"
    (cd "$LS" && "$E2E/yarn1/node_modules/.bin/yarn" install --frozen-lockfile --ignore-engines \
        --non-interactive --network-timeout 100000) > "$LOGS/install.log" 2>&1 ||
        { bad install "yarn install failed (see $LOGS/install.log)"; finish; }
    installed || { bad install "node_modules/mortice is not 3.0.0: the lock was not honoured"; finish; }
    note "installed in $((SECONDS - t))s"
fi
LODESTAR=$LS/node_modules/.bin/lodestar

# ---- 2. ports, keys ----------------------------------------------------------------------
read -r P2P REST SIG PROXY MET <<<"$($H ports 5)"
mkdir -p "$DATA/keys"
"$BIN" keystore generate --out-dir "$DATA/keys" --count 8 --interop --kdf pbkdf2 --light > "$DATA/pubkeys.txt" 2> "$LOGS/keystore.log" ||
    { bad setup "keystore generate failed: $(tail -n 3 "$LOGS/keystore.log")"; finish; }

# ---- 3. beacon node -----------------------------------------------------------------------
# Genesis a little in the future so that signer and validator client are up for slot 0.
GENESIS_DELAY=${E2E_GENESIS_DELAY:-20}
genesis_time=$(( $(date +%s) + GENESIS_DELAY ))
CHAIN_ARGS=(--params.SECONDS_PER_SLOT "$SPS" --params.ALTAIR_FORK_EPOCH 0)
# BELLATRIX from epoch 1 (as in shared/e2e-lodestar/signing-bodies.jsonl): blocks are then
# signed as BLOCK_V2 block_header, across a fork transition.  Needs the mock execution engine.
BN_EXTRA=()
if [ "$BELLATRIX_EPOCH" != none ]; then
    CHAIN_ARGS+=(--params.BELLATRIX_FORK_EPOCH "$BELLATRIX_EPOCH")
    BN_EXTRA+=(--execution.engineMock)
fi
(cd "$DATA" && exec "$LODESTAR" dev --dataDir "$DATA/beacon" --reset \
    --genesisValidators 8 --genesisTime "$genesis_time" "${CHAIN_ARGS[@]}" "${BN_EXTRA[@]}" --eth1=false \
    --listenAddress 127.0.0.1 --discv5=false --port "$P2P" --mdns=false \
    --rest.address 127.0.0.1 --rest.port "$REST" --metrics=false --logFile none) > "$LOGS/beacon.log" 2>&1 9>&- &
bn_pid=$!
BN=http://127.0.0.1:$REST
note "beacon node pid $bn_pid, REST $BN, genesis in ${GENESIS_DELAY}s, ${SPS}s slots, bellatrix at epoch $BELLATRIX_EPOCH"
for ((i = 0; i < 600; i++)); do
    curl -sf "$BN/eth/v1/beacon/genesis" > "$DATA/genesis.json" 2>/dev/null && break
    kill -0 "$bn_pid" 2>/dev/null || break
    sleep 0.1
done
if ! curl -sf "$BN/eth/v1/config/spec" > "$DATA/spec.json"; then
    bad setup "beacon node REST did not come up (see $LOGS/beacon.log)"; tail -n 20 "$LOGS/beacon.log" | sed 's/^/  /'; finish
fi
GVR=$(node -e 'console.log(require(process.argv[1]).data.genesis_validators_root)' "$DATA/genesis.json")
note "$($H spec2yaml "$DATA/spec.json" "$DATA/network.yaml"); GVR $GVR"
cp "$DATA/network.yaml" "$LOGS/network.yaml"

# ---- 4. signer and recording proxy ------------------------------------------------------------
cat > "$DATA/signer.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: $SIG}
metrics: {listen_address: 127.0.0.1, listen_port: $MET}
network: $DATA/network.yaml
genesis_validators_root: "$GVR"
key_sources: {filesystem: {paths: [$DATA/keys]}}
anti_slashing: {backend: sqlite, path: $DATA/slashing.sqlite}
log: {level: debug}
YAML
cp "$DATA/signer.yaml" "$LOGS/signer.yaml"
start_signer() {  # start_signer LOGFILE
    "$BIN" server -c "$DATA/signer.yaml" > "$1" 2>&1 9>&- &
    sig_pid=$!
    local i
    for ((i = 0; i < 100; i++)); do
        curl -sf "http://127.0.0.1:$SIG/upcheck" >/dev/null 2>&1 && return 0
        kill -0 "$sig_pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
start_signer "$LOGS/signer-1.log" || { bad setup "signer did not start (see $LOGS/signer-1.log)"; tail -n 5 "$LOGS/signer-1.log" | sed 's/^/  /'; finish; }
keys=$(curl -s "http://127.0.0.1:$SIG/api/v1/eth2/publicKeys")
nkeys=$(node -e 'console.log(JSON.parse(process.argv[1]).length)' "$keys" 2>/dev/null || echo 0)
[ "$nkeys" = 8 ] || { bad setup "signer serves $nkeys keys, not 8: $keys"; finish; }
note "signer pid $sig_pid on 127.0.0.1:$SIG with 8 keys"
hc_code=$(curl -s -o "$DATA/healthcheck.json" -w '%{http_code}' "http://127.0.0.1:$SIG/healthcheck")
if [ "$hc_code" = 200 ]; then ok signer_healthcheck "200 $(head -c 160 "$DATA/healthcheck.json")"; else
    bad signer_healthcheck "$hc_code $(head -c 300 "$DATA/healthcheck.json")"; fi

node "$here/proxy.mjs" "$PROXY" "$SIG" "$LOGS/requests.jsonl" > "$LOGS/proxy.log" 2>&1 9>&- &
proxy_pid=$!
for ((i = 0; i < 50; i++)); do grep -q listening "$LOGS/proxy.log" 2>/dev/null && break; sleep 0.1; done

# ---- 5. validator client ---------------------------------------------------------------------
(cd "$DATA" && exec "$LODESTAR" validator --preset minimal --network dev "${CHAIN_ARGS[@]}" \
    --dataDir "$DATA/validator" --beaconNodes "$BN" \
    --externalSigner.url "http://127.0.0.1:$PROXY" --externalSigner.fetch \
    --metrics=false --logFile none) > "$LOGS/validator.log" 2>&1 9>&- &
vc_pid=$!
note "proxy pid $proxy_pid on 127.0.0.1:$PROXY, validator client pid $vc_pid"

finalized() { curl -sf --max-time 5 "$BN/eth/v1/beacon/states/head/finality_checkpoints" 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.finalized.epoch)}catch{console.log(-1)}})'; }
wait_final() {  # wait_final EPOCH TIMEOUT: until finalized >= EPOCH; every process must stay up
    local want=$1 limit=$2 start=$SECONDS f last=-2 head
    while ((SECONDS - start < limit)); do
        f=$(finalized); f=${f:--1}
        ((f >= want)) && { echo "$f"; return 0; }
        if ((f != last)); then   # progress, on stderr (the caller captures stdout)
            head=$(curl -sf --max-time 5 "$BN/eth/v1/beacon/headers/head" 2>/dev/null |
                node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).data.header.message.slot)}catch{console.log("?")}})')
            echo "# [$((SECONDS - T0))s] finalized epoch $f, head slot $head" >&2
            last=$f
        fi
        for p in "$bn_pid" "$vc_pid" "$proxy_pid" "$sig_pid"; do kill -0 "$p" 2>/dev/null || { echo "$f"; return 2; }; done
        sleep 1
    done
    echo "$f"; return 1
}
# Lodestar's signing failures: "Error signing …", and any error or warning that carries
# the signer's answer (a 4xx/5xx body is logged verbatim) or the proxy's "signer unavailable".
SIGN_ERR='Error signing|signer unavailable|\{"error"|[Ss]lashing|Invalid external signer|[Ee]xternal signer|412|INVALID_SIGNATURE|[Ii]nvalid signature'
vc_log_lines() { sed -n "${2},${3:-\$}p" "$1" | sed 's/\x1b\[[0-9;]*m//g'; }
errors_in() {  # errors_in FILE FROM_LINE [TO_LINE]: the signing failures in that range
    vc_log_lines "$@" | grep -E 'error:|warn:' | grep -E "$SIGN_ERR" || true
}
other_errors_in() {  # the other error lines (beacon node side: late publication, timeouts)
    vc_log_lines "$@" | grep -E 'error:' | grep -vE "$SIGN_ERR" || true
}

# ---- 6. finality ------------------------------------------------------------------------------
# What is left of the budget after the install, minus ~150 s for the drills and checks.
if [ -z "$FINALITY_TIMEOUT" ]; then
    FINALITY_TIMEOUT=$((BUDGET - (SECONDS - T0) - 150))
    ((FINALITY_TIMEOUT > 300)) && FINALITY_TIMEOUT=300
    ((FINALITY_TIMEOUT < 120)) && FINALITY_TIMEOUT=120
fi
note "waiting for finalized epoch >= $WANT_FINAL (timeout ${FINALITY_TIMEOUT}s)"
t=$SECONDS
f0=$(wait_final "$WANT_FINAL" "$FINALITY_TIMEOUT"); rc=$?
if [ $rc -eq 0 ]; then
    ok finalized "epoch $f0 finalized $((SECONDS - t))s after the validator client started ($((SECONDS - T0))s into the run)"
else
    bad finalized "finalized epoch $f0 after $((SECONDS - t))s$([ $rc -eq 2 ] && echo ': a process died')"
    sed 's/\x1b\[[0-9;]*m//g' "$LOGS/validator.log" | grep -E 'error|warn' | tail -n 8 | sed 's/^/  /'
fi

# Before any drill: no refusal, no signing error on the validator side.
n=$(grep -c '"sign refused"' "$LOGS/signer-1.log")
if [ "$n" -eq 0 ]; then ok no_refusal_before_drills; else
    bad no_refusal_before_drills "$n refusals"; grep '"sign refused"' "$LOGS/signer-1.log" | head -n 5 | sed 's/^/  /'; fi
# The beacon node verifies every signature it receives: none may be rejected as invalid.
bad_sigs=$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/beacon.log" | grep -iE 'INVALID_SIGNATURE|invalid signature' || true)
if [ -z "$bad_sigs" ]; then ok beacon_rejects_no_signature "no INVALID_SIGNATURE in the beacon node's log"; else
    bad beacon_rejects_no_signature "$(echo "$bad_sigs" | wc -l) lines"; echo "$bad_sigs" | head -n 5 | cut -c1-300 | sed 's/^/  /'; fi
vc_lines_before=$(wc -l < "$LOGS/validator.log")
errs=$(errors_in "$LOGS/validator.log" 1 "$vc_lines_before")
others=$(other_errors_in "$LOGS/validator.log" 1 "$vc_lines_before" | wc -l)
if [ -z "$errs" ]; then ok validator_no_signing_errors "none in $vc_lines_before log lines before the drills ($others other error lines, not about signing)"; else
    bad validator_no_signing_errors "$(echo "$errs" | wc -l) lines"; echo "$errs" | head -n 8 | sed 's/^/  /'; fi

# ---- 7. restart drill: signer down for two slots, same port, same DB -----------------------------
if [ $rc -eq 0 ]; then
    fin_before=$(finalized)
    note "restart drill: stopping the signer (pid $sig_pid, SIG$RESTART_SIGNAL) for $((2 * SPS))s at finalized epoch $fin_before"
    if [ "$RESTART_SIGNAL" = TERM ]; then stop "$sig_pid"; else
        kill -"$RESTART_SIGNAL" "$sig_pid" 2>/dev/null; { wait "$sig_pid"; } 2>/dev/null; stop "$sig_pid"; fi
    sig_pid=
    sleep $((2 * SPS))
    restart_ms=$(node -e 'console.log(Date.now())')
    if start_signer "$LOGS/signer-2.log"; then
        note "signer restarted (pid $sig_pid)"
        sleep "$SPS"   # let in-flight duties of the outage settle
        vc_lines_settled=$(wc -l < "$LOGS/validator.log")
        want=$((fin_before + 1))
        t=$SECONDS
        f1=$(wait_final "$want" 120); rc2=$?
        if [ $rc2 -eq 0 ]; then ok finality_after_restart "epoch $f1 finalized (was $fin_before before the drill) $((SECONDS - t))s after the restart"
        else bad finality_after_restart "finalized epoch $f1, wanted >= $want"; fi
        sleep "$SPS"
        $H refusals "$LOGS/requests.jsonl" "$restart_ms" "$LOGS/signer-2.log" | tally
        errs=$(errors_in "$LOGS/validator.log" $((vc_lines_settled + 1)))
        if [ -z "$errs" ]; then ok validator_no_signing_errors_after_restart "(outage lines $vc_lines_before..$vc_lines_settled excluded: $(errors_in "$LOGS/validator.log" "$vc_lines_before" "$vc_lines_settled" | wc -l) errors while the signer was down)"
        else bad validator_no_signing_errors_after_restart "$(echo "$errs" | wc -l) lines"; echo "$errs" | head -n 8 | sed 's/^/  /'; fi
    else
        bad restart "signer did not come back (see $LOGS/signer-2.log)"
    fi
fi
final_epoch=$(finalized)

# ---- 8. stop the validator client; account for every request -----------------------------------
stop "$vc_pid"; vc_pid=
sleep 0.5
stop "$proxy_pid" 3; proxy_pid=
$H account "$LOGS/requests.jsonl" "$LOGS"/signer-*.log | tally
# The running signer's /metrics, with no traffic left, against its own log, by type and status.
if [ -n "$sig_pid" ]; then
    last_log="$LOGS/signer-1.log"; [ -f "$LOGS/signer-2.log" ] && last_log="$LOGS/signer-2.log"
    curl -s "http://127.0.0.1:$MET/metrics" > "$LOGS/metrics.txt"
    $H metrics "$LOGS/metrics.txt" "$last_log" | tally
fi
$H shapes "$LOGS/requests.jsonl" "ALTAIR/block$([ "$BELLATRIX_EPOCH" != none ] && echo ,BELLATRIX/header)" | tally

# ---- 9. slashing drills, straight at the signer (nothing else signs now) ---------------------------
# (the figures count the validator client's requests only: the logs as they were before the drills)
if [ -f "$LOGS/signer-2.log" ]; then
    cp "$LOGS/signer-2.log" "$DATA/signer-before-drills.log"; FIG_LOGS=("$LOGS/signer-1.log" "$DATA/signer-before-drills.log")
else
    cp "$LOGS/signer-1.log" "$DATA/signer-before-drills.log"; FIG_LOGS=("$DATA/signer-before-drills.log")
fi
if [ -n "$sig_pid" ]; then
    $H drill "$LOGS/requests.jsonl" "http://127.0.0.1:$SIG" "$LS" 2>&1 | tally
fi

# ---- 10. anti-slashing DB: every signed block and attestation is recorded ------------------------
stop "$sig_pid"; sig_pid=
if "$BIN" slashing export --file "$LOGS/interchange.json" -c "$DATA/signer.yaml" \
        --genesis-validators-root "$GVR" > "$LOGS/export.log" 2>&1; then
    $H exported "$LOGS/requests.jsonl" "$LOGS/interchange.json" | tally
else
    bad anti_slashing_records_every_signature "slashing export failed: $(tail -n 3 "$LOGS/export.log")"
fi

stop "$bn_pid"; bn_pid=
echo "FIGURES finalized_epoch=$final_epoch $($H figures "${FIG_LOGS[@]}") seconds_per_slot=$SPS wall_s=$((SECONDS - T0))"
finish
