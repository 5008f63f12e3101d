# aws_standins.sh — sourced by integration scripts: start dynalite, the
# TransactWriteItems proxy in front of it (ddb_transact_proxy.mjs) and
# kms-local on free loopback ports.  Each start_* sets a *_pid and a URL
# variable; the caller's trap kills the PIDs (standins_stop does it).
#   needs: $work (temp dir), $tools (dir with node_modules/dynalite), node.

standins_free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

standins_wait() {  # url, log
    for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
    cat "$2"; return 1
}

start_dynalite() {  # sets dynalite_pid, dynalite_url
    local port; port=$(standins_free_port)
    node "$tools/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" --createTableMs 0 --deleteTableMs 0 \
        --updateTableMs 0 > "$work/dynalite.log" 2>&1 &
    dynalite_pid=$!
    dynalite_url="http://127.0.0.1:$port"
    standins_wait "$dynalite_url/" "$work/dynalite.log"
}

start_transact_proxy() {  # upstream url; sets proxy_pid, proxy_url
    local port; port=$(standins_free_port)
    node "$(dirname "${BASH_SOURCE[0]}")/ddb_transact_proxy.mjs" "$port" "$1" > "$work/proxy.log" 2>&1 &
    proxy_pid=$!
    proxy_url="http://127.0.0.1:$port"
    standins_wait "$proxy_url/" "$work/proxy.log"
}

start_kms_local() {  # kms-local binary; sets kms_pid, kms_url (key AKIDTEST / test-secret)
    local port; port=$(standins_free_port)
    "$1" --listen "127.0.0.1:$port" --state "$work/kms-state.json" --access-key-id AKIDTEST \
        --secret-access-key test-secret > "$work/kms.log" 2>&1 &
    kms_pid=$!
    kms_url="http://127.0.0.1:$port"
    standins_wait "$kms_url/" "$work/kms.log"
}

standins_stop() {
    local p
    for p in ${proxy_pid:-} ${kms_pid:-} ${dynalite_pid:-}; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    proxy_pid= kms_pid= dynalite_pid=
}

# dynalite checks only the shape of SigV4; kms-local checks it with this key.  Never ask IMDS.
standins_aws_env() {
    export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=test-secret AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
}
