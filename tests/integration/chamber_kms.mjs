// Driver of chamber_kms.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS,
// CC_DDB (dynalite URL), CC_KMS (kms-local URL); AWS_* credentials set.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer, writeInteropKeys } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${detail}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

// ---- helpers ---------------------------------------------------------------------------------
function config(table) {
  const path = `${work}/config-${table}.yaml`;
  fs.writeFileSync(path, `server: {listen_address: 127.0.0.1}
metrics: {enabled: false}
network: mainnet
key_sources: {filesystem: {paths: [${work}/keys]}}
anti_slashing: {backend: sqlite, path: ${work}/slashing-${table}.sqlite}
signer_state: {backend: dynamodb, table: ${table}, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
`);
  return path;
}
function run(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env } });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
let logSeq = 0;
async function start(table, name) {
  const log = `${work}/server.${name}.${logSeq++}.log`;
  // Every replica of one table shares one sqlite file only if it is one process at a time; give each its own.
  const s = await startServer(bin, config(table), log, [`--anti_slashing.path=${work}/slashing-${name}.sqlite`]);
  s.log = log;
  s.url = `http://127.0.0.1:${s.port}`;
  return s;
}
const logText = (s) => fs.readFileSync(s.log, "utf8");
async function getStatus(s) {
  const r = await fetch(`${s.url}/api/v1/chamber/status`);
  return r.json();
}
async function waitState(s, want, ms = 20000) {
  let st = null;
  for (let t = 0; t < ms; t += 100) {
    st = await getStatus(s);
    if (st.state === want) return st;
    await sleep(100);
  }
  return st;
}
async function waitLog(s, re, ms = 20000) {
  for (let t = 0; t < ms; t += 100) {
    const m = logText(s).match(re);
    if (m) return m;
    await sleep(100);
  }
  return null;
}
const agent = new http.Agent({ keepAlive: false });
let epoch = 1000;
async function signOnce(s, pk) {
  epoch += 2;
  return (await sign(agent, s.port, pk, attestation(epoch, epoch + 1, 7).body)).status;
}
const code = async (s, path) => (await fetch(`${s.url}${path}`)).status;
function tokenOf(s) {
  const m = logText(s).match(/cc-setup-[0-9a-f]+/g) || [];
  return m;
}
const operator = (s, sub, extra = []) => run(["operator", sub, "--signer-url", s.url, "--allow-plaintext-signer", ...extra]);

async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}

// GF(2^8) mod 0x11b, for rebuilding the master key independently of the signer.
function gmul(a, b) { let r = 0; while (b) { if (b & 1) r ^= a; a = ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff; b >>= 1; } return r; }
function ginv(a) { for (let x = 1; x < 256; x++) if (gmul(a, x) === 1) return x; return 0; }
function combine(shares) { // [{x, y: Buffer}]
  const out = Buffer.alloc(shares[0].y.length);
  for (const si of shares) {
    let num = 1, den = 1;
    for (const sj of shares) if (sj !== si) { num = gmul(num, sj.x); den = gmul(den, sj.x ^ si.x); }
    const l = gmul(num, ginv(den));
    for (let b = 0; b < out.length; b++) out[b] ^= gmul(si.y[b], l);
  }
  return out;
}

