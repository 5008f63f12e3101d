// Driver of chamber_rotate.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS; AWS_* set.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const blst = require("@chainsafe/blst");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;
const KILLS = Number(process.env.ROTATE_KILLS || 20), NKEYS = 24, DELAY_MS = 100;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${String(detail).slice(0, 800)}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

const cfgPath = `${work}/config.yaml`;
fs.writeFileSync(cfgPath, `server: {listen_address: 127.0.0.1}
metrics: {enabled: false}
network: mainnet
key_sources:
  dynamodb: {table: cc-keys, refresh_interval_seconds: 1}
anti_slashing: {backend: sqlite, path: ${work}/slashing.sqlite}
signer_state: {backend: dynamodb, table: cc-state, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
chamber: {keys: {generate: {enabled: true}}}
`);
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: process.env });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
let logSeq = 0, server = null;
async function start(flags = []) {
  const log = `${work}/server.${logSeq++}.log`;
  const s = await startServer(bin, cfgPath, log, [`--signer_state.rotation_test_delay_ms=${DELAY_MS}`, ...flags]);
  s.log = log;
  s.url = `http://127.0.0.1:${s.port}`;
  server = s;
  return s;
}
const logText = (s) => fs.readFileSync(s.log, "utf8");
async function api(s, method, path, body) {
  try {
    const r = await fetch(`${s.url}${path}`, { method, headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, text, json };
  } catch (e) { return { status: 0, text: String(e), json: null }; }
}
const status = async (s) => (await api(s, "GET", "/api/v1/chamber/status")).json || {};
async function waitFor(fn, ms = 20000) {
  let v;
  for (let t = 0; t < ms; t += 100) {
    v = await fn();
    if (v) return v;
    await sleep(100);
  }
  return v;
}
async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}
async function stateItem() {
  return (await ddb("GetItem", { TableName: "cc-state", Key: { pk: { S: "STATE" } }, ConsistentRead: true })).Item;
}
async function keyVersions() { // pubkey -> master_version, consistent scan of the key table
  const out = {};
  let start;
  do {
    const r = await ddb("Scan", { TableName: "cc-keys", ConsistentRead: true, ExclusiveStartKey: start });
    for (const it of r.Items || []) if (it.master_version) out[it.pk.S] = Number(it.master_version.N);
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let epoch = 10;
const nextEpoch = () => (epoch += 2);
async function signCheck(s, pk) {
  const e = nextEpoch();
  const a = attestation(e, e + 1, 9);
  const r = await sign(agent, s.port, pk, a.body);
  let verified = false;
  if (r.status === 200) {
    try {
      verified = blst.verify(Buffer.from(a.root.slice(2), "hex"), blst.PublicKey.fromHex(pk),
        blst.Signature.fromHex(JSON.parse(r.text).signature));
    } catch { verified = false; }
  }
  return { status: r.status, ok: verified, text: r.text };
}
// Every key signs (waiting up to ms for the key source to load); the keys that never did.
async function allSign(s, pks, ms = 30000) {
  let left = [...pks];
  const t0 = Date.now();
  while (left.length && Date.now() - t0 < ms) {
    const res = await Promise.all(left.map((pk) => signCheck(s, pk)));
    left = left.filter((pk, i) => !(res[i].status === 200 && res[i].ok));
    if (left.length) await sleep(200);
  }
  return left;
}
// 4 clients, each signing its own quarter of the keys in a loop; counts every answer.
function loadGen(s, pks, clients = 4) {
  const st = { stop: false, total: 0, failures: [], runs: [] };
  for (let c = 0; c < clients; c++) {
    const mine = pks.filter((_, i) => i % clients === c);
    st.runs.push((async () => {
      for (let i = 0; !st.stop; i++) {
        const r = await signCheck(s, mine[i % mine.length]);
        st.total++;
        if (!(r.status === 200 && r.ok) && st.failures.length < 20) st.failures.push(`${r.status} ${r.text}`.slice(0, 200));
        if (!(r.status === 200 && r.ok)) st.failed = (st.failed || 0) + 1;
      }
    })());
  }
  st.finish = async () => { st.stop = true; await Promise.all(st.runs); return st; };
  return st;
}
const op = (args) => run(["operator", ...args, "--signer-url", server.url, "--allow-plaintext-signer"]);
const stop = async (sig = "SIGTERM") => { if (server) await killAndWait(server.proc, sig); server = null; };

try {
  const ct = await run(["dynamodb", "create-tables", "-c", cfgPath]);
  if (ct.code !== 0) throw new Error(`create-tables: ${ct.out} ${ct.err}`);
  const arns = [], ids = [];
  for (let i = 0; i < 8; i++) {
    const k = (await client.send(new kms.CreateKeyCommand({ Description: `rotate ${i}` }))).KeyMetadata;
    arns.push(k.Arn); ids.push(k.KeyId);
  }
  const oldArns = arns.slice(0, 3), newArns = arns.slice(3, 7), spare = arns[7];
  const setEnabled = async (list, on) => {
    for (const a of list) {
      const id = ids[arns.indexOf(a)];
      await client.send(on ? new kms.EnableKeyCommand({ KeyId: id }) : new kms.DisableKeyCommand({ KeyId: id }));
    }
  };

  // ---- set-up: a 2-of-3 chamber with 24 generated keys
  let s = await start();
  const tok = await waitFor(() => (logText(s).match(/cc-setup-[0-9a-f]+/) || [])[0]);
  let r = await api(s, "POST", "/api/v1/chamber/init", { setup_token: tok, kms_key_arns: oldArns, kms_threshold: 2 });
  expect(r.status === 200 && r.json.state === "unsealed" && r.json.version === 1, "chamber initialised 2-of-3", r.text);
  r = await api(s, "POST", "/api/v1/chamber/keys/generate", { count: NKEYS });
  const pks = r.status === 200 ? r.json.keys.map((k) => k.pubkey) : [];
  expect(pks.length === NKEYS, `${NKEYS} keys generated into the key table`, r.text);
  let left = await allSign(s, pks);
  expect(left.length === 0, "every key signs before any rotation", left.join(","));

  // ---- (i) rotate kms under load
  r = await api(s, "POST", "/api/v1/chamber/rotate/kms", { kms_key_arns: [newArns[0], "arn:aws:kms:us-east-1:000000000000:key/nope"], kms_threshold: 2 });
  let st = await status(s);
  expect(r.status >= 400 && r.json && /kms_key_arns\[1\]/.test(r.json.error) && st.version === 1 &&
    JSON.stringify(st.kms_key_arns) === JSON.stringify(oldArns) && st.state === "unsealed",
    "rotate kms to a key set that cannot encrypt → refused naming kms_key_arns[1]; the old set stays", r.text);
  r = await api(s, "POST", "/api/v1/chamber/rotate/kms", { kms_key_arns: [newArns[0], newArns[0]], kms_threshold: 1 });
  expect(r.status === 400 && /listed twice/.test(r.text), "rotate kms with a key listed twice → 400", r.text);
  let load = loadGen(s, pks);
  await sleep(1000);
  const t0 = Date.now();
  r = await op(["rotate", "kms", "--kms-key-arns", newArns.join(","), "--kms-threshold", "3"]);
  const kmsMs = Date.now() - t0;
  await sleep(1000);
  load = await load.finish();
  st = await status(s);
  expect(r.code === 0 && st.threshold === 3 && JSON.stringify(st.kms_key_arns) === JSON.stringify(newArns) &&
    st.version === 1 && st.state === "unsealed", `operator rotate kms → 4 new keys, threshold 3, same version (${kmsMs} ms)`,
    r.out + r.err);
  expect(load.total > 50 && !load.failed, `signing under load during rotate kms: ${load.total} requests, ${load.failed || 0} failed`,
    load.failures.join(" | "));
  let item = await stateItem();
  const stored = (item.shares.L || []).map((x) => x.M.kms_key_arn.S);
  expect(JSON.stringify(stored) === JSON.stringify(newArns) && !stored.some((a) => oldArns.includes(a)) &&
    item.revision && item.revision.N === "1", "the state item holds only the new shares (revision 1)", JSON.stringify(stored));
  expect(/KMS key set rotated/.test(logText(s)), "the rotation is logged");
  await stop();
  await setEnabled(oldArns, false);
  s = await start();
  let unsealed = await waitFor(async () => (await status(s)).state === "unsealed", 20000);
  left = unsealed ? await allSign(s, pks) : pks;
  expect(unsealed && left.length === 0, "every old KMS key disabled: restart unseals with the new ones and every key signs",
    `${left.length} keys not signing`);
  await stop();
  await setEnabled(oldArns, true);
  await setEnabled(newArns, false);
  s = await start();
  await sleep(3000);
  st = await status(s);
  const probe = await signCheck(s, pks[0]);
  expect(st.state === "sealed" && probe.status === 503, "new KMS keys disabled (old enabled): restart stays sealed, signing 503",
    JSON.stringify([st.state, probe.status]));
  await stop();
  await setEnabled(newArns, true);

  // ---- (ii) rotate master under load
  s = await start();
  unsealed = await waitFor(async () => (await status(s)).state === "unsealed", 20000);
  left = await allSign(s, pks);
  expect(unsealed && left.length === 0, "restart with the new keys enabled: unsealed, every key signs");
  load = loadGen(s, pks);
  await sleep(1000);
  const t1 = Date.now();
  r = await op(["rotate", "master"]);
  expect(r.code === 0 && /rotation started/.test(r.out), "operator rotate master → 202 started", r.out + r.err);
  const sawRotating = await waitFor(async () => (await status(s)).state === "awaiting_rotation", 5000);
  const done = await waitFor(async () => { const x = await status(s); return x.version === 2 && !x.rotation.pending_version && x.rotation.phase === "done" ? x : null; }, 60000);
  const masterMs = Date.now() - t1;
  await sleep(1000);
  load = await load.finish();
  expect(sawRotating && done && done.state === "unsealed", `master rotation 1 → 2 completes (${masterMs} ms, awaiting_rotation seen meanwhile)`,
    JSON.stringify(await status(s)));
  expect(load.total > 50 && !load.failed, `signing under load during rotate master: ${load.total} requests, ${load.failed || 0} failed`,
    load.failures.join(" | "));
  let vers = await keyVersions();
  expect(Object.keys(vers).length === NKEYS && Object.values(vers).every((v) => v === 2), "every key item is at master_version 2",
    JSON.stringify(vers));
  item = await stateItem();
  expect(item.version.N === "2" && !item.pending && (item.shares.L || []).length === 4 && item.threshold.N === "3",
    "the state item holds version 2 only (pending gone), same KMS keys and threshold");
  expect(!/"level":"error"[^\n]*does not open/.test(logText(s)), "no key failed to open during the rotation");
  await stop();
  s = await start();
  unsealed = await waitFor(async () => (await status(s)).state === "unsealed", 20000);
  left = unsealed ? await allSign(s, pks) : pks;
  expect(unsealed && left.length === 0, "restart after the master rotation: unsealed at version 2, every key signs",
    `${left.length} not signing`);

  // ---- (iii) SIGKILL at random points of master rotations
  const phases = {};
  let recovered = 0, strandedSeen = 0;
  const failures = [];
  for (let k = 0; k < KILLS; k++) {
    r = await api(s, "POST", "/api/v1/chamber/rotate/master");
    const wait = Math.floor(Math.random() * 6000);
    await sleep(wait);
    const x = await status(s);
    const ph = `${x.rotation ? x.rotation.phase : "?"}${x.rotation && x.rotation.pending_version ? "+pending" : ""}`;
    phases[ph] = (phases[ph] || 0) + 1;
    await stop("SIGKILL");
    // The table as the kill left it: every key at a version the state item still holds.
    item = await stateItem();
    const held = [Number(item.version.N)];
    if (item.pending) held.push(Number(item.pending.M.version.N));
    vers = await keyVersions();
    const stranded = Object.entries(vers).filter(([, v]) => !held.includes(v));
    strandedSeen += stranded.length;
    s = await start();
    unsealed = await waitFor(async () => (await status(s)).can_sign === true, 20000);
    // Within 2.5 s of the unseal: before a resumed rotation (3 s settle first) can have moved any key,
    // so every key must open under the version it was left at.
    left = unsealed ? await allSign(s, pks, 2500) : pks;
    if (unsealed && left.length === 0 && stranded.length === 0) recovered++;
    else failures.push(`kill ${k} after ${wait} ms (${ph}): unsealed=${!!unsealed} not signing=${left.length} stranded=${stranded.length}`);
  }
  expect(recovered === KILLS && strandedSeen === 0,
    `${KILLS} SIGKILLs during master rotations: ${recovered} restarts unsealed with every key signing, ${strandedSeen} key items ever at a version the table did not hold; kill points ${JSON.stringify(phases)}`,
    failures.join(" | "));
  // Finally the rotation in flight (if any) completes by itself after the last restart.
  const fin = await waitFor(async () => { const y = await status(s); return y.rotation && !y.rotation.pending_version && !y.rotation.running ? y : null; }, 90000);
  vers = await keyVersions();
  const finalV = fin ? fin.version : -1;
  expect(fin && Object.values(vers).every((v) => v === finalV) && Object.keys(vers).length === NKEYS,
    `after the last restart the rotation completes: version ${finalV}, every key item at it`, JSON.stringify(fin) + JSON.stringify(vers));
  left = await allSign(s, pks);
  expect(left.length === 0, "every key signs at the end", left.join(","));
  const secretLeak = fs.readdirSync(work).filter((f) => f.startsWith("server.")).some((f) => /"(master|secret|sk)":/.test(fs.readFileSync(`${work}/${f}`, "utf8")));
  expect(!secretLeak, "no log line carries a master or secret key field");
} catch (e) {
  bad(`driver error: ${e.stack || e}`);
} finally {
  await stop("SIGKILL");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
