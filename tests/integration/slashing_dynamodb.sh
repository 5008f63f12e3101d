#!/usr/bin/env bash
# The dynamodb anti-slashing backend against dynalite 4.0.0 (a fresh one on a
# free loopback port):
#   1. `dynamodb create-tables`: creates, is idempotent, refuses a table with
#      another key schema (naming it);
#   2. the official EIP-3076 interchange suite through the command line
#      (slashing_interchange.sh with CC_SLASHING_BACKEND=dynamodb: a fresh
#      table per case);
#   3. three signer processes on one table, CC_DDB_VALIDATORS [100] validators,
#      CC_DDB_REQUESTS [30] conflicting requests per validator spread over the
#      three (slashing_dynamodb_race.mjs): no conflicting group is ever signed
#      twice.  Prints "FIGURES backend=dynamodb processes=3 ...".
# dynalite does a few hundred conditional writes a second, so the suite runs
# 30 requests per validator (3,000 in all); docs/testing.md records a run with
# CC_DDB_REQUESTS=1000 (100,000 requests).
# Closes with "N passed, N failed" (the sum of the parts).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${CC_BIN:-$top/build/containment-chamber}
CC_BUILD=${CC_BUILD:-$top/build}
tools="$CC_BUILD/tools"
[ -d "$tools/node_modules/dynalite" ] || tools="$top/build/tools"
fail() { echo "FAIL setup - $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail "no binary at $bin"
[ -d "$tools/node_modules/dynalite" ] || fail "dynalite missing in $tools (run scripts/install-deps.sh --test)"
command -v node >/dev/null || fail "node is missing"

work=$(mktemp -d "${TMPDIR:-/tmp}/cc-ddb.XXXXXX")
dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
dport=$(free_port)
node "$tools/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$dport" --createTableMs 0 --deleteTableMs 0 \
    --updateTableMs 0 > "$work/dynalite.log" 2>&1 &
dpid=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$dport/" && break
    kill -0 "$dpid" 2>/dev/null || break
    sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$dport/" || { cat "$work/dynalite.log"; fail "dynalite did not start"; }
endpoint="http://127.0.0.1:$dport"
# dynalite checks only the shape of SigV4; any key will do.  Never ask IMDS.
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=test-secret AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# ---- 1. create-tables ---------------------------------------------------------------
cat > "$work/ct.yaml" <<YAML
anti_slashing: {backend: dynamodb, table: cc-create}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "$endpoint"}}
YAML
out1=$("$bin" dynamodb create-tables -c "$work/ct.yaml" 2>&1); rc1=$?
out2=$("$bin" dynamodb create-tables -c "$work/ct.yaml" 2>&1); rc2=$?
if [ $rc1 -eq 0 ] && [[ $out1 == *"created cc-create"* ]] && [ $rc2 -eq 0 ] && [[ $out2 == *"exists  cc-create"* ]]; then
    ok "create-tables creates the table, then finds it (idempotent)"
else
    bad "create-tables: rc $rc1 '$out1' / rc $rc2 '$out2'"
fi
# A table with another key schema, made by hand (dynalite wants only the shape of an Authorization header).
d=$(date -u +%Y%m%dT%H%M%SZ)
curl -s -o "$work/wrong.out" -X POST "$endpoint/" -H "Content-Type: application/x-amz-json-1.0" \
    -H "X-Amz-Target: DynamoDB_20120810.CreateTable" -H "X-Amz-Date: $d" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/${d:0:8}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00" \
    -d '{"TableName":"cc-wrong","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}'
sed 's/cc-create/cc-wrong/' "$work/ct.yaml" > "$work/wrong.yaml"
out3=$("$bin" dynamodb create-tables -c "$work/wrong.yaml" 2>&1); rc3=$?
if [ $rc3 -eq 1 ] && [[ $out3 == *"cc-wrong"* ]] && [[ $out3 == *"wrong key schema"* ]]; then
    ok "create-tables refuses a table with another key schema, naming it"
else
    bad "create-tables on a wrong schema: rc $rc3 '$out3' ($(cat "$work/wrong.out"))"
fi
out4=$(printf 'anti_slashing: {backend: dynamodb, table: cc-missing}\naws: {endpoint_urls: {dynamodb: "%s"}}\n' \
    "$endpoint" > "$work/missing.yaml"; "$bin" slashing export -c "$work/missing.yaml" --file - 2>&1); rc4=$?
if [ $rc4 -eq 1 ] && [[ $out4 == *"cc-missing does not exist"* ]] && [[ $out4 == *"create-tables"* ]]; then
    ok "a missing table stops start-up, saying how to create it"
else
    bad "open on a missing table: rc $rc4 '$out4'"
fi

