#!/usr/bin/env bash
# Two signer processes on ONE SQLite file, the same keys, 1,000 conflicting
# pairs (double votes, surround votes, double blocks), the two halves of each
# pair sent at the same moment one to each process: at most one half of a pair
# may be signed, and every 200 must have its record in the export
# (race_two_processes.mjs).  Ends with a "FIGURES pairs=... both_signed=..."
# line and "N passed, N failed".
set -uo pipefail
# A control run: CC_RACE_BACKEND=noop must make this test fail.
NAME=race NKEYS=4 BACKEND=${CC_RACE_BACKEND:-sqlite}
source "$(dirname "$0")/../support/slashing_setup.sh"
run_driver race_two_processes.mjs
