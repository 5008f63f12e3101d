#!/usr/bin/env bash
# Operator-quorum mode (SPEC §5, docs/chamber.md "Operator quorum") with real
# processes: dynalite 4.0.0 for the signer state table, kms-local for three
# KMS keys, signer replicas with filesystem keys.  chamber_quorum.mjs drives
# them: init 2-of-3 KMS + 2-of-3 operators (alice, bob: passphrases; carol: a
# YubiKey HMAC-SHA1 response computed in software); a registration token
# cannot be reused; all registered → signs; a second replica stops at
# kms_unsealed until its own submissions; restart → kms_unsealed, 503; one
# correct passphrase → 503; a wrong one refused and counted; the second →
# unsealed, signs; a submission older than the unseal timeout is discarded
# (signer_state.unseal_timeout_seconds = 4, the test-only override of the
# minutes); KMS keys disabled → no number of operators unseals; a restart
# during registration needs the init redone (new setup token); no passphrase,
# YubiKey secret or response, or registration token in the table or the logs.
# Prints "N passed, N failed".
set -uo pipefail
NAME=quorum
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
run_chamber_driver chamber_quorum.mjs 600
