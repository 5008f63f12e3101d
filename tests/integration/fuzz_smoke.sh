#!/usr/bin/env bash
# The libFuzzer targets (fuzz/, docs/testing.md), briefly: builds them with clang under
# ASan + UBSan (make fuzz-bin, tree $CC_BUILD/fuzz) and runs each FUZZ_SMOKE_SECONDS
# (default 10) from its seeds and the corpus earlier runs grew.  One line per target,
# then "N passed, N failed"; a crash fails its target, the input kept under
# $CC_BUILD/fuzz/artifacts/<target>/.  `make fuzz` is the long run.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
build=${CC_BUILD:-$top/build}
rel=${build#"$top"/}
if [ "$rel" = "$build" ]; then echo "CC_BUILD $build is outside $top"; echo "0 passed, 1 failed"; exit 1; fi
if ! command -v clang >/dev/null; then echo "clang missing (scripts/install-deps.sh --test)"; echo "0 passed, 1 failed"; exit 1; fi
unset MAKEFLAGS MFLAGS MAKELEVEL
if ! make --no-print-directory -j"$(nproc)" FUZZ_BUILD="$rel/fuzz" fuzz-bin >"$build/fuzz-build.log" 2>&1; then
    tail -n 30 "$build/fuzz-build.log"
    echo "fuzz targets did not build (log $build/fuzz-build.log)"
    echo "0 passed, 1 failed"
    exit 1
fi
FUZZ_BUILD="$rel/fuzz" FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-10} fuzz/run.sh smoke