// ---- the run ---------------------------------------------------------------------------------
const servers = [];
const stop = async (s) => { await killAndWait(s.proc, "SIGTERM"); servers.splice(servers.indexOf(s), 1); };
try {
  writeInteropKeys(`${work}/keys`, 2);
  for (const t of ["cc-state", "cc-state-two"]) {
    const r = await run(["dynamodb", "create-tables", "-c", config(t)]);
    if (r.code !== 0 || !r.out.includes(`created ${t}`)) throw new Error(`create-tables ${t}: ${r.out} ${r.err}`);
  }
  const again = await run(["dynamodb", "create-tables", "-c", config("cc-state")]);
  expect(again.code === 0 && again.out.includes("exists  cc-state (signer_state.table)"),
    "create-tables creates the signer state table, then finds it", again.out + again.err);

  const arns = [], ids = [];
  for (let i = 0; i < 3; i++) {
    const k = await client.send(new kms.CreateKeyCommand({ Description: `chamber share ${i}` }));
    arns.push(k.KeyMetadata.Arn);
    ids.push(k.KeyMetadata.KeyId);
  }

  // 1. uninitialized: the setup token is logged once; nothing signs.
  let a = await start("cc-state", "a");
  servers.push(a);
  const pk = (await (await fetch(`${a.url}/api/v1/eth2/publicKeys`)).json())[0];
  await waitLog(a, /setup_token/);
  const toks = tokenOf(a);
  expect(toks.length === 1 && /^cc-setup-[0-9a-f]{32}$/.test(toks[0]), "the setup token is logged exactly once",
    JSON.stringify(toks));
  const token = toks[0];
  const warnLine = logText(a).split("\n").find((l) => l.includes(token)) || "";
  expect(JSON.parse(warnLine || "{}").level === "warn", "… at warn level");
  let st = await getStatus(a);
  expect(st.state === "uninitialized" && st.initialized === false, "status: uninitialized", JSON.stringify(st));
  expect(await signOnce(a, pk) === 503 && await code(a, "/healthcheck") === 503 && await code(a, "/upcheck") === 200,
    "uninitialized: signing 503, /healthcheck 503, /upcheck 200");

  // 2. operator init
  let r = await run(["operator", "init", "--signer-url", a.url, "--setup-token", token, "--kms-key-arns",
    arns.join(","), "--kms-threshold", "2"]);
  expect(r.code === 2 && r.err.includes("plaintext"), "operator refuses an http:// signer without --allow-plaintext-signer",
    r.err);
  r = await operator(a, "init", ["--setup-token", "cc-setup-" + "0".repeat(32), "--kms-key-arns", arns.join(","),
    "--kms-threshold", "2"]);
  expect(r.code === 1 && r.err.includes("HTTP 403"), "a wrong setup token is 403", r.err);
  process.env.CC_TEST_SETUP = token;
  r = await operator(a, "init", ["--setup-token", "env:CC_TEST_SETUP", "--kms-key-arns", arns.join(","),
    "--kms-threshold", "4"]);
  expect(r.code === 1 && r.err.includes("kms_threshold"), "a threshold above the number of keys is refused", r.err);
  r = await operator(a, "init", ["--setup-token", "env:CC_TEST_SETUP", "--kms-key-arns", arns.join(","),
    "--kms-threshold", "2"]);
  expect(r.code === 0, "operator init 2-of-3 (setup token from env:VAR)", r.out + r.err);
  st = await getStatus(a);
  expect(st.state === "unsealed" && st.mode === "kms" && st.threshold === 2 && st.version === 1 &&
    JSON.stringify(st.kms_key_arns) === JSON.stringify(arns), "status: unsealed, kms, 2 of the 3 ARNs, version 1",
    JSON.stringify(st));
  r = await operator(a, "status");
  expect(r.code === 0 && JSON.parse(r.out).state === "unsealed", "operator status", r.out + r.err);
  expect(await signOnce(a, pk) === 200 && await code(a, "/healthcheck") === 200, "unsealed: signing 200, /healthcheck 200");
  r = await operator(a, "init", ["--setup-token", token, "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]);
  expect(r.code === 1 && r.err.includes("HTTP 409"), "a second init is 409 (the token is spent)", r.err);

  // 3. restarts unseal by themselves
  await stop(a);
  a = await start("cc-state", "a"); servers.push(a);
  st = await waitState(a, "unsealed");
  expect(st.state === "unsealed" && tokenOf(a).length === 0, "a restart unseals by itself (and logs no setup token)",
    JSON.stringify(st));
  expect(await signOnce(a, pk) === 200, "… and signs");

  await client.send(new kms.DisableKeyCommand({ KeyId: ids[0] }));
  await stop(a);
  a = await start("cc-state", "a"); servers.push(a);
  st = await waitState(a, "unsealed");
  expect(st.state === "unsealed", "one KMS key disabled: a restart still unseals (2 of 3)", JSON.stringify(st));

  await client.send(new kms.DisableKeyCommand({ KeyId: ids[1] }));
  await stop(a);
  a = await start("cc-state", "a"); servers.push(a);
  const stays = await waitLog(a, /chamber stays sealed[^\n]*/);
  st = await getStatus(a);
  expect(stays && st.state === "sealed", "two KMS keys disabled: a restart stays sealed", JSON.stringify(st));
  const line = stays ? stays[0] : "";
  expect(line.includes(arns[0]) && line.includes(arns[1]) && !line.includes(arns[2]) && line.includes("Disabled"),
    "the log names the two failing key ARNs and why", line.slice(0, 600));
  expect(await signOnce(a, pk) === 503 && await code(a, "/healthcheck") === 503 && await code(a, "/upcheck") === 200,
    "sealed: signing 503, /healthcheck 503, /upcheck 200");
  await client.send(new kms.EnableKeyCommand({ KeyId: ids[0] }));
  await client.send(new kms.EnableKeyCommand({ KeyId: ids[1] }));
  r = await operator(a, "unseal");
  st = await getStatus(a);
  expect(r.code === 0 && st.state === "unsealed", "keys enabled again: operator unseal unseals", r.out + r.err);

  // 4. operator seal: local, immediate, and not undone by the poller
  r = await operator(a, "seal");
  st = await getStatus(a);
  expect(r.code === 0 && st.state === "sealed" && st.sealed_by_operator === true, "operator seal → sealed",
    r.out + r.err);
  expect(await signOnce(a, pk) === 503 && await code(a, "/healthcheck") === 503, "sealed by an operator: signing 503");
  await sleep(2500);
  expect((await getStatus(a)).state === "sealed", "the poller does not unseal a sealed-by-operator replica");

  // 5. two replicas, empty table, init at the same moment
  const [b, c] = await Promise.all([start("cc-state-two", "b"), start("cc-state-two", "c")]);
  servers.push(b, c);
  await waitLog(b, /setup_token/);
  await waitLog(c, /setup_token/);
  const tb = tokenOf(b)[0], tc = tokenOf(c)[0];
  expect(tb && tc && tb !== tc, "two replicas each log their own setup token");
  const [rb, rc] = await Promise.all([
    operator(b, "init", ["--setup-token", tb, "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]),
    operator(c, "init", ["--setup-token", tc, "--kms-key-arns", arns.slice().reverse().join(","), "--kms-threshold", "2"]),
  ]);
  const wins = [rb, rc].filter((x) => x.code === 0).length;
  const lost = [rb, rc].find((x) => x.code !== 0);
  expect(wins === 1 && lost && lost.err.includes("HTTP 409"), "concurrent init: exactly one succeeds, the other is 409",
    `${rb.code} ${rb.err} / ${rc.code} ${rc.err}`);
  const sb = await waitState(b, "unsealed"), sc = await waitState(c, "unsealed");
  expect(sb.state === "unsealed" && sc.state === "unsealed" && sb.version === sc.version &&
    sb.created_at === sc.created_at && JSON.stringify(sb.kms_key_arns) === JSON.stringify(sc.kms_key_arns),
    "both replicas end unsealed on the same master key version", JSON.stringify([sb, sc]));
  expect(await signOnce(b, pk) === 200 && await signOnce(c, pk) === 200, "both replicas sign");
  // A seal is local: sealing b leaves c unsealed.
  await operator(b, "seal");
  await sleep(1500);
  expect((await getStatus(b)).state === "sealed" && (await getStatus(c)).state === "unsealed",
    "a seal is local to its replica");

  // 6. no secret in the table or the logs
  const secrets = [];
  let checked = 0;
  for (const t of ["cc-state", "cc-state-two"]) {
    const scan = await ddb("Scan", { TableName: t, ConsistentRead: true });
    const item = scan.Items.find((i) => i.pk.S === "STATE"); /* beside it: the AUTH item (chamber/auth_store.h) */
    fs.writeFileSync(`${work}/scan-${t}.json`, JSON.stringify(scan));
    const version = Number(item.version.N);
    const shares = [];
    for (const e of item.shares.L) {
      const m = e.M;
      const d = await client.send(new kms.DecryptCommand({ KeyId: m.kms_key_arn.S,
        CiphertextBlob: Buffer.from(m.blob.B, "base64"),
        EncryptionContext: { "containment-chamber:share": m.index.N, "containment-chamber:version": String(version) } }));
      shares.push({ x: Number(m.index.N), y: Buffer.from(d.Plaintext) });
    }
    const master = combine(shares.slice(0, 2));
    const all = [combine([shares[0], shares[2]]), combine([shares[1], shares[2]]), combine(shares)];
    const v = Buffer.alloc(4); v.writeUInt32BE(version);
    const check = crypto.createHmac("sha256", master).update(Buffer.concat([Buffer.from("cc-master-check-v1"), v])).digest();
    if (all.every((m) => m.equals(master)) && check.equals(Buffer.from(item.check.B, "base64"))) checked++;
    secrets.push(master, ...shares.map((s) => s.y));
  }
  expect(checked === 2, "every 2 of the 3 stored shares rebuild one master key, which matches the stored check " +
    "(HMAC-SHA256 recomputed independently)");
  const haystacks = fs.readdirSync(work).filter((f) => /^(server\..*\.log|scan-.*\.json|config-.*\.yaml)$/.test(f))
    .map((f) => fs.readFileSync(`${work}/${f}`, "utf8"));
  const forms = (b) => [b.toString("hex"), b.toString("hex").toUpperCase(), b.toString("base64"),
    b.toString("base64url"), b.toString("base64").replace(/=+$/, "")];
  const leaks = secrets.flatMap(forms).filter((f) => haystacks.some((h) => h.includes(f)));
  expect(secrets.length === 8 && leaks.length === 0,
    "no master key or share (hex, HEX, base64, base64url) in the table scans or any signer log", leaks.join(","));
  const scanText = fs.readFileSync(`${work}/scan-cc-state.json`, "utf8");
  expect(!scanText.includes(token) && !scanText.includes("cc-setup-"), "the setup token is not stored");

  // 7. a missing table stops start-up, naming create-tables
  r = await run(["server", "-c", config("cc-missing"), "--server.listen_port=1"]);
  expect(r.code !== 0 && r.err.includes("create-tables"), "a missing signer state table stops start-up, naming create-tables",
    r.err.slice(-300));
} catch (e) {
  bad(`driver: ${e.stack || e}`);
} finally {
  for (const s of [...servers]) await killAndWait(s.proc, "SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
