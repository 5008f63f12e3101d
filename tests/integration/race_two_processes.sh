#!/usr/bin/env bash
# Two signer processes on ONE SQLite file, the same keys, 1,000 conflicting
# pairs (double votes, surround votes, double blocks), the two halves of each
# pair sent at the same moment one to each process: at most one half of a pair
# may be signed, and every 200 must have its record in the export
# (race_two_processes.mjs).  Ends with a "FIGURES pairs=... both_signed=..."
# line and "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${CC_BIN:-$here/../../build/containment-chamber}
work=$(mktemp -d /tmp/cc-race.XXXXXX)
trap 'rm -rf "$work"' EXIT

for tool in node sqlite3; do
    command -v "$tool" >/dev/null || { echo "FAIL setup - $tool is missing"; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$bin" ] || { echo "FAIL setup - no binary at $bin"; echo "0 passed, 1 failed"; exit 1; }
node --input-type=module -e "
import { writeInteropKeys } from '$here/slashing_msgs.mjs';
writeInteropKeys('$work/keys', 4);" || { echo "FAIL setup - keys"; echo "0 passed, 1 failed"; exit 1; }
# Ports are chosen per process by the driver (--server.listen_port/--metrics.listen_port).
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: 9000}
metrics: {listen_address: 127.0.0.1, listen_port: 3000}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: sqlite, path: $work/slashing.sqlite}
YAML
# A control run: CC_RACE_BACKEND=noop must make this test fail.
if [ -n "${CC_RACE_BACKEND:-}" ]; then sed -i "s/backend: sqlite/backend: $CC_RACE_BACKEND/" "$work/config.yaml"; fi
CC_BIN="$bin" CC_WORK="$work" node "$here/race_two_processes.mjs"
rc=$?
if [ $rc -ne 0 ]; then keep=/tmp/cc-race-failed.$$; cp -r "$work" "$keep"; echo "work directory kept in $keep"; fi
exit $rc
