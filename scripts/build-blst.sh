#!/usr/bin/env bash
# Builds libblst.a from the C sources that the npm package @chainsafe/blst@0.2.11
# carries (blst 0.3.10), after checking the tarball against its published
# integrity hash. Debian has no blst package; a system blst (blst.h + libblst.a
# under /usr/local or /usr) is preferred when present.
#
# Output: build/deps/blst/{include/blst.h, include/blst_aux.h, lib/libblst.a}
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/deps/blst"
pkg="@chainsafe/blst@0.2.11"
integrity="sha512-URyOLq5GtxBoxibOnd2pgLydCy0UZzbiIIBcsRAvGxAsRzjZL04TsQfwRkz5aphU3a1ebeRoMmI/HHyMCiFSQg=="

if [ -f "$out/lib/libblst.a" ] && [ -f "$out/include/blst.h" ]; then
    exit 0
fi

for prefix in /usr/local /usr; do
    if [ -f "$prefix/include/blst.h" ] && [ -f "$prefix/lib/libblst.a" ]; then
        echo "blst: using system copy under $prefix"
        mkdir -p "$out/include" "$out/lib"
        cp "$prefix/include/blst.h" "$prefix/include/blst_aux.h" "$out/include/"
        cp "$prefix/lib/libblst.a" "$out/lib/"
        exit 0
    fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "blst: fetching $pkg"
(cd "$work" && npm pack --silent "$pkg" >/dev/null)
tgz=$(ls "$work"/*.tgz)
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
    echo "blst: integrity mismatch for $pkg" >&2
    echo "  expected $integrity" >&2
    echo "  got      $got" >&2
    exit 1
fi
tar -xzf "$tgz" -C "$work"
echo "blst: building libblst.a (blst 0.3.10)"
# -ffile-prefix-map: the temporary directory's name never reaches the objects (reproducible builds).
(cd "$work/package/blst" && CFLAGS="-O3 -fPIC -ffile-prefix-map=$work=." ./build.sh >/dev/null)
mkdir -p "$out/include" "$out/lib"
cp "$work/package/blst/bindings/blst.h" "$work/package/blst/bindings/blst_aux.h" "$out/include/"
cp "$work/package/blst/libblst.a" "$out/lib/"
echo "blst: ok"
