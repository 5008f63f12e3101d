#!/usr/bin/env bash
# src/aws over real loopback sockets: starts the stand-ins of aws_standins.mjs
# (STS web identity, EKS Pod Identity, IMDSv2, a flaky JSON service, a KMS
# shape, and the ECS container agent on 169.254.170.2:80 inside a network namespace of the
# script's own; every signed request re-signed with @smithy/signature-v4 and compared)
# and dynalite 4.0.0, then runs tests/aws/test_aws_live against them.
# Prints the C binary's "N passed, N failed" line (tests/run.sh adds it up).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CC_BUILD=${CC_BUILD:-$top/build}
tools="$CC_BUILD/tools"
# Tools live in the main build tree when a sub-tree (asan, h-*) runs the suite.
[ -d "$tools/node_modules/dynalite" ] || tools="$top/build/tools"
bin="$CC_BUILD/tests/aws/test_aws_live"
fail() { echo "aws_live: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -d "$tools/node_modules/dynalite" ] && [ -d "$tools/node_modules/@smithy/signature-v4" ] \
    || fail "npm tools missing in $tools (run scripts/install-deps.sh --test)"
[ -x "$bin" ] || fail "$bin not built"

# The ECS relative URI always means http://169.254.170.2 (port 80). To serve it without touching the
# host's network, the whole script runs in a network namespace of its own (loopback only), where that
# address is added to lo.
if [ -z "${CC_AWS_NETNS:-}" ]; then
    command -v unshare >/dev/null && command -v ip >/dev/null \
        || fail "unshare and ip (util-linux, iproute2) are needed to stand in for the ECS agent address"
    unshare -n true 2>/dev/null || fail "cannot create a network namespace (unshare -n, needs root)"
    exec unshare -n env CC_AWS_NETNS=1 bash "$0" "$@"
fi
ip link set lo up && ip addr add 169.254.170.2/32 dev lo || fail "cannot add 169.254.170.2 to lo in the namespace"

work=$(mktemp -d "${TMPDIR:-/tmp}/cc-aws-live.XXXXXX")
spid= dpid=
cleanup() {
    [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The stand-ins print their port on the first line.
POD_TOKEN_FILE="$work/pod-token" WEB_TOKEN_FILE="$work/web-identity-token" STS_TTL=4 STANDIN_MAX_SECONDS=240 \
    ECS_LISTEN=169.254.170.2:80 \
    node "$top/tests/integration/aws_standins.mjs" --tools "$tools" > "$work/standins.out" 2> "$work/standins.err" &
spid=$!
port=
for _ in $(seq 100); do
    port=$(head -n 1 "$work/standins.out" 2>/dev/null)
    [ -n "$port" ] && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/standins.err"; fail "stand-ins did not start"; }

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

CC_AWS_ECS=169.254.170.2 CC_AWS_STANDIN="http://127.0.0.1:$port" CC_AWS_DYNALITE="http://127.0.0.1:$dport" CC_AWS_WORK="$work" "$bin"
rc=$?
if [ $rc -ne 0 ]; then echo "--- stand-ins stderr"; tail -n 20 "$work/standins.err"; fi
exit $rc
