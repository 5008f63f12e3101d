# Sourced by chamber integration scripts: starts dynalite 4.0.0 (behind
# tests/support/ddb_transact_proxy.mjs, which adds the TransactWriteItems the
# key table uses) and kms-local on free loopback ports, and exports what a
# driver needs: CC_DDB (the proxy's URL), CC_KMS, CC_TOOLS, CC_WORK, AWS_*.
# Defines here (the sourcing script's folder), top, bin, work and fail();
# every process started here is stopped, and work removed, at exit.
# Set NAME (temp-dir prefix) before sourcing.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
support="$top/tests/support"
bin=${CC_BIN:-$top/build/containment-chamber}
CC_BUILD=${CC_BUILD:-$top/build}
kms="$CC_BUILD/kms-local"
[ -x "$kms" ] || kms="$top/build/kms-local"
tools="$CC_BUILD/tools"
[ -d "$tools/node_modules/dynalite" ] || tools="$top/build/tools"
fail() { echo "FAIL setup - $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail "no binary at $bin"
[ -x "$kms" ] || fail "no kms-local at $kms (make build)"
[ -d "$tools/node_modules/dynalite" ] && [ -d "$tools/node_modules/@aws-sdk/client-kms" ] \
    || fail "npm tools missing in $tools (run scripts/install-deps.sh --test)"
command -v node >/dev/null || fail "node is missing"

work=$(mktemp -d "${TMPDIR:-/tmp}/cc-$NAME.XXXXXX")
env_pids=()
chamber_env_cleanup() {
    for p in "${env_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    # Any signer a driver left behind (an exception or a timeout before its own clean-up): every
    # process started for this run names the unique temp dir in its arguments.
    pkill -KILL -f -- "$work/" 2>/dev/null
    rm -rf "$work"
}
trap chamber_env_cleanup EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
dport=$(free_port)
node "$tools/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dport" --createTableMs 0 --deleteTableMs 0 \
    --updateTableMs 0 > "$work/dynalite.log" 2>&1 &
env_pids+=($!)
pport=$(free_port)
node "$support/ddb_transact_proxy.mjs" "$pport" "http://127.0.0.1:$dport" > "$work/proxy.log" 2>&1 &
env_pids+=($!)
kport=$(free_port)
# CC_KMS_EXTRA_ARGS (optional, word-split): more kms-local flags, e.g. --credentials-file F --attestation-root PEM.
# shellcheck disable=SC2206
kms_extra=(${CC_KMS_EXTRA_ARGS:-})
"$kms" --listen "127.0.0.1:$kport" --state "$work/kms-state.json" --access-key-id AKIDTEST \
    --secret-access-key test-secret "${kms_extra[@]}" > "$work/kms.log" 2>&1 &
env_pids+=($!)
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$dport/" && curl -s -o /dev/null "http://127.0.0.1:$pport/" \
        && curl -s -o /dev/null "http://127.0.0.1:$kport/" && break
    sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$dport/" || { cat "$work/dynalite.log"; fail "dynalite did not start"; }
curl -s -o /dev/null "http://127.0.0.1:$pport/" || { cat "$work/proxy.log"; fail "the TransactWriteItems proxy did not start"; }
curl -s -o /dev/null "http://127.0.0.1:$kport/" || { cat "$work/kms.log"; fail "kms-local did not start"; }

# dynalite checks only the shape of SigV4; kms-local checks it with this key.  Never ask IMDS.
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=test-secret AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
export CC_BIN="$bin" CC_WORK="$work" CC_TOOLS="$tools" CC_DDB="http://127.0.0.1:$pport" CC_KMS="http://127.0.0.1:$kport"
export CC_TOP="$top" NODE_NO_WARNINGS=1

# Runs a node driver with a time limit; prints its output and one closing line.
run_chamber_driver() {  # driver.mjs seconds
    timeout "$2" node "$here/$1" > "$work/driver.out" 2>&1
    local rc=$?
    grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$work/driver.out"
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/driver.out" | tail -n 1)
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        for f in "$work"/server.*.log; do [ -f "$f" ] && { echo "--- $(basename "$f") (tail)"; tail -n 8 "$f"; }; done
    fi
    echo "${line:-0 passed, 1 failed}"
    return $rc
}
