// Driver of enclave_credfeed.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS, CC_NSM_DIR,
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
const LIFETIME = 3;

// No AWS credentials of the harness reach the parent or the enclave.
const clean = { ...process.env };
for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"]) delete clean[k];
clean.AWS_EC2_METADATA_DISABLED = "true";

function run(args, env = process.env) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d)); p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
const procs = [];
function spawnLogged(args, log, env) {
  const out = fs.openSync(log, "w");
  const p = spawn(bin, args, { stdio: ["ignore", out, out], env });
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

// The parent's own source: a shared-credentials file (the parent has no AWS_ACCESS_KEY_ID).
const profile = `${work}/parent-aws-credentials`;
const setProfile = (id, secret, token) => fs.writeFileSync(profile + ".tmp",
  `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n${token ? `aws_session_token = ${token}\n` : ""}`)
  || fs.renameSync(profile + ".tmp", profile);

// Access key ids seen by the KMS front (it terminates the enclave's TLS, as AWS does).
const seen = [];
let front;
try {
  writeInteropKeys(`${work}/keys`, 1);
  const kmsPort = Number(new URL(kmsUrl).port);
  front = tls.createServer({ key: fs.readFileSync(process.env.CC_FRONT_KEY), cert: fs.readFileSync(process.env.CC_FRONT_CERT) },
    (s) => {
      const k = net.connect(kmsPort, "127.0.0.1");
      let text = "";
      s.on("data", (d) => { text += d.toString("latin1"); for (const m of text.matchAll(/Credential=([A-Z0-9]+)\//g)) seen.push(m[1]); text = text.slice(-200).replace(/Credential=[A-Z0-9]+\//g, ""); });
      s.pipe(k); k.pipe(s); s.on("error", () => k.destroy()); k.on("error", () => s.destroy());
    });
  await new Promise((r) => front.listen(0, "127.0.0.1", r));
  const frontPort = front.address().port;

  const [httpPort, tlsPort, pAtls, pKms, pCred] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const [eAtls, eKms, eCred] = [await freePort(), await freePort(), await freePort()];
  fs.writeFileSync(`${work}/parent.yaml`, `routes:
  - {name: api-atls, listen: "tcp:127.0.0.1:${pAtls}", connect: "tcp:127.0.0.1:${eAtls}"}
  - {name: kms, listen: "tcp:127.0.0.1:${pKms}", connect: "tcp:127.0.0.1:${frontPort}"}
credentials: {listen: "tcp:127.0.0.1:${pCred}", lifetime_seconds: ${LIFETIME}}
`);
  setProfile("AKIDSIGNERAAAA", "signer-secret-AAAA");
  const parentEnv = { ...clean, AWS_SHARED_CREDENTIALS_FILE: profile, AWS_CONFIG_FILE: `${work}/none` };
  fs.writeFileSync(`${work}/bad.yaml`, `routes:\n  - {name: x, listen: "tcp:127.0.0.1:0", connect: "tcp:127.0.0.1:1"}\ncredentials: {listen: "tcp:127.0.0.1:0", lifetime_seconds: 1}\n`);
  let r = await run(["parent", "-c", `${work}/bad.yaml`], parentEnv);
  expect(r.code === 2 && r.err.includes("credentials.lifetime_seconds"), "parent: a bad credentials.lifetime_seconds is refused, naming it", r.err);
  fs.writeFileSync(`${work}/bad.yaml`, `routes:\n  - {name: x, listen: "tcp:127.0.0.1:0", connect: "tcp:127.0.0.1:1"}\ncredentials: {listen: "tcp:127.0.0.1:0", colour: red}\n`);
  r = await run(["parent", "-c", `${work}/bad.yaml`], parentEnv);
  expect(r.code === 2 && r.err.includes("credentials: unknown key colour"), "parent: an unknown credentials key is refused", r.err);

  const parent = spawnLogged(["parent", "-c", `${work}/parent.yaml`], `${work}/parent.log`, parentEnv);
  const parentUp = await waitFor(() => fs.readFileSync(`${work}/parent.log`, "utf8").includes("parent relay running"));
  expect(parentUp && fs.readFileSync(`${work}/parent.log`, "utf8").includes("credential feed listening"),
    "containment-chamber parent starts with the credential feed", fs.readFileSync(`${work}/parent.log`, "utf8"));
  const feed = await (await fetch(`http://127.0.0.1:${pCred}/credentials`)).json();
  const exp = Date.parse(feed.Expiration);
  expect(feed.AccessKeyId === "AKIDSIGNERAAAA" && feed.SecretAccessKey === "signer-secret-AAAA" && feed.Code === "Success" &&
    exp > Date.now() - 1000 && exp <= Date.now() + (LIFETIME + 1) * 1000,
    "GET /credentials: the container-credentials shape, the parent's profile keys, Expiration capped at the lifetime", JSON.stringify({ ...feed, SecretAccessKey: "…" }));

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
signer_state: {backend: dynamodb, table: credfeed-state, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "https://127.0.0.1:${eKms}"}}
tls: {mode: atls, listen_port: ${tlsPort}}
tee:
  platform: nitro
  nsm: simulated
  nsm_simulator: {state_dir: ${nsmDir}, pcrs: ["0=${PCR0}", "8=${PCR8}"]}
  relays: ["api-atls tcp:127.0.0.1:${eAtls} tcp:127.0.0.1:${tlsPort}", "kms tcp:127.0.0.1:${eKms} tcp:127.0.0.1:${pKms}",
           "creds tcp:127.0.0.1:${eCred} tcp:127.0.0.1:${pCred}"]
`);
  const c = await run(["dynamodb", "create-tables", "-c", cfg]);
  if (c.code !== 0) throw new Error(`create-tables: ${c.out}${c.err}`);
  // The enclave: no credentials of its own, no profile, no IMDS — only the feed through its relay.
  const encEnv = { ...clean, AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${eCred}/credentials`,
    AWS_SHARED_CREDENTIALS_FILE: `${work}/none`, AWS_CONFIG_FILE: `${work}/none`, AWS_CA_BUNDLE: process.env.CC_FRONT_CERT,
    CC_TEST_ALLOW_NSM_SIMULATOR: "1" };
  const log = `${work}/server.enclave.0.log`;
  const enc = spawnLogged(["server", "-c", cfg], log, encEnv);
  await waitHttp(`http://127.0.0.1:${httpPort}/upcheck`);
  const token = await waitFor(() => (fs.readFileSync(log, "utf8").match(/cc-setup-[0-9a-f]{32}/) || [null])[0]);
  const viaAtls = `https://127.0.0.1:${pAtls}`, root = `${nsmDir}/root.pem`;
  const att = ["--signer-url", viaAtls, "--attestation-root", root, "--expect-pcr0", PCR0, "--expect-pcr8", PCR8];
  r = await run(["operator", "init", ...att, "--setup-token", token || "x", "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]);
  expect(r.code === 0 && JSON.parse(r.out || "{}").state === "unsealed",
    "operator init: the enclave's KMS Encrypt calls, signed with the parent's key A, succeed", r.out + r.err);
  expect(seen.length >= 2 && seen.every((k) => k === "AKIDSIGNERAAAA"), "every KMS call so far was signed with A", seen.join(","));
  expect(/"aws credentials obtained","source":"container"/.test(fs.readFileSync(log, "utf8")),
    "the enclave logs credentials from the container source (the feed)");
  expect(fs.readFileSync(log, "utf8").includes("entropy: NSM GetRandom mixed into OpenSSL's RNG"),
    "nitro mode: NSM GetRandom mixed into OpenSSL's RNG at start-up");
  const agent = new http.Agent({ keepAlive: false });
  let s = await sign(agent, httpPort, (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/eth2/publicKeys`)).json())[0],
    attestation(3000, 3001, 7).body);
  expect(s.status === 200, "signs");

  // Rotate the parent's source to B (with a session token): after the lifetime, the enclave's calls use B.
  setProfile("AKIDSIGNERBBBB", "signer-secret-BBBB", "signer-token-BBBB");
  await sleep((2 * LIFETIME + 1) * 1000);
  r = await run(["operator", "seal", ...att]);
  const n0 = seen.length;
  r = await run(["operator", "unseal", ...att]);
  let st = await waitFor(async () => { try { const j = await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/chamber/status`)).json(); return j.state === "unsealed" ? j : null; } catch { return null; } }, 15000);
  const after = seen.slice(n0);
  expect(st && after.length >= 2 && after.every((k) => k === "AKIDSIGNERBBBB"),
    "after rotation: seal + unseal, the KMS Recipient Decrypts are signed with B (and its token) and succeed", `${after.join(",")} ${r.out}${r.err}`);
  s = await sign(agent, httpPort, (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/eth2/publicKeys`)).json())[0],
    attestation(3002, 3003, 7).body);
  expect(s.status === 200, "… and signs");

  // Control: rotate to a key kms-local does not know → the enclave (which uses what the parent serves) cannot unseal.
  setProfile("AKIDUNKNOWNCCCC", "signer-secret-CCCC");
  await sleep((2 * LIFETIME + 1) * 1000);
  await run(["operator", "seal", ...att]);
  const n1 = seen.length;
  r = await run(["operator", "unseal", ...att]);
  await sleep(500);
  st = await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/chamber/status`)).json();
  const ctl = seen.slice(n1);
  expect(st.state === "sealed" && ctl.length >= 1 && ctl.every((k) => k === "AKIDUNKNOWNCCCC"),
    "control: rotated to a key kms-local does not know, the enclave signs with it and stays sealed", `${st.state} ${ctl.join(",")}`);

  await killAndWait(enc, "SIGTERM");
  await killAndWait(parent, "SIGTERM");
  const logs = fs.readFileSync(`${work}/parent.log`, "utf8") + fs.readFileSync(log, "utf8");
  const leaks = ["signer-secret-AAAA", "signer-secret-BBBB", "signer-token-BBBB", "signer-secret-CCCC"].filter((w) => logs.includes(w));
  expect(leaks.length === 0, "no secret key or token in the parent's or the enclave's log", leaks.join(","));
} catch (err) {
  expect(false, `driver: ${err.stack || err}`);
} finally {
  for (const p of procs) await killAndWait(p, "SIGKILL");
  if (front) front.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
