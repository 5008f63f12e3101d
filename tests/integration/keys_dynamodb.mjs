// Driver of keys_dynamodb.sh: the DynamoDB key source inside the real signer.
// Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB (dynalite URL), CC_KMS (kms-local URL); AWS_* set.
//
// The master key exists only inside the signer, so this driver rebuilds it
// the way an auditor could — the stored shares decrypted with KMS and
// combined (GF(2^8) Lagrange, written here) — and seals keys itself with
// node's AES-256-GCM (an independent implementation of keys/sealed_key.h's
// format), writing the items and bumping the generation directly in the table.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer, writeInteropKeys } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const blst = require("@chainsafe/blst");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${detail}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

function config(extra = "") {
  const path = `${work}/config.yaml`;
  fs.writeFileSync(path, `server: {listen_address: 127.0.0.1}
metrics: {enabled: true, listen_address: 127.0.0.1}
network: mainnet
key_sources:
  filesystem: {paths: [${work}/keys]}
  dynamodb: {table: cc-keys, refresh_interval_seconds: 1, max_concurrent_reads: 4}
anti_slashing: {backend: sqlite, path: ${work}/slashing.sqlite}
signer_state: {backend: dynamodb, table: cc-state, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
${extra}`);
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
const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  const j = await r.json();
  if (r.status !== 200) throw new Error(`${op}: ${JSON.stringify(j)}`);
  return j;
}
function gmul(a, b) { let r = 0; while (b) { if (b & 1) r ^= a; a = ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff; b >>= 1; } return r; }
function ginv(a) { for (let x = 1; x < 256; x++) if (gmul(a, x) === 1) return x; return 0; }
function combine(shares) {
  const out = Buffer.alloc(shares[0].y.length);
  for (const si of shares) {
    let num = 1, den = 1;
    for (const sj of shares) if (sj !== si) { num = gmul(num, sj.x); den = gmul(den, sj.x ^ si.x); }
    const l = gmul(num, ginv(den));
    for (let b = 0; b < out.length; b++) out[b] ^= gmul(si.y[b], l);
  }
  return out;
}
// keys/sealed_key.h: 0x01 ‖ nonce(12) ‖ AES-256-GCM(sk) ‖ tag(16), AD "cc-key-v1" ‖ pubkey ‖ be32(version)
function seal(master, version, pk, sk) {
  const nonce = crypto.randomBytes(12), v = Buffer.alloc(4);
  v.writeUInt32BE(version);
  const c = crypto.createCipheriv("aes-256-gcm", master, nonce);
  c.setAAD(Buffer.concat([Buffer.from("cc-key-v1"), pk, v]));
  const ct = Buffer.concat([c.update(sk), c.final()]);
  return Buffer.concat([Buffer.from([1]), nonce, ct, c.getAuthTag()]);
}
const shardOf = (pk, status) => `${status}#${String(pk[47] % 16).padStart(2, "0")}`;
async function bumpGeneration() {
  await ddb("UpdateItem", { TableName: "cc-keys", Key: { pk: { S: "#generation" } }, UpdateExpression: "ADD #g :one",
    ExpressionAttributeNames: { "#g": "generation" }, ExpressionAttributeValues: { ":one": { N: "1" } } });
}
async function putKey(k, master, version, blobOverride) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await ddb("PutItem", { TableName: "cc-keys", Item: {
    pk: { S: k.hex }, status: { S: "active" }, status_shard: { S: shardOf(k.pk, "active") },
    sealed: { B: (blobOverride || seal(master, version, k.pk, k.sk)).toString("base64") },
    master_version: { N: String(version) }, origin: { S: "imported" }, created_at: { S: now }, updated_at: { S: now } } });
}
const newKey = () => {
  const s = blst.SecretKey.fromKeygen(crypto.randomBytes(32));
  const pk = Buffer.from(s.toPublicKey().toBytes(true));
  return { sk: Buffer.from(s.toBytes()), pk, hex: "0x" + pk.toString("hex") };
};

