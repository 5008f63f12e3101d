#!/usr/bin/env bash
# The chamber in KMS-only mode (SPEC §5) with real processes: dynalite 4.0.0
# for the signer state table, kms-local for three KMS keys, and the signer
# (filesystem keys) with signer_state.table set.  chamber_kms.mjs drives it:
# setup token logged once, `operator init` 2-of-3, restarts that unseal by
# themselves with one key disabled, sealed below the threshold (signing and
# /healthcheck 503, /upcheck 200, failing key ARNs logged), two replicas
# initialising at once (exactly one wins, both end unsealed on one master
# version), `operator seal`, and no master key or share in the table or the
# logs (the test rebuilds both itself from the stored shares with KMS).
# Prints "N passed, N failed".
set -uo pipefail
NAME=chamber
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
run_chamber_driver chamber_kms.mjs 600
