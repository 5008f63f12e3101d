# Sourced by crash_sigkill.sh and race_two_processes.sh: the shared set-up of an
# anti-slashing attack run.  Set NAME (temp-dir prefix), NKEYS and BACKEND
# (sqlite, or noop for a control run that must fail) before sourcing; it
# defines here, bin and work (removed at exit), writes NKEYS interop file-raw
# keys and a config with one SQLite file.  Ports are chosen by the drivers
# (--server.listen_port/--metrics.listen_port).
here=$(cd "$(dirname "$0")" && pwd) # the sourcing script's folder: tests/integration
bin=${CC_BIN:-$here/../../build/containment-chamber}
work=$(mktemp -d "/tmp/cc-$NAME.XXXXXX")
trap 'rm -rf "$work"' EXIT

for tool in node sqlite3; do
    command -v "$tool" >/dev/null || { echo "FAIL setup - $tool is missing"; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$bin" ] || { echo "FAIL setup - no binary at $bin"; echo "0 passed, 1 failed"; exit 1; }
node --input-type=module -e "
import { writeInteropKeys } from '$here/slashing_msgs.mjs';
writeInteropKeys('$work/keys', $NKEYS);" || { echo "FAIL setup - keys"; echo "0 passed, 1 failed"; exit 1; }
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: 9000}
metrics: {listen_address: 127.0.0.1, listen_port: 3000}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: ${BACKEND:-sqlite}, path: $work/slashing.sqlite}
YAML

# Runs the driver; keeps the work directory of a failed run as evidence.
run_driver() {  # driver.mjs
    CC_BIN="$bin" CC_WORK="$work" node "$here/$1"
    local rc=$?
    if [ $rc -ne 0 ]; then local keep=/tmp/cc-$NAME-failed.$$; cp -r "$work" "$keep"; echo "work directory kept in $keep"; fi
    return $rc
}