const agent = new http.Agent({ keepAlive: false });
let epoch = 2000;
async function signOnce(s, pk) { epoch += 2; return (await sign(agent, s.port, pk, attestation(epoch, epoch + 1, 7).body)).status; }
const pubkeys = async (s) => (await (await fetch(`${s.url}/api/v1/eth2/publicKeys`)).json());
async function waitKeys(s, fn, ms = 5000) {
  let keys = [];
  for (let t = 0; t < ms; t += 100) { keys = await pubkeys(s); if (fn(keys)) return true; await sleep(100); }
  return false;
}
const metric = async (s, re) => { const t = await (await fetch(`http://127.0.0.1:${s.mport}/metrics`)).text(); const m = t.match(re); return m ? m[1] : null; };
const operator = (s, sub, extra = []) => run(["operator", sub, "--signer-url", s.url, "--allow-plaintext-signer", ...extra]);

let server = null;
try {
  writeInteropKeys(`${work}/keys`, 1);
  // 1. create-tables makes the key table with its index, then finds it
  let r = await run(["dynamodb", "create-tables", "-c", config()]);
  expect(r.code === 0 && r.out.includes("created cc-keys (key_sources.dynamodb.table)") && r.out.includes("created cc-state"),
    "create-tables creates key_sources.dynamodb.table", r.out + r.err);
  const desc = await ddb("DescribeTable", { TableName: "cc-keys" });
  const gsi = (desc.Table.GlobalSecondaryIndexes || []).find((g) => g.IndexName === "status-shard-index");
  expect(gsi && JSON.stringify(gsi.KeySchema) === JSON.stringify([{ AttributeName: "status_shard", KeyType: "HASH" },
    { AttributeName: "pk", KeyType: "RANGE" }]) && gsi.Projection.ProjectionType === "ALL",
    "… with the status-shard-index (status_shard HASH, pk RANGE, ALL)", JSON.stringify(desc.Table.GlobalSecondaryIndexes));
  r = await run(["dynamodb", "create-tables", "-c", config()]);
  expect(r.code === 0 && r.out.includes("exists  cc-keys (key_sources.dynamodb.table)"), "… and is idempotent", r.out + r.err);

  // 2. the key table without signer_state.table is refused, naming both keys
  r = await run(["server", "-c", config(), "--signer_state.table="]);
  expect(r.code === 2 && r.err.includes("key_sources.dynamodb.table") && r.err.includes("signer_state.table"),
    "key_sources.dynamodb.table without signer_state.table stops start-up naming both", r.err.slice(-300));
  r = await run(["server", "-c", config(), "--key_sources.dynamodb.table=cc-missing", "--server.listen_port=1"]);
  expect(r.code !== 0 && r.err.includes("cc-missing") && r.err.includes("create-tables"),
    "a missing key table stops start-up, naming the table and create-tables", r.err.slice(-300));

  // 3. start, initialise the chamber
  const arns = [];
  for (let i = 0; i < 3; i++) arns.push((await client.send(new kms.CreateKeyCommand({ Description: `share ${i}` }))).KeyMetadata.Arn);
  const mport = await freePort();
  const log = `${work}/server.log`;
  server = await startServer(bin, config(), log, [`--metrics.listen_port=${mport}`]);
  server.url = `http://127.0.0.1:${server.port}`; server.mport = mport;
  let token = null;
  for (let t = 0; t < 100 && !token; t++) { const m = fs.readFileSync(log, "utf8").match(/cc-setup-[0-9a-f]{32}/); token = m && m[0]; if (!token) await sleep(100); }
  r = await operator(server, "init", ["--setup-token", token, "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]);
  expect(r.code === 0, "operator init 2-of-3", r.out + r.err);

  // 4. rebuild the master key from the table + KMS, seal keys, write them
  const item = (await ddb("GetItem", { TableName: "cc-state", Key: { pk: { S: "STATE" } }, ConsistentRead: true })).Item;
  const version = Number(item.version.N);
  const shares = [];
  for (const e of item.shares.L.slice(0, 2)) {
    const d = await client.send(new kms.DecryptCommand({ KeyId: e.M.kms_key_arn.S, CiphertextBlob: Buffer.from(e.M.blob.B, "base64"),
      EncryptionContext: { "containment-chamber:share": e.M.index.N, "containment-chamber:version": String(version) } }));
    shares.push({ x: Number(e.M.index.N), y: Buffer.from(d.Plaintext) });
  }
  const master = combine(shares);
  const keys = [newKey(), newKey(), newKey()];
  for (const k of keys) await putKey(k, master, version);
  const copied = newKey(), wrongVersion = newKey();
  await putKey(copied, master, version, seal(master, version, keys[0].pk, keys[0].sk)); // key 0's blob on another pk
  await putKey(wrongVersion, master, version + 1);
  await bumpGeneration();
  const t0 = Date.now();
  const appeared = await waitKeys(server, (ks) => keys.every((k) => ks.includes(k.hex)));
  expect(appeared, `keys written to the table appear in publicKeys (${Date.now() - t0} ms after the write)`);
  const ks = await pubkeys(server);
  expect(!ks.includes(copied.hex) && !ks.includes(wrongVersion.hex),
    "a blob copied onto another pubkey's item and one sealed under another version are refused");
  const logText = fs.readFileSync(log, "utf8");
  expect(logText.includes(copied.hex) && logText.includes(wrongVersion.hex) && /"failed":"2"/.test(logText),
    "… both logged with their pubkeys, failed 2");
  expect(await signOnce(server, keys[1].hex) === 200, "a DynamoDB key signs (200)");
  expect(await metric(server, /containment_keys_active\{source="dynamodb"\} (\d+)/) === "3",
    "containment_keys_active{source=\"dynamodb\"} 3");
  const hc = await (await fetch(`${server.url}/healthcheck`)).json();
  expect(hc.status === "UP" && hc.checks[0].keys === 4, "/healthcheck UP counting 4 keys (1 file + 3 DynamoDB)", JSON.stringify(hc));

  // 5. deactivate one key in the table → it leaves within the refresh
  const k2 = keys[2];
  await ddb("UpdateItem", { TableName: "cc-keys", Key: { pk: { S: k2.hex } }, UpdateExpression: "SET #s = :s, #ss = :ss",
    ExpressionAttributeNames: { "#s": "status", "#ss": "status_shard" },
    ExpressionAttributeValues: { ":s": { S: "inactive" }, ":ss": { S: shardOf(k2.pk, "inactive") } } });
  await bumpGeneration();
  expect(await waitKeys(server, (l) => !l.includes(k2.hex) && l.includes(keys[0].hex)), "a deactivated key leaves publicKeys");
  expect(await signOnce(server, k2.hex) === 404, "… and its signing is 404");

  // 6. seal: DynamoDB keys gone at once; unseal: back within the refresh
  r = await operator(server, "seal");
  const afterSeal = await pubkeys(server);
  expect(r.code === 0 && !afterSeal.includes(keys[0].hex) && afterSeal.length === 1,
    "operator seal removes every DynamoDB key at once (the file key stays listed)", JSON.stringify(afterSeal));
  expect(await metric(server, /containment_keys_active\{source="dynamodb"\} (\d+)/) === "0", "… metric dynamodb 0");
  await sleep(1500);
  expect((await pubkeys(server)).length === 1, "… and they stay away while sealed");
  r = await operator(server, "unseal");
  const t1 = Date.now();
  expect(r.code === 0 && await waitKeys(server, (l) => l.includes(keys[0].hex) && l.includes(keys[1].hex), 5000),
    `after operator unseal the keys are back (${Date.now() - t1} ms)`, r.out + r.err);
  expect(await signOnce(server, keys[0].hex) === 200, "… and sign again");

  // 7. no secret in the log
  const text = fs.readFileSync(log, "utf8");
  const secrets = [master, ...keys.map((k) => k.sk)];
  const leak = secrets.some((s) => text.includes(s.toString("hex")) || text.includes(s.toString("base64")));
  expect(!leak, "no master key or secret key (hex, base64) in the signer log");
} catch (e) {
  bad(`driver: ${e.stack || e}`);
} finally {
  if (server) await killAndWait(server.proc, "SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
