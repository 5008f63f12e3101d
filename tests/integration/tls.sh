#!/usr/bin/env bash
# tls.mode file over the real binary: a test CA and server/client certificates
# made with the openssl CLI, two servers (A: HTTPS; B: HTTPS that requires
# client certificates), certificate files replaced while they run (reload
# interval 1 s).  tls.mjs does the checks.  Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${CC_BIN:-$here/../../build/containment-chamber}
work=$(mktemp -d /tmp/cc-tls.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
die() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

# --- certificates: a CA, three server certificates (CN, serial differ), client certificates
pki=$work/pki
mkdir -p "$pki" "$work/a" "$work/b" "$work/keys"
ossl() { openssl "$@" 2>>"$work/openssl.log" >/dev/null; }
ca() {  # name cn
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1.key" \
        -out "$pki/$1.pem" -days 2 -subj "/CN=$2"
}
leaf() {  # name cn usage serial ca
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$2"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\n' "$3" > "$pki/$1.ext"
    ossl x509 -req -in "$pki/$1.csr" -CA "$pki/$5.pem" -CAkey "$pki/$5.key" -set_serial "$4" -days 2 \
        -extfile "$pki/$1.ext" -out "$pki/$1.pem"
}
ca ca "containment-chamber test CA" || die "openssl: cannot make the CA"
ca otherca "some other CA"
leaf srv1 "signer one" serverAuth 0x1001 ca
leaf srv2 "signer two" serverAuth 0x1002 ca
leaf srv3 "signer three" serverAuth 0x1003 ca
leaf client "validator client" clientAuth 0x2001 ca
leaf stranger "stranger" clientAuth 0x3001 otherca
[ -s "$pki/client.pem" ] && [ -s "$pki/stranger.pem" ] || { cat "$work/openssl.log"; die "openssl: cannot make the certificates"; }
for s in a b; do cp "$pki/srv1.pem" "$work/$s/cert.pem"; cp "$pki/srv1.key" "$work/$s/key.pem"; done

"$bin" keystore generate --out-dir "$work/keys" --count 1 --interop --kdf pbkdf2 --light > "$work/pubkeys.txt" \
    || die "keystore generate failed"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
start() {  # name http-port https-port extra-tls-yaml
    cat > "$work/$1/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: $2}
metrics: {enabled: false}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: sqlite, path: $work/$1/slashing.sqlite}
tls:
  mode: file
  listen_port: $3
  file: {cert_path: $work/$1/cert.pem, key_path: $work/$1/key.pem, reload_interval_seconds: 1$4}
YAML
    "$bin" server -c "$work/$1/config.yaml" > "$work/$1/server.log" 2>&1 &
    pids+=($!)
    local pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$2/upcheck" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "server $1 did not start:"; tail -n 20 "$work/$1/server.log"
    return 1
}
a_http=$(free_port); a_https=$(free_port); b_http=$(free_port); b_https=$(free_port)
start a "$a_http" "$a_https" "" || die "server A did not start"
start b "$b_http" "$b_https" ", client_ca_path: $work/pki/ca.pem" || die "server B did not start"

CC_BIN="$bin" CC_WORK="$work" A_HTTP="$a_http" A_HTTPS="$a_https" B_HTTP="$b_http" B_HTTPS="$b_https" \
    node "$here/tls.mjs"
rc=$?
if [ $rc -ne 0 ]; then
    for s in a b; do echo "--- server $s log"; tail -n 30 "$work/$s/server.log"; done
fi
exit $rc
