#!/usr/bin/env bash
# Auth policies and tokens (SPEC §2.4) with real processes: dynalite 4.0.0 for
# the signer state table, kms-local for the KMS key, and two signer replicas
# (filesystem keys, one table).  chamber_auth.mjs drives them: open by default;
# init answers a root token; auth routes need a root token even while open;
# once a policy exists a route sweep without a token gets 401 everywhere but
# /upcheck; a policy denying VOLUNTARY_EXIT for exactly two keys blocks
# exactly that; a refused signing request writes no anti-slashing record;
# expired and revoked tokens are 401; a change made through one replica is
# enforced by the other within the refresh interval; generate-root-token;
# no token secret in the table or the logs; containment_auth_rejections_total.
# Prints "N passed, N failed".
set -uo pipefail
NAME=auth
source "$(cd "$(dirname "$0")" && pwd)/../support/chamber_env.sh"
run_chamber_driver chamber_auth.mjs 600
