// Shared by chamber_rotate_quorum.mjs and chamber_rotate_mode_quorum.mjs: the env, counters,
// signer start/stop, Chamber API calls, the signing load generator and the operators' secrets.
// Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer } from "../integration/slashing_msgs.mjs";

export const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
export const kms = require("@aws-sdk/client-kms");
export const blst = require("@chainsafe/blst");
export const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;
export const NKEYS = 12;
export const ARGON2 = { iterations: 1, memory_kib: 8192, parallelism: 1 }; // the minimum: keeps the test fast

export let passed = 0, failed = 0;
export const ok = (m) => { passed++; console.log(`ok   ${m}`); };
export const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
export const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${String(detail).slice(0, 800)}` : m));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

export function config(stateTable, keyTable) {
  const p = `${work}/config-${stateTable}.yaml`;
  fs.writeFileSync(p, `server: {listen_address: 127.0.0.1}
metrics: {enabled: false}
network: mainnet
key_sources:
  dynamodb: {table: ${keyTable}, refresh_interval_seconds: 1}
anti_slashing: {backend: sqlite, path: ${work}/slashing-${stateTable}.sqlite}
signer_state: {backend: dynamodb, table: ${stateTable}, refresh_interval_seconds: 1, unseal_timeout_seconds: 60}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
chamber: {keys: {generate: {enabled: true}}}
`);
  return p;
}
export function run(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env } });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
let logSeq = 0;
/* A fresh server log path in the run's work dir. */
export const nextLogPath = () => `${work}/server.${logSeq++}.log`;
export const servers = new Set();
export async function start(cfg) {
  const log = `${work}/server.${logSeq++}.log`;
  const s = await startServer(bin, cfg, log);
  s.log = log;
  s.url = `http://127.0.0.1:${s.port}`;
  servers.add(s);
  return s;
}
export const stop = async (s, sig = "SIGKILL") => { await killAndWait(s.proc, sig); servers.delete(s); };
export const logText = (s) => fs.readFileSync(s.log, "utf8");
export async function api(s, method, path, body) {
  try {
    const r = await fetch(`${s.url}${path}`, { method, headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, text, json };
  } catch (e) { return { status: 0, text: String(e), json: null }; }
}
export const status = async (s) => (await api(s, "GET", "/api/v1/chamber/status")).json || {};
export async function waitFor(fn, ms = 20000) {
  let v;
  for (let t = 0; t < ms; t += 100) {
    v = await fn();
    if (v) return v;
    await sleep(100);
  }
  return v;
}
export async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}
export const stateItem = async (table = "cc-state") =>
  (await ddb("GetItem", { TableName: table, Key: { pk: { S: "STATE" } }, ConsistentRead: true })).Item || {};
export const itemOps = (it) => (it.q_operators?.L || []).map((o) => o.M.name.S).join(",");
export const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
export let epoch = 10;
export async function signCheck(s, pk) {
  epoch += 2;
  const a = attestation(epoch, epoch + 1, 9);
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
export async function allSign(s, pks, ms = 30000) {
  let left = [...pks];
  const t0 = Date.now();
  while (left.length && Date.now() - t0 < ms) {
    const res = await Promise.all(left.map((pk) => signCheck(s, pk)));
    left = left.filter((pk, i) => !(res[i].status === 200 && res[i].ok));
    if (left.length) await sleep(200);
  }
  return left;
}
// The load generator of chamber_rotate.mjs: 4 clients, each signing its own quarter of the keys in a loop.
export function loadGen(s, pks, clients = 4) {
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
export const op = (s, args, env = {}) => run(["operator", ...args, "--signer-url", s.url, "--allow-plaintext-signer"], env);
export const register = (s, token, passphrase) =>
  api(s, "POST", "/api/v1/chamber/operators/register", { registration_token: token, passphrase });
export const submit = (s, operator, passphrase) => api(s, "POST", "/api/v1/chamber/unseal", { operator, passphrase });

export const PASS = {
  alice: "alice: old passphrase one", bob: "bob: old passphrase two", carol: "carol: old passphrase three",
  dave: "dave: new passphrase one", erin: "erin: new passphrase two", frank: "frank: new passphrase three",
  gina: "gina: aborted passphrase",
};
