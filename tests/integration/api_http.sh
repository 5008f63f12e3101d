#!/usr/bin/env bash
# The real binary over a real socket: starts `containment-chamber server` with
# interop keystores, a file-raw key and a broken descriptor, then runs
# api_http.mjs against it (status codes, content negotiation, anti-slashing
# through HTTP, reload).  Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${CC_BIN:-$here/../../build/containment-chamber}
work=$(mktemp -d /tmp/cc-api.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/keys" "$work/extra"
"$bin" keystore generate --out-dir "$work/keys" --count 3 --interop --kdf pbkdf2 --light > "$work/pubkeys.txt" || { echo "keystore generate failed"; echo "0 passed, 1 failed"; exit 1; }
# interop key 3 as a file-raw descriptor
cat > "$work/keys/raw.yaml" <<YAML
type: file-raw
keyType: BLS
privateKey: "0x$(node -e '
const c=require("crypto");const r=BigInt("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
const b=Buffer.alloc(32);b.writeUInt32LE(3,0);const h=c.createHash("sha256").update(b).digest();
let x=0n;for(let i=31;i>=0;i--)x=(x<<8n)|BigInt(h[i]);x%=r;console.log(x.toString(16).padStart(64,"0"));')"
YAML
printf 'type: file-keystore\nkeystoreFile: missing.json\nkeystorePasswordFile: missing.txt\n' > "$work/keys/broken.yaml"
"$bin" keystore generate --out-dir "$work/extra" --count 1 --interop --first 5 --kdf pbkdf2 --light > "$work/extra.txt"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port); mport=$(free_port)
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: $port}
metrics: {listen_address: 127.0.0.1, listen_port: $mport}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: sqlite, path: $work/slashing.sqlite}
log: {level: debug}
YAML
"$bin" server -c "$work/config.yaml" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/upcheck" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
CC_URL="http://127.0.0.1:$port" CC_METRICS_URL="http://127.0.0.1:$mport" CC_WORK="$work" node "$here/api_http.mjs"
rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; tail -n 40 "$work/server.log"; fi
exit $rc