# ---- 1b. a crash between the two writes leaves the table stricter ----------------------------
# The state such a crash leaves is made by hand (raw DynamoDB calls), then the command line checks.
ddb_raw() { # ddb_raw OPERATION JSON
    local d; d=$(date -u +%Y%m%dT%H%M%SZ)
    curl -s -o /dev/null -w '%{http_code}' -X POST "$endpoint/" -H "Content-Type: application/x-amz-json-1.0" \
        -H "X-Amz-Target: DynamoDB_20120810.$1" -H "X-Amz-Date: $d" \
        -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/${d:0:8}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00" \
        -d "$2"
}
sed 's/cc-create/cc-crash/' "$work/ct.yaml" > "$work/crash.yaml"
"$bin" dynamodb create-tables -c "$work/crash.yaml" > /dev/null 2>&1 || fail "create-tables cc-crash"
PK=0x$(printf 'b2%.0s' $(seq 48))
root() { printf '0x%064x' "$1"; }
chk_att() { "$bin" slashing check-attestation -c "$work/crash.yaml" --pubkey "$PK" --source-epoch "$1" \
    --target-epoch "$2" --signing-root "$(root "$3")" > /dev/null 2>&1; echo $?; }
chk_blk() { "$bin" slashing check-block -c "$work/crash.yaml" --pubkey "$PK" --slot "$1" \
    --signing-root "$(root "$2")" > /dev/null 2>&1; echo $?; }
chk_att 1 2 1 > /dev/null   # binds the table to mainnet
# (a) crashed after write 1 (marks raised to source 10 / target 20, slot 100), before write 2 (no records):
ddb_raw UpdateItem '{"TableName":"cc-crash","Key":{"pk":{"S":"'$PK'"},"sk":{"S":"W"}},"UpdateExpression":"SET max_source = :s, max_target = :t, max_block_slot = :b","ExpressionAttributeValues":{":s":{"N":"10"},":t":{"N":"20"},":b":{"N":"100"}}}' > /dev/null
got="$(chk_att 10 20 7) $(chk_att 10 20 8) $(chk_blk 100 7) $(chk_att 10 21 7) $(chk_blk 101 7)"
if [ "$got" = "3 3 3 0 0" ]; then
    ok "crash after the mark, before the record: the message (even its identical retry) is refused, the next one allowed"
else
    bad "crash after the mark: exit codes '$got', expected '3 3 3 0 0'"
fi
# (b) a record above the marks (an import that stopped between its records and its marks):
ddb_raw PutItem '{"TableName":"cc-crash","Item":{"pk":{"S":"'$PK'"},"sk":{"S":"A#00000000000000000030"},"source_epoch":{"N":"10"},"target_epoch":{"N":"30"},"signing_root":{"S":"'$(root 9)'"}}}' > /dev/null
got="$(chk_att 10 30 5) $(chk_att 10 29 5) $(chk_att 10 30 9) $(chk_att 11 31 5)"
if [ "$got" = "3 3 0 0" ]; then
    ok "a record above the marks: another root there is refused and still raises the mark; its own root is a re-sign"
else
    bad "record above the marks: exit codes '$got', expected '3 3 0 0'"
fi

# ---- 2. the EIP-3076 suite ------------------------------------------------------------
CC_SLASHING_BACKEND=dynamodb CC_DYNAMODB_ENDPOINT="$endpoint" CC_BIN="$bin" \
    bash "$here/slashing_interchange.sh" > "$work/interchange.out" 2>&1
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/interchange.out" | tail -n 1)
grep -E '^(FAIL|  )' "$work/interchange.out" | head -n 30
p=$(echo "${line:-0 passed, 1 failed}" | sed -E 's/^([0-9]+) passed.*/\1/')
f=$(echo "${line:-0 passed, 1 failed}" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
echo "interchange suite on dynamodb: $p passed, $f failed"
passed=$((passed + p)); failed=$((failed + f))

# ---- 3. three processes, one table ---------------------------------------------------------
validators=${CC_DDB_VALIDATORS:-100}
node --input-type=module -e "
import { writeInteropKeys } from '$here/slashing_msgs.mjs';
writeInteropKeys('$work/keys', $validators);" || fail "keys"
cat > "$work/race.yaml" <<YAML
anti_slashing: {backend: dynamodb, table: cc-race}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "$endpoint"}}
YAML
"$bin" dynamodb create-tables -c "$work/race.yaml" > /dev/null 2>&1 || fail "create-tables cc-race"
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: 9000}
metrics: {listen_address: 127.0.0.1, listen_port: 3000}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
backpressure: {max_queue: 4096}
anti_slashing: {backend: dynamodb, table: cc-race}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "$endpoint"}}
YAML
# A control run: CC_DDB_RACE_BACKEND=noop must make this part fail.
if [ -n "${CC_DDB_RACE_BACKEND:-}" ]; then sed -i "s/backend: dynamodb/backend: $CC_DDB_RACE_BACKEND/" "$work/config.yaml"; fi
CC_BIN="$bin" CC_WORK="$work" CC_DDB_VALIDATORS="$validators" node "$here/slashing_dynamodb_race.mjs" \
    > "$work/race.out" 2>&1
cat "$work/race.out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/race.out" | tail -n 1)
p=$(echo "${line:-0 passed, 1 failed}" | sed -E 's/^([0-9]+) passed.*/\1/')
f=$(echo "${line:-0 passed, 1 failed}" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
passed=$((passed + p)); failed=$((failed + f))
if [ "$f" -ne 0 ] || [ -z "$line" ]; then
    for i in 0 1 2; do echo "--- server $i log (tail)"; tail -n 5 "$work/server.$i.log" 2>/dev/null; done
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
