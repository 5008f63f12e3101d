#!/usr/bin/env bash
# The DynamoDB key source (keys/dynamodb.c) against dynalite 4.0.0:
#  1. build/tests/keys/test_dynamodb_source, through tests/support/ddb_transact_proxy.mjs
#     (dynalite has no TransactWriteItems; the proxy adds it): table + index creation,
#     put_new all-or-nothing and CC_ECONFLICT with the index, set_status / delete /
#     get / generation, load + sign, refresh on deactivate / add / delete / poke, seal
#     wipes and unseal reloads, blobs copied between items or sealed under another
#     master version refused and counted, read_all of 10,000 records over the shards;
#  2. keys_dynamodb.mjs: the real signer with kms-local and an initialised chamber —
#     create-tables, start-up refusals, keys written to the table appear, sign, leave
#     when deactivated, vanish on seal and return on unseal; metrics and /healthcheck.
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
ctest="$CC_BUILD/tests/keys/test_dynamodb_source"
fail() { echo "FAIL setup - $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail "no binary at $bin"
[ -x "$kms" ] || fail "no kms-local at $kms (make build)"
[ -x "$ctest" ] || fail "no $ctest (make tests-bin)"
[ -d "$tools/node_modules/dynalite" ] && [ -d "$tools/node_modules/@aws-sdk/client-kms" ] \
    && [ -d "$tools/node_modules/@chainsafe/blst" ] || fail "npm tools missing in $tools (run scripts/install-deps.sh --test)"
command -v node >/dev/null || fail "node is missing"

work=$(mktemp -d "${TMPDIR:-/tmp}/cc-keys-ddb.XXXXXX")
# shellcheck source=../support/aws_standins.sh
. "$top/tests/support/aws_standins.sh"
cleanup() { standins_stop; rm -rf "$work"; }
trap cleanup EXIT
standins_aws_env
start_dynalite || fail "dynalite did not start"
start_transact_proxy "$dynalite_url" || fail "the transaction proxy did not start"
start_kms_local "$kms" || fail "kms-local did not start"

pass=0 failn=0
add() {  # log file
    local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -z "$line" ]; then failn=$((failn + 1)); return; fi
    pass=$((pass + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
    failn=$((failn + $(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')))
}

CC_DYNALITE_ENDPOINT="$proxy_url" timeout 300 "$ctest" > "$work/ctest.out" 2> "$work/ctest.err"
rc1=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$work/ctest.out"
[ $rc1 -ne 0 ] && tail -n 20 "$work/ctest.err"
add "$work/ctest.out"
[ $rc1 -ne 0 ] && ! grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$work/ctest.out" && failn=$((failn + 1))

CC_BIN="$bin" CC_WORK="$work" CC_TOOLS="$tools" CC_DDB="$dynalite_url" CC_KMS="$kms_url" \
    NODE_NO_WARNINGS=1 timeout 300 node "$here/keys_dynamodb.mjs" > "$work/driver.out" 2>&1
rc2=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$work/driver.out"
if [ $rc2 -ne 0 ] && [ -f "$work/server.log" ]; then echo "--- server.log (tail)"; tail -n 12 "$work/server.log"; fi
add "$work/driver.out"
[ $rc2 -ne 0 ] && ! grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' "$work/driver.out" && failn=$((failn + 1))

echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
