#!/usr/bin/env bash
# Known answers from a real Lodestar 1.5.1 dev chain: replays every request of
# $CC_SHARED/e2e-lodestar/signing-bodies.jsonl (recorded against a signer, with
# its answers) through `containment-chamber server`, in file order, against one
# fresh SQLite database, and checks each answer:
#   - GET publicKeys: the same set of keys (order is not part of the API);
#   - a recorded 200: status 200 and exactly the recorded signature;
#   - a recorded 412 (a double vote on a target signed earlier in the file): 412.
# The chain is the one `lodestar dev` builds: minimal preset, 8 interop keys,
# fork versions 00000001/01000001/02000001 with ALTAIR at epoch 0 and BELLATRIX
# at epoch 1 (the recording's BELLATRIX block is at slot 8), GVR from the
# bodies' fork_info.  Prints "ok|FAIL <line> <type>" and "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${CC_BIN:-$here/../../build/containment-chamber}
shared=${CC_SHARED:-$here/../../../shared}
bodies=$shared/e2e-lodestar/signing-bodies.jsonl
work=$(mktemp -d /tmp/cc-lsbodies.XXXXXX)
pid=
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi; rm -rf "$work"; }
trap cleanup EXIT

if [ ! -r "$bodies" ]; then echo "FAIL setup - $bodies is missing"; echo "0 passed, 1 failed"; exit 1; fi
mkdir -p "$work/keys"
"$bin" keystore generate --out-dir "$work/keys" --count 8 --interop --kdf pbkdf2 --light > "$work/pubkeys.txt" \
    || { echo "FAIL setup - keystore generate"; echo "0 passed, 1 failed"; exit 1; }

# The genesis_validators_root of the recording, from the first body that has fork_info.
gvr=$(node -e '
const fs=require("fs");
for (const l of fs.readFileSync(process.argv[1],"utf8").split("\n")) {
  if (!l.trim()) continue; const b=JSON.parse(l).request.body;
  if (b && b.fork_info) { console.log(b.fork_info.genesis_validators_root); break; }
}' "$bodies")
cat > "$work/network.yaml" <<YAML
# lodestar dev (v1.5.1) as recorded: minimal preset, altair from genesis
PRESET_BASE: minimal
CONFIG_NAME: dev
GENESIS_FORK_VERSION: 0x00000001
ALTAIR_FORK_VERSION: 0x01000001
ALTAIR_FORK_EPOCH: 0
BELLATRIX_FORK_VERSION: 0x02000001
BELLATRIX_FORK_EPOCH: 1
CAPELLA_FORK_VERSION: 0x03000001
CAPELLA_FORK_EPOCH: 18446744073709551615
YAML
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$work/config.yaml" <<YAML
server: {listen_address: 127.0.0.1, listen_port: $port}
metrics: {enabled: false}
network: $work/network.yaml
genesis_validators_root: "$gvr"
key_sources: {filesystem: {paths: [$work/keys]}}
anti_slashing: {backend: sqlite, path: $work/slashing.sqlite}
log: {level: debug}
YAML
"$bin" server -c "$work/config.yaml" > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/upcheck" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done

node - "$bodies" "http://127.0.0.1:$port" <<'JS'
const fs = require("fs");
const [file, base] = process.argv.slice(2);
const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim());
const sigOf = (text) => {
  const t = text.trim();
  if (t.startsWith("0x")) return t;
  try { return JSON.parse(t).signature; } catch { return undefined; }
};
(async () => {
  let pass = 0, fail = 0;
  for (let i = 0; i < lines.length; i++) {
    const { request: rq, response: want } = JSON.parse(lines[i]);
    const name = `line${i + 1} ${rq.body ? rq.body.type : rq.method + " " + rq.url.split("/").pop()}`;
    let status, text;
    try {
      const r = await fetch(base + rq.url, {
        method: rq.method,
        headers: { "content-type": "application/json", accept: rq.headers.accept || "*/*" },
        body: rq.body ? JSON.stringify(rq.body) : undefined,
      });
      status = r.status; text = await r.text();
    } catch (e) { status = 0; text = String(e); }
    let ok, why = "";
    if (status !== want.status) {
      ok = false; why = `status ${status}, recorded ${want.status}: ${text.slice(0, 300)}`;
    } else if (want.status !== 200) {
      ok = true;
    } else if (rq.url.endsWith("/publicKeys")) {
      const a = JSON.parse(text).slice().sort(), b = JSON.parse(want.body).slice().sort();
      ok = JSON.stringify(a) === JSON.stringify(b);
      if (!ok) why = `keys ${text} != recorded ${want.body}`;
    } else {
      const got = sigOf(text), exp = sigOf(want.body);
      ok = !!got && got === exp;
      if (!ok) why = `signature ${got} != recorded ${exp} (body ${text.slice(0, 300)})`;
    }
    if (ok) { pass++; console.log(`ok ${name}`); }
    else { fail++; console.log(`FAIL ${name}`); console.log(`  ${why}`); }
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
})();
JS
rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; tail -n 30 "$work/server.log"; fi
exit $rc
