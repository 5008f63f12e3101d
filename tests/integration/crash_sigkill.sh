#!/usr/bin/env bash
# Crash safety of anti-slashing: at least 100 times, start the real server on
# one SQLite file, load it with concurrent signing requests and SIGKILL it at a
# random moment; after each kill the database must pass integrity_check and
# hold a record for every signature a client received (crash_sigkill.mjs).
# Ends with a "FIGURES kills=... signatures_received=... all_durable=yes|no"
# line and "N passed, N failed".  CC_CRASH_ITERATIONS overrides the 100.
set -uo pipefail
# A control run: CC_CRASH_BACKEND=noop must make this test fail.
NAME=crash NKEYS=16 BACKEND=${CC_CRASH_BACKEND:-sqlite}
source "$(dirname "$0")/../support/slashing_setup.sh"
run_driver crash_sigkill.mjs
