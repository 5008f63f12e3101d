#!/usr/bin/env bash
# `make test` runs the Lodestar end-to-end harness too (about 3-4 minutes; see tests/e2e/lodestar/run.sh).
exec "$(cd "$(dirname "$0")/../e2e/lodestar" && pwd)/run.sh" "$@"
