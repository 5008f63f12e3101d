#!/usr/bin/env bash
# The postgres anti-slashing backend against a throwaway PostgreSQL 15 cluster on
# loopback (tests/support/postgres.sh: TLS with a CA made here, sslmode=verify-full,
# password login), in three parts:
#   a. the official EIP-3076 interchange suite through the command line
#      (slashing_interchange.sh with CC_SLASHING_BACKEND=postgres: a fresh database per case);
#   b. the C rule tests (build/tests/slashing/test_postgres with CC_PG_URL set);
#   c. three `server` processes on one database, 100 validators x 1,000 conflicting
#      requests (slashing_postgres_race.mjs): no conflicting group signed twice.
# Each part's lines are shown; its closing line is folded into this script's own
# "N passed, N failed".  Env: CC_PG_REQUESTS (per validator, default 1000),
# CC_PG_VALIDATORS (default 100), CC_PG_POOL (pool_size of each server, default 8).
# Control runs, which must make part c fail: CC_PG_RACE_BACKEND=noop (no protection at all);
# CC_PG_MUTATE_NOLOCK=1 (once the servers are up, cc_check is replaced in the database by a
# copy without its pg_advisory_xact_lock: the per-validator lock is what keeps surround votes out).
# CC_PG_PARTS="interchange unit race" (default: all three) runs only some parts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${CC_BIN:-$top/build/containment-chamber}
build=${CC_BUILD:-$(dirname "$bin")}
passed=0
failed=0

. "$top/tests/support/postgres.sh"
work=$(mktemp -d /tmp/cc-pgtest.XXXXXX)
cleanup() { pg_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$bin" ] || { echo "FAIL setup - no binary at $bin"; echo "0 passed, 1 failed"; exit 1; }
if ! pg_start; then
    echo "FAIL setup - cannot start PostgreSQL (scripts/install-deps.sh --test installs postgresql-15)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "postgres: pid $PG_PID on 127.0.0.1:$PG_PORT (TLS, verify-full)"

# Runs a part, shows its output, adds its closing "N passed, N failed" (a part without one failed).
parts=" ${CC_PG_PARTS:-interchange unit race} "
part() { # part NAME command...
    local name=$1 start=$SECONDS
    shift
    [[ $parts == *" $name "* ]] || { echo "[$name] skipped (CC_PG_PARTS)"; return 0; }
    "$@" >"$work/$name.log" 2>&1
    local rc=$?
    grep -v '"level":"info"' "$work/$name.log" | grep -vE '^[0-9]+ passed, [0-9]+ failed' |
        sed -E "/^FIGURES /!s/^/[$name] /"
    local line p=0 f=0
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/$name.log" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
    fi
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "FAIL $name exited $rc without its closing line"
    fi
    echo "[$name] $p passed, $f failed ($((SECONDS - start)) s)"
    passed=$((passed + p))
    failed=$((failed + f))
}

# a. EIP-3076 suite, a fresh database per case.
part interchange env CC_SLASHING_BACKEND=postgres CC_PG_URL="$(pg_url postgres)" CC_BIN="$bin" \
    bash "$here/slashing_interchange.sh"

# b. C rule tests on their own database.
if [ -x "$build/tests/slashing/test_postgres" ] || [[ $parts != *" unit "* ]]; then
    pg_createdb cc_unit
    part unit env CC_PG_URL="$(pg_url cc_unit)" "$build/tests/slashing/test_postgres"
else
    echo "FAIL unit - no $build/tests/slashing/test_postgres (make tests-bin)"
    failed=$((failed + 1))
fi

# c. Three signer processes on one database.
pg_createdb cc_race
node --input-type=module -e "
import { writeInteropKeys } from '$here/slashing_msgs.mjs';
writeInteropKeys('$work/keys', ${CC_PG_VALIDATORS:-100});" || { echo "FAIL setup - keys"; failed=$((failed + 1)); }
( umask 077; cat >"$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: 9000}
metrics: {listen_address: 127.0.0.1, listen_port: 3000}
network: mainnet
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: postgres, url: "$(pg_url cc_race)", pool_size: ${CC_PG_POOL:-8}}
log: {level: warn}
YAML
)
if [ -n "${CC_PG_RACE_BACKEND:-}" ]; then sed -i "s/backend: postgres/backend: $CC_PG_RACE_BACKEND/" "$work/config.yaml"; fi
after=""
if [ -n "${CC_PG_MUTATE_NOLOCK:-}" ]; then
    cat >"$work/mutate.sh" <<MUTATE
. "$top/tests/support/postgres.sh"
PG_PORT=$PG_PORT PG_SOCK=$PG_SOCK
pg_psql cc_race -tAc "SELECT pg_get_functiondef('cc_check'::regproc)" | sed '/pg_advisory_xact_lock/d' | pg_psql cc_race
echo "control: cc_check replaced by a copy without its advisory lock"
MUTATE
    after="bash $work/mutate.sh"
fi
part race env CC_BIN="$bin" CC_WORK="$work" CC_PG_AFTER_START="$after" node "$here/slashing_postgres_race.mjs"
if [ "$failed" -ne 0 ]; then
    for f in "$work"/server.*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
