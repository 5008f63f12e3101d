#!/usr/bin/env bash
# Crash safety of anti-slashing: at least 100 times, start the real server on
# one SQLite file, load it with concurrent signing requests and SIGKILL it at a
# random moment; after each kill the database must pass integrity_check and
# hold a record for every signature a client received (crash_sigkill.mjs).
# Ends with a "FIGURES kills=... signatures_received=... all_durable=yes|no"
# line and "N passed, N failed".  CC_CRASH_ITERATIONS overrides the 100.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${CC_BIN:-$here/../../build/containment-chamber}
work=$(mktemp -d /tmp/cc-crash.XXXXXX)
trap 'rm -rf "$work"' EXIT

for tool in node sqlite3; do
    command -v "$tool" >/dev/null || { echo "FAIL setup - $tool is missing"; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$bin" ] || { echo "FAIL setup - no binary at $bin"; echo "0 passed, 1 failed"; exit 1; }
node --input-type=module -e "
import { writeInteropKeys } from '$here/slashing_msgs.mjs';
writeInteropKeys('$work/keys', 16);" || { echo "FAIL setup - keys"; echo "0 passed, 1 failed"; exit 1; }
# Ports are chosen per start by the driver (--server.listen_port/--metrics.listen_port).
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: 9000}
metrics: {listen_address: 127.0.0.1, listen_port: 3000}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: sqlite, path: $work/slashing.sqlite}
YAML
# A control run: CC_CRASH_BACKEND=noop must make this test fail.
if [ -n "${CC_CRASH_BACKEND:-}" ]; then sed -i "s/backend: sqlite/backend: $CC_CRASH_BACKEND/" "$work/config.yaml"; fi
CC_BIN="$bin" CC_WORK="$work" node "$here/crash_sigkill.mjs"
rc=$?
# Keep the evidence of a failure.
if [ $rc -ne 0 ]; then keep=/tmp/cc-crash-failed.$$; cp -r "$work" "$keep"; echo "work directory kept in $keep"; fi
exit $rc
