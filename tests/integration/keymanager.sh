#!/usr/bin/env bash
# The Key Manager API over a real socket: starts `containment-chamber server`
# twice — once with http.key_manager_api enabled (one filesystem keystore,
# max_items_per_request 5) and once with it off — then runs keymanager.mjs
# (imports with EIP-3076 data, duplicates, bad keystores, list, delete and the
# returned interchange, signing before and after).  Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${CC_BIN:-$here/../../build/containment-chamber}
work=$(mktemp -d /tmp/cc-km.XXXXXX)
pid=; pid2=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$pid2" ] && kill "$pid2" 2>/dev/null && wait "$pid2" 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/fs" "$work/import"
# interop key 0 from the filesystem (readonly); keys 10..17 to import through the API
"$bin" keystore generate --out-dir "$work/fs" --count 1 --interop --kdf pbkdf2 --light > "$work/fs.txt" \
    && "$bin" keystore generate --out-dir "$work/import" --count 8 --interop --first 10 --kdf pbkdf2 --light \
        > "$work/import.txt" \
    || { echo "keystore generate failed"; echo "0 passed, 1 failed"; exit 1; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port=$(free_port); port2=$(free_port)
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: $port}
metrics: {enabled: false}
network: mainnet
key_sources: {filesystem: {paths: [$work/fs]}}
anti_slashing: {backend: sqlite, path: $work/slashing.sqlite}
http: {key_manager_api: {enabled: true, max_items_per_request: 5}}
YAML
cat > "$work/config2.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: $port2}
metrics: {enabled: false}
network: mainnet
anti_slashing: {backend: sqlite, path: $work/slashing2.sqlite}
YAML
"$bin" server -c "$work/config.yaml" > "$work/server.log" 2>&1 &
pid=$!
"$bin" server -c "$work/config2.yaml" > "$work/server2.log" 2>&1 &
pid2=$!
for p in "$port" "$port2"; do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$p/upcheck" >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null && kill -0 "$pid2" 2>/dev/null || break
        sleep 0.1
    done
done
CC_URL="http://127.0.0.1:$port" CC_URL_DISABLED="http://127.0.0.1:$port2" CC_WORK="$work" \
    node "$here/keymanager.mjs"
rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; tail -n 40 "$work/server.log"; fi
exit $rc
