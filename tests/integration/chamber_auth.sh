#!/usr/bin/env bash
# Auth policies and tokens (SPEC §2.4) with real processes: dynalite 4.0.0 for
# the signer state table, kms-local for the KMS key, and two signer replicas
# (filesystem keys, one table).  chamber_auth.mjs drives them: open by default;
# init answers a root token; auth routes need a root token even while open;
# once a policy exists a route sweep without a token gets 401 everywhere but
# /upcheck; a policy denying VOLUNTARY_EXIT for exactly two keys blocks
# exactly that; a refused signing request writes no anti-slashing record;
# expired and revoked tokens are 401; a change made through one replica is
# enforced by the other within the refresh interval; generate-root-token;
# no token secret in the table or the logs; containment_auth_rejections_total.
# Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
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

work=$(mktemp -d "${TMPDIR:-/tmp}/cc-auth.XXXXXX")
dpid= kpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    [ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
dport=$(free_port)
node "$tools/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dport" --createTableMs 0 --deleteTableMs 0 \
    --updateTableMs 0 > "$work/dynalite.log" 2>&1 &
dpid=$!
kport=$(free_port)
"$kms" --listen "127.0.0.1:$kport" --state "$work/kms-state.json" --access-key-id AKIDTEST \
    --secret-access-key test-secret > "$work/kms.log" 2>&1 &
kpid=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$dport/" && curl -s -o /dev/null "http://127.0.0.1:$kport/" && break
    sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$dport/" || { cat "$work/dynalite.log"; fail "dynalite did not start"; }
curl -s -o /dev/null "http://127.0.0.1:$kport/" || { cat "$work/kms.log"; fail "kms-local did not start"; }

# dynalite checks only the shape of SigV4; kms-local checks it with this key.  Never ask IMDS.
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=test-secret AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI

CC_BIN="$bin" CC_WORK="$work" CC_TOOLS="$tools" CC_DDB="http://127.0.0.1:$dport" CC_KMS="http://127.0.0.1:$kport" \
    NODE_NO_WARNINGS=1 timeout 600 node "$here/chamber_auth.mjs" > "$work/driver.out" 2>&1
rc=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$work/driver.out"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/driver.out" | tail -n 1)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
    for f in "$work"/server.*.log; do [ -f "$f" ] && { echo "--- $(basename "$f") (tail)"; tail -n 8 "$f"; }; done
fi
echo "${line:-0 passed, 1 failed}"
[ $rc -eq 0 ]
