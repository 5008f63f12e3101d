// Driver of enclave_relay.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS, CC_NSM_DIR,
// CC_FRONT_KEY / CC_FRONT_CERT (the test TLS front of kms-local).
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, writeInteropKeys } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;
const nsmDir = process.env.CC_NSM_DIR;

let passed = 0, failed = 0;
const expect = (c, m, d = "") => { if (c) { passed++; console.log(`ok   ${m}`); } else { failed++; console.log(`FAIL ${m}${d ? ": " + String(d).slice(0, 900) : ""}`); } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
const h = (b) => b.repeat(48);
const PCR0 = h("a0"), PCR8 = h("08");
const ADMIN = "arn:aws:iam::000000000000:role/admin", SIGNER = "arn:aws:iam::000000000000:role/signer";
const admin = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: "AKIDADMIN", secretAccessKey: "admin-secret" } });

function run(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env } });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d)); p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
const procs = [];
function spawnLogged(args, log, env) {
  const out = fs.openSync(log, "w");
  const p = spawn(bin, args, { stdio: ["ignore", out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  procs.push(p);
  return p;
}
async function waitHttp(url, ms = 20000) {
  for (let t = 0; t < ms; t += 50) {
    try { const r = await fetch(url, { signal: AbortSignal.timeout(2000) }); if (r.status) return true; } catch { /* not yet */ }
    await sleep(50);
  }
  return false;
}
async function waitFor(fn, ms = 20000) { for (let t = 0; t < ms; t += 100) { const v = await fn(); if (v) return v; await sleep(100); } return null; }

// Is buf a whole sequence of TLS records?
function tlsRecords(buf) {
  let off = 0, n = 0;
  while (off < buf.length) {
    if (off + 5 > buf.length) return -1;
    const type = buf[off], major = buf[off + 1], minor = buf[off + 2], len = buf.readUInt16BE(off + 3);
    if (type < 20 || type > 23 || major !== 3 || minor > 4 || len > 16384 + 2048) return -1;
    off += 5 + len; n++;
  }
  return off === buf.length ? n : -1;
}

const cap = `${work}/capture`;
fs.mkdirSync(cap);
let front;
try {
  writeInteropKeys(`${work}/keys`, 1);
  // The TLS front of kms-local: what "kms.<region>.amazonaws.com:443" is to a real enclave.
  const kmsPort = Number(new URL(kmsUrl).port);
  front = tls.createServer({ key: fs.readFileSync(process.env.CC_FRONT_KEY), cert: fs.readFileSync(process.env.CC_FRONT_CERT) },
    (s) => { const k = net.connect(kmsPort, "127.0.0.1"); s.pipe(k); k.pipe(s); s.on("error", () => k.destroy()); k.on("error", () => s.destroy()); });
  await new Promise((r) => front.listen(0, "127.0.0.1", r));
  const frontPort = front.address().port;

  const [httpPort, tlsPort, pApi, pAtls, pKms] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  // The enclave's own relays (tee.relays); their tcp listeners stand in for vsock ones (no vsock loopback here).
  const [eApi, eAtls, eKms] = [await freePort(), await freePort(), await freePort()];
  fs.writeFileSync(`${work}/parent.yaml`, `routes:
  - {name: api, listen: "tcp:127.0.0.1:${pApi}", connect: "tcp:127.0.0.1:${eApi}"}
  - {name: api-atls, listen: "tcp:127.0.0.1:${pAtls}", connect: "tcp:127.0.0.1:${eAtls}"}
  - {name: kms, listen: "tcp:127.0.0.1:${pKms}", connect: "tcp:127.0.0.1:${frontPort}"}
`);
  const parent = spawnLogged(["parent", "-c", `${work}/parent.yaml`], `${work}/parent.log`, { CC_TEST_RELAY_CAPTURE_DIR: cap });
  const parentUp = await waitFor(() => fs.readFileSync(`${work}/parent.log`, "utf8").includes("parent relay running"));
  expect(parentUp, "containment-chamber parent starts with three routes", fs.readFileSync(`${work}/parent.log`, "utf8"));
  // Path of every exchange: client → parent relay → enclave relay (tee.relays) → signer, and
  // signer → enclave relay → parent relay → TLS front → kms-local.

  const r0 = await run(["parent", "-c", "/nonexistent.yaml"]);
  expect(r0.code === 2 && r0.err.includes("/nonexistent.yaml"), "parent: a missing file is refused, naming it", r0.err);
  fs.writeFileSync(`${work}/bad.yaml`, `routes:\n  - {name: x, listen: "tcp:127.0.0.1:0", connect: "http://evil"}\n`);
  const r1 = await run(["parent", "-c", `${work}/bad.yaml`]);
  expect(r1.code === 2 && r1.err.includes("routes[0].connect"), "parent: a malformed destination is refused, naming it", r1.err);

  // KMS keys released only to the enclave's PCRs.
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [
    { Sid: "admin", Effect: "Allow", Principal: { AWS: ADMIN }, Action: "kms:*", Resource: "*" },
    { Sid: "enc", Effect: "Allow", Principal: { AWS: SIGNER }, Action: "kms:Encrypt", Resource: "*" },
    { Sid: "dec", Effect: "Allow", Principal: { AWS: SIGNER }, Action: "kms:Decrypt", Resource: "*",
      Condition: { StringEqualsIgnoreCase: { "kms:RecipientAttestation:PCR8": PCR8, "kms:RecipientAttestation:ImageSha384": PCR0 } } }] });
  const arns = [];
  for (let i = 0; i < 2; i++) arns.push((await admin.send(new kms.CreateKeyCommand({ Policy: policy }))).KeyMetadata.Arn);

  const cfg = `${work}/enclave.yaml`;
  fs.writeFileSync(cfg, `server: {listen_address: 127.0.0.1, listen_port: ${httpPort}}
metrics: {enabled: false}
network: mainnet
key_sources: {filesystem: {paths: [${work}/keys]}}
anti_slashing: {backend: sqlite, path: ${work}/slashing.sqlite}
signer_state: {backend: dynamodb, table: relay-state, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "https://127.0.0.1:${eKms}"}}
tls: {mode: atls, listen_port: ${tlsPort}}
tee:
  platform: nitro
  nsm: simulated
  nsm_simulator: {state_dir: ${nsmDir}, pcrs: ["0=${PCR0}", "8=${PCR8}"]}
  relays: ["api tcp:127.0.0.1:${eApi} tcp:127.0.0.1:${httpPort}", "api-atls tcp:127.0.0.1:${eAtls} tcp:127.0.0.1:${tlsPort}",
           "kms tcp:127.0.0.1:${eKms} tcp:127.0.0.1:${pKms}"]
`);
  const c = await run(["dynamodb", "create-tables", "-c", cfg]);
  if (c.code !== 0) throw new Error(`create-tables: ${c.out}${c.err}`);
  const env = { AWS_ACCESS_KEY_ID: "AKIDSIGNER", AWS_SECRET_ACCESS_KEY: "signer-secret", AWS_CA_BUNDLE: process.env.CC_FRONT_CERT,
    CC_TEST_ALLOW_NSM_SIMULATOR: "1" };
  let log = `${work}/server.enclave.0.log`;
  let enc = spawnLogged(["server", "-c", cfg], log, env);
  await waitHttp(`http://127.0.0.1:${httpPort}/upcheck`); /* up first: a relayed connection to a closed port is refused */
  expect(await waitHttp(`http://127.0.0.1:${pApi}/upcheck`), "the signer answers through the relay's api route");
  const token = await waitFor(() => (fs.readFileSync(log, "utf8").match(/cc-setup-[0-9a-f]{32}/) || [null])[0]);
  const viaAtls = `https://127.0.0.1:${pAtls}`, root = `${nsmDir}/root.pem`;
  let r = await run(["operator", "init", "--signer-url", viaAtls, "--attestation-root", root, "--expect-pcr0", PCR0,
    "--expect-pcr8", PCR8, "--setup-token", token || "x", "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]);
  expect(r.code === 0 && JSON.parse(r.out || "{}").state === "unsealed",
    "operator init over aTLS through the relay (PCRs checked first): unsealed, shares encrypted through the kms route",
    r.out + r.err);
  const agent = new http.Agent({ keepAlive: false });
  let s = await sign(agent, pApi, (await (await fetch(`http://127.0.0.1:${pApi}/api/v1/eth2/publicKeys`)).json())[0],
    attestation(3000, 3001, 7).body);
  expect(s.status === 200, "a signing request through the relay: 200");

  await killAndWait(enc, "SIGTERM");
  log = `${work}/server.enclave.1.log`;
  enc = spawnLogged(["server", "-c", cfg], log, env);
  await waitHttp(`http://127.0.0.1:${httpPort}/upcheck`);
  const st = await waitFor(async () => { try { const j = await (await fetch(`http://127.0.0.1:${pApi}/api/v1/chamber/status`)).json(); return j.state === "unsealed" ? j : null; } catch { return null; } });
  expect(st, "restart: unsealed with KMS Recipient through the relay's kms route (TLS to the KMS front)", fs.readFileSync(log, "utf8").slice(-1500));
  r = await run(["operator", "status", "--signer-url", viaAtls, "--attestation-root", root, "--expect-pcr0", PCR0]);
  expect(r.code === 0, "operator status over aTLS through the relay", r.err);
  s = await sign(agent, pApi, (await (await fetch(`http://127.0.0.1:${pApi}/api/v1/eth2/publicKeys`)).json())[0],
    attestation(3002, 3003, 7).body);
  expect(s.status === 200, "… and signs");
  await killAndWait(enc, "SIGTERM");
  await killAndWait(parent, "SIGTERM");

  // ---- what crossed the relay
  const files = fs.readdirSync(cap);
  const read = (prefix) => files.filter((f) => f.startsWith(prefix + ".")).map((f) => ({ f, b: fs.readFileSync(`${cap}/${f}`) }));
  const kmsCaps = read("kms"), atlsCaps = read("api-atls"), apiCaps = read("api");
  const kmsBytes = kmsCaps.reduce((n, x) => n + x.b.length, 0);
  expect(kmsCaps.length >= 2 && kmsBytes > 2000, "the KMS exchange crossed the relay",
    `${kmsCaps.length} files, ${kmsBytes} bytes`);
  const notTls = [...kmsCaps, ...atlsCaps].filter((x) => x.b.length && tlsRecords(x.b) < 1).map((x) => x.f);
  expect(notTls.length === 0 && atlsCaps.length >= 2, "every relayed KMS and aTLS byte is inside TLS records",
    notTls.join(","));
  const all = Buffer.concat([...kmsCaps, ...atlsCaps].map((x) => x.b)).toString("latin1");
  const leaks = ["TrentService", "CiphertextBlob", "CiphertextForRecipient", "Plaintext", "Recipient", "AttestationDocument",
    "/api/v1/chamber", "setup_token", token || "cc-setup-", "root_token", "Authorization"].filter((w) => all.includes(w));
  expect(leaks.length === 0, "no KMS field, share, request, setup token or credential in the relayed TLS streams", leaks.join(","));
  const apiText = Buffer.concat(apiCaps.map((x) => x.b)).toString("latin1");
  expect(apiText.includes("POST /api/v1/eth2/sign/") && apiText.includes("GET /upcheck"),
    "control: the plain signing route's capture does show its requests (the capture sees what crosses)");
} catch (err) {
  expect(false, `driver: ${err.stack || err}`);
} finally {
  for (const p of procs) await killAndWait(p, "SIGKILL");
  if (front) front.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
