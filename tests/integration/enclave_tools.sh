#!/usr/bin/env bash
# The enclave tools over the real binary: `pcr` against openssl-computed PCR8,
# `describe-eif` against EIFs built (and measured with node's crypto) by
# tests/support/eif_build.mjs, `attestation verify` on simulated-NSM documents
# (files, base64, tampered) and over aTLS (--url) against node TLS servers
# presenting certificates made by $CC_BUILD/tools-bin/enclave-sim.
# Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${CC_BIN:-$top/build/containment-chamber}
build=${CC_BUILD:-$(dirname "$bin")}
sim=$build/tools-bin/enclave-sim
work=$(mktemp -d /tmp/cc-enclave.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
expect() {  # name want-rc cmd... (stdout → $work/out, stderr → $work/err)
    local name=$1 want=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$name"; else bad "$name (rc $rc, want $want: $(head -c 300 "$work/err"))"; fi
}
jget() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));const v=process.argv[2].split(".").reduce((o,k)=>o==null?o:o[k],j);console.log(v===undefined?"undefined":typeof v==="object"?JSON.stringify(v):v)' "$@"; }
[ -x "$sim" ] || { echo "FAIL no $sim (make tests-bin)"; echo "0 passed, 1 failed"; exit 1; }
cd "$work"

# --- pcr: the seed page's certificate, PCR8 by openssl dgst
openssl ecparam -name secp384r1 -genkey -noout -out signing_key.pem 2>/dev/null
openssl req -new -x509 -key signing_key.pem -out signing_cert.pem -days 3650 -subj "/CN=containment-chamber" 2>/dev/null
want=$({ head -c 48 /dev/zero; openssl x509 -in signing_cert.pem -outform DER | openssl dgst -sha384 -binary; } | openssl dgst -sha384 -r | cut -d' ' -f1)
expect "pcr exits 0" 0 "$bin" pcr --signing-certificate signing_cert.pem
[ "$(jget out PCR8)" = "$want" ] && ok "pcr PCR8 = openssl's ($want)" || bad "pcr PCR8 $(cat out) != $want"
expect "pcr of a key file exits 1" 1 "$bin" pcr --signing-certificate signing_key.pem
grep -q signing_key.pem err && ok "pcr names the file" || bad "pcr error: $(cat err)"
expect "pcr without arguments exits 2" 2 "$bin" pcr

# --- describe-eif
node "$top/tests/support/eif_build.mjs" signed.eif --sign signing_cert.pem signing_key.pem --metadata > signed.json
expect "describe-eif signed exits 0" 0 "$bin" describe-eif --eif-path signed.eif
cp out described.json
for k in PCR0 PCR1 PCR2 PCR8; do
    [ "$(jget described.json Measurements.$k)" = "$(jget signed.json $k)" ] && ok "describe-eif $k matches node" \
        || bad "describe-eif $k: $(jget described.json Measurements.$k) != $(jget signed.json $k)"
done
[ "$(jget described.json Measurements.PCR8)" = "$want" ] && ok "describe-eif PCR8 = pcr's" || bad "describe-eif PCR8 != pcr"
[ "$(jget described.json IsSigned)/$(jget described.json CheckCRC)/$(jget described.json SignatureCheck)" = "true/true/true" ] \
    && ok "describe-eif IsSigned, CheckCRC, SignatureCheck" || bad "describe-eif flags: $(cat described.json)"
node "$top/tests/support/eif_build.mjs" badcrc.eif --corrupt-crc > badcrc.json
expect "describe-eif with a bad CRC exits 1" 1 "$bin" describe-eif --eif-path badcrc.eif
[ "$(jget out CheckCRC)" = "false" ] && [ "$(jget out Measurements.PCR0)" = "$(jget badcrc.json PCR0)" ] \
    && ok "describe-eif reports CheckCRC false" || bad "describe-eif bad CRC: $(cat out)"
head -c 300 signed.eif > short.eif
expect "describe-eif of a truncated file exits 1" 1 "$bin" describe-eif --eif-path short.eif

# --- attestation verify --document
p0=$(printf 'a5%.0s' $(seq 48)); p8=$(printf '8b%.0s' $(seq 48))
"$sim" doc st doc.cbor --pcr 0 "$p0" --pcr 8 "$p8" --user-data 0011 --nonce 99 || bad "enclave-sim doc"
"$sim" doc st doc.b64 --tagged --base64 --pcr 0 "$p0" || bad "enclave-sim doc --base64"
expect "verify a simulated document" 0 "$bin" attestation verify --document doc.cbor --root st/root.pem \
    --expect-pcr0 "$p0" --expect-pcr8 "$p8" --max-age 60
