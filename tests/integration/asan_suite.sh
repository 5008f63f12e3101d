#!/usr/bin/env bash
# The whole C test suite again under AddressSanitizer + UndefinedBehaviorSanitizer:
# `make asan` in its own tree ($CC_BUILD/asan, gcc -O1 -fsanitize=address,undefined,
# no recovery: any report fails its test binary).  Its closing "N passed, N failed"
# (the sum over every C test binary) is this script's own.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
build=${CC_BUILD:-$top/build}
rel=${build#"$top"/}
if [ "$rel" = "$build" ]; then echo "CC_BUILD $build is outside $top"; echo "0 passed, 1 failed"; exit 1; fi
unset MAKEFLAGS MFLAGS MAKELEVEL
make --no-print-directory -j"$(nproc)" ASAN_BUILD="$rel/asan" asan 2>&1 |
    grep -vE '^(gcc|cc|ar) ' # compiler lines are noise; failures and every suite line stay
exit "${PIPESTATUS[0]}"
