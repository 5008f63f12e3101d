#!/usr/bin/env bash
# The Chamber key API (SPEC §2.3; api/chamber_keys.c) with real processes:
# dynalite (+ the TransactWriteItems proxy), kms-local, and the signer with an
# initialised 2-of-3 KMS chamber and a DynamoDB key table.  chamber_keys.mjs
# drives it: flags off → 403 naming the flag; generate with an age backup
# (opened with the age CLI; the mnemonic re-derives the pubkeys with
# @chainsafe/bls-keygen) and real signatures verified with @chainsafe/blst;
# import persist true and false; restart (persisted keys sign again after
# auto-unseal, memory keys are gone); PATCH inactive/active; DELETE; seal
# (every key route and signing 503); no secret key or mnemonic in the table
# dump or the logs; docs/openapi/chamber.yaml parses and lists exactly the
# router's /api/v1/chamber routes.  Prints "N passed, N failed".
set -uo pipefail
NAME=chamber-keys
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
command -v age >/dev/null && command -v age-keygen >/dev/null || fail "age is missing (scripts/install-deps.sh --test)"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (scripts/install-deps.sh --test)"
[ -d "$tools/node_modules/@chainsafe/bls-keygen" ] || fail "@chainsafe/bls-keygen missing in $tools (scripts/install-deps.sh --test)"
"$bin" keystore generate --out-dir "$work/import" --count 3 --interop --first 20 --kdf pbkdf2 --light > "$work/ks.txt" \
    || fail "keystore generate"
run_chamber_driver chamber_keys.mjs 600
