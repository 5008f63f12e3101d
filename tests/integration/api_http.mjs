// Behaviour of the signing API over HTTP (driven by api_http.sh).
import fs from "node:fs";
import http from "node:http";

const url = process.env.CC_URL;
const work = process.env.CC_WORK;
const MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
const keys = fs.readFileSync(`${work}/pubkeys.txt`, "utf8").trim().split("\n");
const extra = fs.readFileSync(`${work}/extra.txt`, "utf8").trim();
let passed = 0, failed = 0, signRequests = 0;

async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}\n  ${e.message}`); }
}
function assert(c, msg) { if (!c) throw new Error(msg); }
const hex32 = (b) => "0x" + b.toString(16).padStart(2, "0").repeat(32);
const forkInfo = (gvr = MAINNET_GVR) => ({
  fork: { previous_version: "0x04000000", current_version: "0x05000000", epoch: "364032" },
  genesis_validators_root: gvr,
});
const att = (src, tgt, root = 1, gvr) => ({
  type: "ATTESTATION", fork_info: forkInfo(gvr),
  attestation: { slot: String(tgt * 32), index: "0", beacon_block_root: hex32(root),
    source: { epoch: String(src), root: hex32(2) }, target: { epoch: String(tgt), root: hex32(3) } },
});
const block = (slot, body = 1) => ({
  type: "BLOCK_V2", fork_info: forkInfo(),
  beacon_block: { version: "ELECTRA", block_header: { slot: String(slot), proposer_index: "5",
    parent_root: hex32(4), state_root: hex32(5), body_root: hex32(body) } },
});
// fetch() always sends an Accept header; node:http sends none unless told, as some clients do.
function rawSign(pk, body) {
  signRequests++;
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/api/v1/eth2/sign/${pk}`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST",
      headers: { "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, type: res.headers["content-type"], text }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
async function sign(pk, body, accept = "application/json") {
  signRequests++;
  const headers = { "Content-Type": "application/json" };
  if (accept) headers.Accept = accept;
  const r = await fetch(`${url}/api/v1/eth2/sign/${pk}`, { method: "POST", headers,
    body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}
function expectError(r, status, word) {
  assert(r.status === status, `status ${r.status}, want ${status}: ${r.text}`);
  const j = JSON.parse(r.text);
  assert(typeof j.error === "string", "no error message");
  if (word) assert(j.error.includes(word), `error "${j.error}" does not name ${word}`);
}
const [k0, k1, k2] = keys;

await check("upcheck", async () => {
  const r = await fetch(`${url}/upcheck`);
  assert(r.status === 200 && (await r.text()) === "OK", "upcheck");
});
await check("publicKeys lists keystores and file-raw, skips broken", async () => {
  const r = await fetch(`${url}/api/v1/eth2/publicKeys`);
  const list = await r.json();
  assert(Array.isArray(list) && list.length === 4, `got ${JSON.stringify(list)}`);
  for (const k of keys) assert(list.includes(k), `missing ${k}`);
});
await check("healthcheck UP", async () => {
  const r = await fetch(`${url}/healthcheck`);
  const j = await r.json();
  assert(r.status === 200 && j.status === "UP" && Array.isArray(j.checks), JSON.stringify(j));
});
await check("sign ATTESTATION as JSON", async () => {
  const r = await sign(k0, att(10, 11));
  assert(r.status === 200, r.text);
  assert(r.type === "application/json", `content-type ${r.type}`); // exactly: Lodestar v1.22 insists
  assert(/^0x[0-9a-f]{192}$/.test(JSON.parse(r.text).signature), r.text);
});
await check("text/plain without Accept, identical re-request allowed", async () => {
  const a = await rawSign(k0, att(10, 11));
  assert(a.status === 200 && /^0x[0-9a-f]{192}$/.test(a.text), a.text);
  assert(a.type.startsWith("text/plain"), a.type);
  const b = await sign(k0, att(10, 11), "*/*");
  assert(JSON.parse(b.text).signature === a.text, "same message, same signature");
  const c = await sign(k0, att(10, 11), "text/plain");
  assert(c.text === a.text, "text/plain accept");
});
await check("double vote is 412", async () => expectError(await sign(k0, att(10, 11, 9)), 412));
await check("surrounding vote is 412", async () => expectError(await sign(k0, att(9, 12)), 412));
await check("surrounded vote is 412", async () => {
  assert((await sign(k1, att(20, 30))).status === 200, "first");
  expectError(await sign(k1, att(21, 29)), 412);
});
await check("source > target is 412", async () => expectError(await sign(k2, att(40, 39)), 412));
await check("double block is 412, same block 200", async () => {
  const s = 364032 * 32 + 100;
  assert((await sign(k0, block(s))).status === 200, "first block");
  assert((await sign(k0, block(s))).status === 200, "identical block");
  expectError(await sign(k0, block(s, 7)), 412);
});
await check("foreign genesis_validators_root is 403", async () =>
  expectError(await sign(k2, att(1, 2, 1, hex32(0x77))), 403));
await check("unknown key is 404", async () => expectError(await sign("0x" + "a".repeat(96), att(1, 2)), 404));
await check("malformed JSON is 400", async () => expectError(await sign(k2, "{not json"), 400));
await check("wrong byte length names the field", async () => {
  const b = att(1, 2); b.attestation.beacon_block_root = "0x1234";
  expectError(await sign(k2, b), 400, "beacon_block_root");
});
await check("missing field names it", async () => {
  const b = att(1, 2); delete b.attestation.target;
  expectError(await sign(k2, b), 400, "target");
});
await check("non-decimal uint64 names it", async () => {
  const b = att(1, 2); b.attestation.slot = "0x20";
  expectError(await sign(k2, b), 400, "slot");
});
await check("unknown type is 400", async () => {
  const b = att(1, 2); b.type = "NOPE";
  expectError(await sign(k2, b), 400, "type");
});
await check("mismatched signingRoot is 400", async () => {
  const b = att(1, 2); b.signingRoot = hex32(0x11);
  expectError(await sign(k2, b), 400, "ign");
});
await check("bad pubkey in path is 400", async () => expectError(await sign("0x1234", att(1, 2)), 400));
await check("unknown route is 404", async () => {
  const r = await fetch(`${url}/api/v1/nope`);
  assert(r.status === 404, String(r.status));
});
await check("concurrent conflicting attestations: exactly one signed", async () => {
  const reqs = [];
  for (let i = 0; i < 32; i++) reqs.push(sign(k2, att(100, 101, 50 + i)));
  const rs = await Promise.all(reqs);
  const ok = rs.filter((r) => r.status === 200).length;
  const refused = rs.filter((r) => r.status === 412).length;
  assert(ok === 1 && refused === 31, `ok=${ok} refused=${refused}`);
});
await check("reload picks up a new key", async () => {
  for (const f of fs.readdirSync(`${work}/extra`)) fs.copyFileSync(`${work}/extra/${f}`, `${work}/keys/${f}`);
  const r = await fetch(`${url}/reload`, { method: "POST" });
  assert(r.status === 202, `reload ${r.status}`);
  let status;
  for (let i = 0; i < 100; i++) {
    status = await (await fetch(`${url}/reload`)).json();
    if (status.status !== "running") break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert(status.status === "completed_with_errors", JSON.stringify(status)); // broken.yaml is still there
  const list = await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json();
  assert(list.includes(extra) && list.length === 5, JSON.stringify(list));
  assert((await sign(extra, att(1, 2))).status === 200, "new key signs");
});

await check("metrics count every signing request exactly", async () => {
  const text = await (await fetch(`${process.env.CC_METRICS_URL}/metrics`)).text();
  let total = 0, refused412 = 0;
  for (const line of text.split("\n")) {
    const m = line.match(/^containment_signing_requests_total\{operation="([A-Z_0-9]+)",status="(\w+)"\} (\d+)$/);
    if (m) { total += Number(m[3]); if (m[2] === "412") refused412 += Number(m[3]); }
  }
  assert(total === signRequests, `metrics total ${total}, requests sent ${signRequests}`);
  const rej = text.match(/^containment_slashing_rejections_total (\d+)$/m);
  assert(rej && Number(rej[1]) === refused412, `rejections ${rej && rej[1]} vs 412s ${refused412}`);
  assert(/^containment_keys_active\{source="filesystem"\} 5$/m.test(text), "keys_active");
});

await check("every log line is a JSON object with ts, level and msg; no secret in the log", async () => {
  const lines = fs.readFileSync(`${work}/server.log`, "utf8").split("\n").filter((l) => l.length);
  assert(lines.length > 20, `only ${lines.length} log lines`);
  for (const [i, line] of lines.entries()) {
    let o;
    try { o = JSON.parse(line); } catch (e) { throw new Error(`line ${i + 1} is not JSON: ${line.slice(0, 120)}`); }
    assert(typeof o.ts === "string" && typeof o.level === "string" && typeof o.msg === "string",
      `line ${i + 1} lacks ts/level/msg: ${line.slice(0, 120)}`);
  }
  const raw = fs.readFileSync(`${work}/keys/raw.yaml`, "utf8").match(/0x([0-9a-f]{64})/)[1];
  assert(!lines.some((l) => l.includes(raw)), "a secret key appears in the log");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
