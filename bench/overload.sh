#!/usr/bin/env bash
# bench/overload.sh — backpressure under twice the signer's admission capacity.
#
# The signer admits backpressure.max_concurrent + max_queue signing requests at
# once (here 2 + 62 = 64 on 2 cores); one more is answered 503 at once.  Run 1:
# 64 keep-alive clients (exactly the capacity: the baseline latency).  Run 2:
# 128 clients (twice the capacity): the excess must get 503 fast, and the
# accepted requests must keep about the baseline latency.  The figures (p50/p99
# of the 200s and of the 503s) come from bench/loadgen's RESULT lines.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_EXTRA_CONFIG="backpressure: {max_concurrent: 2, max_queue: 62}"
export BENCH_CONNS="${BENCH_CONNS:-64 128}"
# one round each, no floor: the question is latency under overload, not the ratio
export BENCH_ROUNDS="${BENCH_ROUNDS:-1}" BENCH_NO_FLOOR="${BENCH_NO_FLOOR:-1}"
exec bench/run.sh
