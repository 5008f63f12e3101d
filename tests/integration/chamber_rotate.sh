#!/usr/bin/env bash
# Rotation (issue 7 parts 3-4; chamber/rotate.c, docs/chamber.md "Rotation") with real
# processes: dynalite (+ the TransactWriteItems proxy), kms-local, and the signer with a
# 2-of-3 KMS chamber and 24 keys in the DynamoDB key table.  chamber_rotate.mjs drives it
# while 4 clients sign attestations (fresh epochs) over every key without pause:
#   (i)   `operator rotate kms` to 4 new KMS keys, threshold 3: zero failed signing requests;
#         a key set that cannot encrypt is refused and the old one stays; after a restart
#         with ALL old KMS keys disabled the chamber unseals and signs, with the new ones
#         disabled (old enabled) it stays sealed;
#   (ii)  `operator rotate master`: zero failed signing requests, every key item at
#         version 2, the old version gone from the state item; a restart unseals and
#         every key signs;
#   (iii) crash safety: 20+ times, start a master rotation (or resume the one in flight),
#         SIGKILL the signer after a random 0-6 s (signer_state.rotation_test_delay_ms
#         slows each re-seal so kills land in every phase), restart: the chamber unseals,
#         every key item is at a version the state item holds, and EVERY key signs; at
#         the end the rotation completes.
# Prints "N passed, N failed".
set -uo pipefail
NAME=chamber-rotate
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
[ -d "$tools/node_modules/@chainsafe/blst" ] || fail "@chainsafe/blst missing in $tools (scripts/install-deps.sh --test)"
run_chamber_driver chamber_rotate.mjs "${ROTATE_TIMEOUT:-900}"
