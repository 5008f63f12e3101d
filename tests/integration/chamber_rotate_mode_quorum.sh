#!/usr/bin/env bash
# Rotation KMS-only → operator quorum (issue 7 part 3: `operator rotate mode --to quorum`;
# chamber/rotate_quorum.c, rotate_next.c, docs/chamber.md "Rotation") with real processes: dynalite
# (+ the TransactWriteItems proxy), kms-local, two signers (replicas a and b) on a 2-of-3 KMS-only
# chamber with 12 keys in the DynamoDB key table.  chamber_rotate_mode_quorum.mjs checks:
#   - argument errors name the field (operators, operator_threshold, operators[1], to; CLI usage);
#   - an aborted rotation (one of two new operators registered, then SIGKILL) writes nothing;
#   - under a continuous signing load on BOTH replicas: rotate mode --to quorum (dave, erin, frank,
#     2-of-3) writes nothing until the last registration (token single-use; b does not know the
#     tokens), then the pending entry (to_mode quorum, version 2, next_wrapped, the new q_* set);
#     b follows from next_wrapped; the driver (a) is SIGKILLed mid-re-seal (keys at both
#     versions), restarts, unseals master 1 with KMS, signs every key, resumes and promotes;
#     zero failed signing requests on b through the whole rotation and on a outside its kill;
#   - after the promotion: mode quorum, version 2, new operators, no pending / next_wrapped, every
#     key item at version 2; restart → kms_unsealed, 503, KMS-only unseal does nothing, one
#     operator is not enough, dave + erin unseal and every key signs (and erin + frank on b);
#   - no passphrase or registration token in the logs or the state item.
# Prints "N passed, N failed".
set -uo pipefail
NAME=chamber-rotate-mode-quorum
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
[ -d "$tools/node_modules/@chainsafe/blst" ] || fail "@chainsafe/blst missing in $tools (scripts/install-deps.sh --test)"
run_chamber_driver chamber_rotate_mode_quorum.mjs "${ROTATE_MODE_QUORUM_TIMEOUT:-600}"