[ "$(jget out pcrs.8)/$(jget out user_data)/$(jget out nonce)/$(jget out public_key)" = "$p8/0011/99/null" ] \
    && ok "verify prints the fields" || bad "verify output: $(cat out)"
expect "verify base64 of a tagged document" 0 "$bin" attestation verify --document doc.b64 --root st/root.pem --expect-pcr0 "$p0"
expect "the built-in AWS root refuses the simulator's chain" 1 "$bin" attestation verify --document doc.cbor
grep -q "pinned root" err && ok "... saying cabundle[0] is not the pinned root" || bad "root message: $(cat err)"
expect "a wrong PCR0 is refused" 1 "$bin" attestation verify --document doc.cbor --root st/root.pem --expect-pcr0 "$p8"
grep -q "PCR0 does not match" err && ok "... naming PCR0" || bad "pcr message: $(cat err)"
expect "a chain expired at --at is refused" 1 "$bin" attestation verify --document doc.cbor --root st/root.pem --at $(( $(date +%s) + 5 * 86400 ))
grep -q "expired" err && ok "... naming the expiry" || bad "expiry message: $(cat err)"
cp doc.cbor tampered.cbor
# Flip every bit of one signature byte (writing a fixed value would be no change 1 time in 256).
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-10] ^= 0xff; open(sys.argv[1], "wb").write(b)' tampered.cbor
expect "a tampered signature is refused" 1 "$bin" attestation verify --document tampered.cbor --root st/root.pem
head -c 200 doc.cbor > truncated.cbor
expect "a truncated document is refused" 1 "$bin" attestation verify --document truncated.cbor --root st/root.pem
expect "no --document nor --url is a usage error" 2 "$bin" attestation verify
expect "a bad --expect-pcr0 is a usage error" 2 "$bin" attestation verify --document doc.cbor --expect-pcr0 abc

# --- attestation verify --url (aTLS)
serve() {  # name key cert → port in $port
    node -e '
const tls=require("tls"),fs=require("fs");
const s=tls.createServer({key:fs.readFileSync(process.argv[1]),cert:fs.readFileSync(process.argv[2])},c=>c.end("hi\n"));
s.listen(0,"127.0.0.1",()=>{fs.writeFileSync(process.argv[3],String(s.address().port))});
setTimeout(()=>process.exit(0),120000);' "$2" "$3" "$work/$1.port" &
    pids+=($!)
    for _ in $(seq 600); do [ -s "$work/$1.port" ] && break; sleep 0.05; done  # up to 30 s on a loaded machine
    port=$(cat "$work/$1.port" 2>/dev/null)
}
for mode in right wrong none; do
    "$sim" atls st "$mode.key" "$mode.pem" --bind "$mode" --pcr 0 "$p0" || bad "enclave-sim atls $mode"
    serve "$mode" "$mode.key" "$mode.pem"
    eval "port_$mode=$port"
done
expect "aTLS: a bound document verifies" 0 "$bin" attestation verify --url "https://127.0.0.1:$port_right" --root st/root.pem --expect-pcr0 "$p0"
expect "aTLS: unexpected PCR0 is refused" 1 "$bin" attestation verify --url "https://127.0.0.1:$port_right" --root st/root.pem --expect-pcr0 "$p8"
expect "aTLS: the AWS root refuses a simulator document" 1 "$bin" attestation verify --url "https://127.0.0.1:$port_right"
expect "aTLS: a document bound to another key is refused" 1 "$bin" attestation verify --url "https://127.0.0.1:$port_wrong" --root st/root.pem
grep -q "user_data is not SHA-256" err && ok "... naming the binding" || bad "binding message: $(cat err)"
expect "aTLS: a certificate without a document is refused" 1 "$bin" attestation verify --url "https://127.0.0.1:$port_none" --root st/root.pem
grep -q "no attestation document" err && ok "... saying so" || bad "none message: $(cat err)"
expect "aTLS: nothing listening is refused" 1 "$bin" attestation verify --url "https://127.0.0.1:1" --root st/root.pem
expect "aTLS: a non-https URL is refused" 1 "$bin" attestation verify --url "http://127.0.0.1:$port_right"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
