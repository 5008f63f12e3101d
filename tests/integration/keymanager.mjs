// The Key Manager API over HTTP (driven by keymanager.sh), with requests shaped
// as Lighthouse's validator manager sends them: keystores and the EIP-3076
// interchange as JSON-encoded strings, a Bearer token, Content-Type JSON.
import fs from "node:fs";

const url = process.env.CC_URL;
const disabledUrl = process.env.CC_URL_DISABLED;
const work = process.env.CC_WORK;
const MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
const fsKey = fs.readFileSync(`${work}/fs.txt`, "utf8").trim();
const imp = fs.readFileSync(`${work}/import.txt`, "utf8").trim().split("\n"); // interop keys 10..17
const keystore = (pk) => fs.readFileSync(`${work}/import/keystore-${pk}.json`, "utf8");
const password = (pk) => fs.readFileSync(`${work}/import/keystore-${pk}.password`, "utf8");
let passed = 0, failed = 0;

async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}\n  ${e.message}`); }
}
function assert(c, msg) { if (!c) throw new Error(msg); }
const hex32 = (b) => "0x" + b.toString(16).padStart(2, "0").repeat(32);
const att = (src, tgt, root = 1) => ({
  type: "ATTESTATION",
  fork_info: { fork: { previous_version: "0x04000000", current_version: "0x05000000", epoch: "364032" },
    genesis_validators_root: MAINNET_GVR },
  attestation: { slot: String(tgt * 32), index: "0", beacon_block_root: hex32(root),
    source: { epoch: String(src), root: hex32(2) }, target: { epoch: String(tgt), root: hex32(3) } },
});
async function sign(pk, body) {
  const r = await fetch(`${url}/api/v1/eth2/sign/${pk}`, { method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}
// As Lighthouse's eth2 client: JSON body, Bearer token (the signer is open by default and ignores it).
async function km(method, body, base = url) {
  const init = { method, headers: { Authorization: "Bearer api-token-0x00", Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const r = await fetch(`${base}/eth/v1/keystores`, init);
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* checked by callers */ }
  return { status: r.status, type: r.headers.get("content-type"), text, json };
}
const importReq = (pks, extra = {}) => ({ keystores: pks.map(keystore), passwords: pks.map(password), ...extra });
const interchange = (gvr, data) => JSON.stringify({
  metadata: { interchange_format_version: "5", genesis_validators_root: gvr }, data });
function statuses(r) {
  assert(r.status === 200, `status ${r.status}: ${r.text}`);
  assert(Array.isArray(r.json?.data), `no data: ${r.text}`);
  return r.json.data.map((d) => d.status);
}
function expectMessage(r, status, word) {
  assert(r.status === status, `status ${r.status}, want ${status}: ${r.text}`);
  assert(r.type === "application/json", `content-type ${r.type}`);
  assert(typeof r.json?.message === "string" && r.json.error === undefined, `want {message}: ${r.text}`);
  if (word) assert(r.json.message.includes(word), `message "${r.json.message}" does not name ${word}`);
}
const listed = async () => (await km("GET")).json.data;
const [k10, k11, k12, k13, k14, k15, k16, k17] = imp;

await check("GET lists the filesystem key as readonly", async () => {
  const r = await km("GET");
  assert(r.status === 200 && r.type === "application/json", r.text);
  const d = r.json.data;
  assert(d.length === 1 && d[0].validating_pubkey === fsKey && d[0].readonly === true &&
    d[0].derivation_path === "", r.text);
});

// k10's history says it attested source 10 → target 20 and proposed slot 100.
const k10History = interchange(MAINNET_GVR, [{ pubkey: k10,
  signed_blocks: [{ slot: "100", signing_root: hex32(0xaa) }],
  signed_attestations: [{ source_epoch: "10", target_epoch: "20", signing_root: hex32(0xbb) }] }]);

await check("import with slashing_protection → imported", async () => {
  const r = await km("POST", importReq([k10], { slashing_protection: k10History }));
  assert(JSON.stringify(statuses(r)) === '["imported"]', r.text);
});
await check("imported key signs a fresh attestation", async () => {
  const r = await sign(k10, att(20, 21));
  assert(r.status === 200 && /^0x[0-9a-f]{192}$/.test(JSON.parse(r.text).signature), r.text);
});
await check("attestations the imported history makes slashable → 412", async () => {
  for (const [s, t] of [[10, 20], [15, 20], [5, 15], [9, 30]]) {
    const r = await sign(k10, att(s, t, 7));
    assert(r.status === 412, `(${s},${t}) → ${r.status} ${r.text}`);
  }
});
await check("re-import of a held key → duplicate, the key keeps signing", async () => {
  const r = await km("POST", importReq([k10]));
  assert(JSON.stringify(statuses(r)) === '["duplicate"]', r.text);
  assert((await sign(k10, att(20, 21))).status === 200, "identical re-sign");
});
await check("a filesystem key's keystore → duplicate", async () => {
  const ks = fs.readFileSync(`${work}/fs/keystore-${fsKey}.json`, "utf8");
  const pw = fs.readFileSync(`${work}/fs/keystore-${fsKey}.password`, "utf8");
  const r = await km("POST", { keystores: [ks], passwords: [pw] });
  assert(JSON.stringify(statuses(r)) === '["duplicate"]', r.text);
  const d = (await listed()).find((x) => x.validating_pubkey === fsKey);
  assert(d && d.readonly === true, "still the filesystem key");
});
await check("batch: bad password and malformed keystore are errors, the others import", async () => {
  const body = importReq([k11, k12, k13]);
  body.passwords[1] = "not the password";
  body.keystores.splice(2, 0, "{this is not a keystore");
  body.passwords.splice(2, 0, "x");
  const r = await km("POST", body);
  const st = statuses(r);
  assert(JSON.stringify(st) === '["imported","error","error","imported"]', r.text);
  assert(/password/.test(r.json.data[1].message) && r.json.data[1].message.includes("keystores[1]"), r.text);
  assert(r.json.data[2].message.includes("keystores[2]"), r.text);
  assert(r.json.data[0].message === undefined, "no message on success");
  const keys = (await listed()).map((x) => x.validating_pubkey);
  assert(keys.includes(k11) && keys.includes(k13) && !keys.includes(k12), JSON.stringify(keys));
  assert((await sign(k11, att(1, 2))).status === 200 && (await sign(k13, att(1, 2))).status === 200, "sign");
  assert((await sign(k12, att(1, 2))).status === 404, "k12 not held");
});
await check("a keystore given as an object, not a string → error for that item", async () => {
  const r = await km("POST", { keystores: [JSON.parse(keystore(k12))], passwords: [password(k12)] });
  assert(JSON.stringify(statuses(r)) === '["error"]', r.text);
});
await check("interchange for another genesis_validators_root → 400, nothing imported", async () => {
  const other = interchange(hex32(0x77), [{ pubkey: k14, signed_blocks: [],
    signed_attestations: [{ source_epoch: "1", target_epoch: "2" }] }]);
  const r = await km("POST", importReq([k14], { slashing_protection: other }));
  expectMessage(r, 400, "genesis_validators_root");
  assert(!(await listed()).some((x) => x.validating_pubkey === k14), "k14 listed");
  assert((await sign(k14, att(1, 2))).status === 404, "k14 signs");
});
await check("malformed slashing_protection → 400, nothing imported", async () => {
  for (const sp of ["{not json", interchange(MAINNET_GVR, [{ pubkey: k14 }]), JSON.parse(k10History)]) {
    const r = await km("POST", importReq([k14], { slashing_protection: sp }));
    expectMessage(r, 400, "slashing_protection");
  }
  assert(!(await listed()).some((x) => x.validating_pubkey === k14), "k14 listed");
});
await check("keystores and passwords of different lengths → 400", async () => {
  const body = importReq([k14, k15]); body.passwords.pop();
  expectMessage(await km("POST", body), 400, "passwords");
});
await check("more than max_items_per_request → 400", async () => {
  const six = [k10, k11, k12, k13, k14, k15];
  expectMessage(await km("POST", importReq(six)), 400, "max_items_per_request");
  expectMessage(await km("DELETE", { pubkeys: six }), 400, "max_items_per_request");
});
await check("malformed bodies → 400 {message}", async () => {
  expectMessage(await km("POST", "{nope"), 400);
  expectMessage(await km("POST", { passwords: [] }), 400, "keystores");
  expectMessage(await km("DELETE", "[]"), 400);
  expectMessage(await km("DELETE", { pubkeys: ["0x1234"] }), 400, "pubkeys[0]");
});
await check("two concurrent imports of one key: one imported, one duplicate", async () => {
  const [a, b] = await Promise.all([km("POST", importReq([k15])), km("POST", importReq([k15]))]);
  const got = [...statuses(a), ...statuses(b)].sort();
  assert(JSON.stringify(got) === '["duplicate","imported"]', `${a.text} ${b.text}`);
});
await check("GET lists every key with readonly flags and derivation paths", async () => {
  const d = await listed();
  const by = Object.fromEntries(d.map((x) => [x.validating_pubkey, x]));
  assert(d.length === 5, JSON.stringify(d)); // fs, k10, k11, k13, k15
  assert(by[fsKey].readonly === true, "fs readonly");
  for (const [k, i] of [[k10, 10], [k11, 11], [k13, 13], [k15, 15]]) {
    assert(by[k] && by[k].readonly === false, `${k} readonly`);
    assert(by[k].derivation_path === `m/12381/3600/${i}/0/0`, `path ${by[k].derivation_path}`);
  }
  const pub = await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json();
  assert(pub.length === 5 && pub.includes(k10) && pub.includes(k15), JSON.stringify(pub));
});

let firstExport;
await check("DELETE → deleted, with an interchange holding the attestation just signed", async () => {
  const r = await km("DELETE", { pubkeys: [k10] });
  assert(JSON.stringify(statuses(r)) === '["deleted"]', r.text);
  assert(typeof r.json.slashing_protection === "string", "slashing_protection is a JSON-encoded string");
  const ic = JSON.parse(r.json.slashing_protection);
  firstExport = ic;
  assert(ic.metadata.interchange_format_version === "5" && ic.metadata.genesis_validators_root === MAINNET_GVR,
    JSON.stringify(ic.metadata));
  assert(ic.data.length === 1 && ic.data[0].pubkey === k10, JSON.stringify(ic.data));
  const atts = ic.data[0].signed_attestations;
  assert(atts.some((a) => a.source_epoch === "20" && a.target_epoch === "21" && /^0x[0-9a-f]{64}$/.test(a.signing_root)),
    `no (20,21): ${JSON.stringify(atts)}`);
  assert(atts.some((a) => a.source_epoch === "10" && a.target_epoch === "20"), "imported attestation kept");
  assert(ic.data[0].signed_blocks.some((b) => b.slot === "100"), "imported block kept");
});
await check("a deleted key cannot sign → 404, and is no longer listed", async () => {
  assert((await sign(k10, att(30, 31))).status === 404, "signed after delete");
  assert(!(await listed()).some((x) => x.validating_pubkey === k10), "still listed");
  const pub = await (await fetch(`${url}/api/v1/eth2/publicKeys`)).json();
  assert(!pub.includes(k10), "still in publicKeys");
});
await check("second DELETE → not_active with the same slashing data", async () => {
  const r = await km("DELETE", { pubkeys: [k10] });
  assert(JSON.stringify(statuses(r)) === '["not_active"]', r.text);
  assert(JSON.stringify(JSON.parse(r.json.slashing_protection)) === JSON.stringify(firstExport), "export differs");
});
await check("DELETE of an unknown key → not_found; of a filesystem key → error (readonly)", async () => {
  const unknown = "0x" + "a".repeat(96);
  const r = await km("DELETE", { pubkeys: [unknown, fsKey, k11] });
  assert(JSON.stringify(statuses(r)) === '["not_found","error","deleted"]', r.text);
  assert(/only keys imported through this API/.test(r.json.data[1].message), r.text);
  const ic = JSON.parse(r.json.slashing_protection);
  assert(ic.data.length === 1 && ic.data[0].pubkey === k11, `only k11's data: ${JSON.stringify(ic.data)}`);
  assert((await sign(fsKey, att(1, 2))).status === 200, "filesystem key still signs");
});
await check("DELETE with no pubkeys → 200, empty data, an empty interchange", async () => {
  const r = await km("DELETE", { pubkeys: [] });
  assert(r.status === 200 && r.json.data.length === 0, r.text);
  assert(JSON.parse(r.json.slashing_protection).data.length === 0, r.text);
});
await check("re-imported after delete, the key's history still protects it", async () => {
  const r = await km("POST", importReq([k10]));
  assert(JSON.stringify(statuses(r)) === '["imported"]', r.text);
  assert((await sign(k10, att(20, 21, 9))).status === 412, "double vote at target 21");
  assert((await sign(k10, att(21, 22))).status === 200, "fresh");
});
await check("a batch decrypts in parallel and answers in request order", async () => {
  const r = await km("POST", importReq([k17, k16, k14]));
  assert(JSON.stringify(statuses(r)) === '["imported","imported","imported"]', r.text);
  const keys = (await listed()).map((x) => x.validating_pubkey);
  for (const k of [k14, k16, k17]) assert(keys.includes(k), `${k} missing`);
});
await check("other methods → 405 {message}", async () => expectMessage(await km("PUT", {}), 405));
await check("API disabled → 404 for GET, POST and DELETE", async () => {
  for (const [m, b] of [["GET"], ["POST", importReq([k12])], ["DELETE", { pubkeys: [k12] }]]) {
    const r = await km(m, b, disabledUrl);
    assert(r.status === 404, `${m} → ${r.status}`);
  }
  const pub = await (await fetch(`${disabledUrl}/api/v1/eth2/publicKeys`)).json();
  assert(pub.length === 0, "nothing imported on the disabled signer");
});
await check("no keystore password reaches the log", async () => {
  const log = fs.readFileSync(`${work}/server.log`, "utf8");
  for (const k of imp) assert(!log.includes(password(k)), "a password is in the server log");
  assert(log.includes("key manager: keystore imported"), "imports are logged");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
