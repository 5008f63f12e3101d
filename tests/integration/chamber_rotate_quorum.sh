#!/usr/bin/env bash
# Operator-set rotation (issue 7 part 3: `operator rotate quorum`, alias `rotate unseal`;
# chamber/rotate_quorum.c, docs/chamber.md "Rotation") with real processes: dynalite (+ the
# TransactWriteItems proxy), kms-local, and a signer with a 2-of-3 KMS + 2-of-3 operator
# (alice, bob, carol) chamber and 12 keys in the DynamoDB key table.
# chamber_rotate_quorum.mjs drives it while 4 clients sign attestations over every key:
#   (i)   rotate quorum → dave, erin, frank (2-of-3) from the replica that ran init: nothing is
#         written until all three registered (the table keeps the old set, a token cannot be
#         reused), then ONE write switches q_* (revision + 1; master version, check, KMS shares
#         unchanged); zero failed signing requests; every key signs;
#         restart → kms_unsealed; alice's and bob's passphrases are refused (and alice's under
#         dave's name is 403), dave + erin unseal, every key signs;
#   (ii)  an aborted rotation (rotate/unseal → gina, hank, ivan; only gina registers; restart):
#         the table keeps dave, erin, frank, gina does not unseal, the tokens are void, erin +
#         frank unseal; zero failed signing requests while it awaited registration;
#   (iii) a seal aborts a rotation in flight (tokens void, table unchanged);
#   (v)   `operator rotate mode --to kms` (to quorum without operators: 400; on a quorum chamber: 409) under load on the rotating replica and
#         on a second one unsealed by operators: zero failed signing requests; a third replica
#         left at kms_unsealed unseals with KMS alone after the promotion; the item is mode kms
#         with no q_* attribute, every key item at version 2; restart → KMS alone unseals, an
#         operator's passphrase is refused (409), every key signs;
#   (vi)  rotate mode killed (SIGKILL) during the re-seal (keys at both versions): restart →
#         kms_unsealed, two operators unseal, every key signs, the rotation resumes by itself
#         and completes with zero failed signing requests; restart → KMS alone, every key signs;
#   (iv)  a KMS-only chamber refuses rotate quorum (409);
#   no passphrase or registration token in the logs or the state item.
# Prints "N passed, N failed".
set -uo pipefail
NAME=chamber-rotate-quorum
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
[ -d "$tools/node_modules/@chainsafe/blst" ] || fail "@chainsafe/blst missing in $tools (scripts/install-deps.sh --test)"
run_chamber_driver chamber_rotate_quorum.mjs "${ROTATE_QUORUM_TIMEOUT:-600}"
