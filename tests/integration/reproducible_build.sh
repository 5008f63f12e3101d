#!/usr/bin/env bash
# Reproducible build (issue 8 part 8): the same sources built in two checkout
# directories of different names and lengths give a byte-identical
# `containment-chamber` (sha256 compared).  The tree is copied without build/
# (and without .git) to two temporary directories; both reuse the blst
# library already built in build/deps/blst (scripts/build-blst.sh), so only
# our own sources are compiled, with -j2.  A control builds a third copy with
# one source line changed and expects a different hash (the comparison can
# fail).  Prints "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
[ -f "$top/build/deps/blst/lib/libblst.a" ] || { ko "setup" "no build/deps/blst (run scripts/build-blst.sh)"; finish; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cc-repro.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
a="$tmp/a" b="$tmp/checkout-with-a-much-longer-name/b" c="$tmp/c"
copy() {
    mkdir -p "$1" && tar -C "$top" --exclude=./build --exclude=./.git --exclude='./crash-*' -cf - . | tar -C "$1" -xf - \
        && mkdir -p "$1/build/deps" && cp -a "$top/build/deps/blst" "$1/build/deps/blst"
}
build() { # dir log
    (cd "$1" && SOURCE_DATE_EPOCH=1748736000 timeout 170 make -s -j2 BUILD=build/repro build/repro/containment-chamber) > "$2" 2>&1
}
copy "$a" && copy "$b" && copy "$c" || { ko "setup" "copying the tree"; finish; }
start=$(date +%s)
build "$a" "$tmp/a.log" || { ko "build in $a" "$(tail -5 "$tmp/a.log")"; finish; }
build "$b" "$tmp/b.log" || { ko "build in $b" "$(tail -5 "$tmp/b.log")"; finish; }
ha=$(sha256sum "$a/build/repro/containment-chamber" | cut -d' ' -f1)
hb=$(sha256sum "$b/build/repro/containment-chamber" | cut -d' ' -f1)
echo "     $a: $ha"
echo "     $b: $hb"
[ "$ha" = "$hb" ] && ok "two checkouts, one binary: sha256 $ha ($(( $(date +%s) - start )) s for both builds)" \
    || ko "the binaries differ" "$ha vs $hb"
grep -c "$tmp" "$a/build/repro/containment-chamber" > /dev/null \
    && ko "the checkout path is in the binary" || ok "no checkout path in the binary"
# Control: a changed source gives another binary (only the changed object is rebuilt: reuse a's objects).
cp -a "$a/build" "$c/" && sed -i 's/#define CC_VERSION "\(.*\)"/#define CC_VERSION "\1-changed"/' "$c/src/cli/cli.h"
build "$c" "$tmp/c.log" || { ko "build in $c" "$(tail -5 "$tmp/c.log")"; finish; }
hc=$(sha256sum "$c/build/repro/containment-chamber" | cut -d' ' -f1)
[ "$hc" != "$ha" ] && ok "control: one changed source line, another sha256 ($hc)" || ko "control: same hash after a change"
finish
