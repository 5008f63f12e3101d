// Driver of enclave_unseal.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS, CC_NSM_DIR
// (the simulated NSM's chain; kms-local trusts its root.pem).  kms-local knows AKIDADMIN (role/admin)
// and AKIDSIGNER (role/signer); the signers run as role/signer.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer, writeInteropKeys } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;
const nsmDir = process.env.CC_NSM_DIR;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${String(detail).slice(0, 900)}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });

const mk = (id, secret) => new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: id, secretAccessKey: secret } });
const admin = mk("AKIDADMIN", "admin-secret"), signerClient = mk("AKIDSIGNER", "signer-secret");
const SIGNER_ENV = { AWS_ACCESS_KEY_ID: "AKIDSIGNER", AWS_SECRET_ACCESS_KEY: "signer-secret" };

const h = (b) => b.repeat(48);
const PCR0 = h("a0"), PCR0_NEW = h("a1"), PCR0_BAD = h("ee"), PCR8 = h("08"), PCR8_BAD = h("f8"), PCR3 = h("03"),
  PCR3_BAD = h("f3");
const ADMIN = "arn:aws:iam::000000000000:role/admin", SIGNER = "arn:aws:iam::000000000000:role/signer";
function policy(cond) {
  return JSON.stringify({ Version: "2012-10-17", Statement: [
    { Sid: "admin", Effect: "Allow", Principal: { AWS: ADMIN }, Action: "kms:*", Resource: "*" },
    { Sid: "encrypt", Effect: "Allow", Principal: { AWS: SIGNER }, Action: "kms:Encrypt", Resource: "*" },
    { Sid: "decrypt", Effect: "Allow", Principal: { AWS: SIGNER }, Action: "kms:Decrypt", Resource: "*",
      Condition: { StringEqualsIgnoreCase: cond } },
  ] });
}

// ---- helpers ---------------------------------------------------------------------------------
function config(table, name, tee) {
  const path = `${work}/config-${name}.yaml`;
  fs.writeFileSync(path, `server: {listen_address: 127.0.0.1}
metrics: {enabled: false}
network: mainnet
key_sources: {filesystem: {paths: [${work}/keys]}}
anti_slashing: {backend: sqlite, path: ${work}/slashing-${name}.sqlite}
signer_state: {backend: dynamodb, table: ${table}, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
${tee}
`);
  return path;
}
function nitro({ pcr0 = PCR0, pcr8 = PCR8, pcr3 = PCR3, auto = "", renew = 1800 } = {}) {
  return `tls: {mode: atls}
tee:
  platform: nitro
  nsm: simulated
  nsm_simulator: {state_dir: ${nsmDir}, pcrs: ["0=${pcr0}", "3=${pcr3}", "8=${pcr8}"]}
  auto_unseal: {kms_key_arn: "${auto}"}
  atls: {renew_interval_seconds: ${renew}}`;
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
let seq = 0;
const servers = [];
async function start(table, name, tee, { allowSim = true } = {}) {
  const log = `${work}/server.${name}.${seq++}.log`;
  const saved = { ...process.env };
  Object.assign(process.env, SIGNER_ENV);
  if (allowSim) process.env.CC_TEST_ALLOW_NSM_SIMULATOR = "1"; else delete process.env.CC_TEST_ALLOW_NSM_SIMULATOR;
  try {
    const tlsPort = await freePort();
    const s = await startServer(bin, config(table, name, tee), log, [`--tls.listen_port=${tlsPort}`]);
    s.log = log;
    s.url = `http://127.0.0.1:${s.port}`;
    s.https = `https://127.0.0.1:${tlsPort}`;
    servers.push(s);
    return s;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
const stop = async (s) => { await killAndWait(s.proc, "SIGTERM"); servers.splice(servers.indexOf(s), 1); };
const logText = (s) => fs.readFileSync(s.log, "utf8");
const getStatus = async (s) => (await fetch(`${s.url}/api/v1/chamber/status`)).json();
async function waitState(s, want, ms = 20000) {
  let st = null;
  for (let t = 0; t < ms; t += 100) { st = await getStatus(s); if (st.state === want) return st; await sleep(100); }
  return st;
}
async function waitLog(s, re, ms = 20000) {
  for (let t = 0; t < ms; t += 100) { const m = logText(s).match(re); if (m) return m; await sleep(100); }
  return null;
}
const agent = new http.Agent({ keepAlive: false });
let epoch = 1000;
async function signOnce(s, pk) { epoch += 2; return (await sign(agent, s.port, pk, attestation(epoch, epoch + 1, 7).body)).status; }
const operator = (s, sub, extra = []) => run(["operator", sub, "--signer-url", s.url, "--allow-plaintext-signer", ...extra]);
async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}
const getItem = async (table, pk) => (await ddb("GetItem", { TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true })).Item;
async function errName(p) { try { await p; return "none"; } catch (e) { return e.name; } }
// Which ARNs the "stays sealed" line names.
function failing(line, arns) { return arns.map((a, i) => (line.includes(a) ? i : -1)).filter((i) => i >= 0); }

// ---- the run ---------------------------------------------------------------------------------
try {
  writeInteropKeys(`${work}/keys`, 1);
  for (const t of ["enc-state", "enc-auto"]) {
    const r = await run(["dynamodb", "create-tables", "-c", config(t, "create-" + t, "")]);
    if (r.code !== 0) throw new Error(`create-tables ${t}: ${r.out} ${r.err}`);
  }
  // K1: PCR8; K2: PCR8 + PCR0 (ImageSha384); K3: PCR8 + PCR0 + PCR3.  2 of 3 unseal.
  const conds = [
    { "kms:RecipientAttestation:PCR8": PCR8 },
    { "kms:RecipientAttestation:PCR8": PCR8, "kms:RecipientAttestation:ImageSha384": PCR0 },
    { "kms:RecipientAttestation:PCR8": PCR8, "kms:RecipientAttestation:PCR0": PCR0, "kms:RecipientAttestation:PCR3": PCR3 },
  ];
  const arns = [], ids = [];
  for (const c of conds) {
    const k = await admin.send(new kms.CreateKeyCommand({ Description: "enclave share", Policy: policy(c) }));
    arns.push(k.KeyMetadata.Arn); ids.push(k.KeyMetadata.KeyId);
  }

  // ---- 1. the right enclave inits, restarts, unseals through Recipient, signs
  let e = await start("enc-state", "good", nitro());
  const pk = (await (await fetch(`${e.url}/api/v1/eth2/publicKeys`)).json())[0];
  await waitLog(e, /setup_token/);
  const token = (logText(e).match(/cc-setup-[0-9a-f]{32}/) || [""])[0];
  let r = await operator(e, "init", ["--setup-token", token, "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]);
  let st = await getStatus(e);
  expect(r.code === 0 && st.state === "unsealed", "enclave (simulated NSM, right PCRs): operator init 2-of-3 → unsealed",
    r.out + r.err + JSON.stringify(st));
  expect(logText(e).includes("SIMULATED NSM") && logText(e).includes("KMS Recipient"),
    "the signer logs that it runs on a simulated NSM and unseals with KMS Recipient");
  expect(await signOnce(e, pk) === 200, "… and signs");

  // The policies really need attestation: the signer role's plain Decrypt of a stored share is refused.
  const item = await getItem("enc-state", "STATE");
  const shares = item.shares.L.map((x) => x.M);
  let plainErrs = [];
  for (const s of shares) {
    const ctx = { "containment-chamber:share": s.index.N, "containment-chamber:version": "1" };
    plainErrs.push(await errName(signerClient.send(new kms.DecryptCommand({ CiphertextBlob: Buffer.from(s.blob.B, "base64"),
      EncryptionContext: ctx }))));
  }
  expect(plainErrs.every((n) => n === "AccessDeniedException"),
    "the signer role's Decrypt without Recipient is refused for every share key", plainErrs.join(","));

  await stop(e);
  e = await start("enc-state", "good", nitro());
  st = await waitState(e, "unsealed");
  expect(st.state === "unsealed" && !/setup_token/.test(logText(e)),
    "restart with the right PCRs: unseals by itself through KMS Recipient", JSON.stringify(st));
  expect(await signOnce(e, pk) === 200, "… and signs");

  // aTLS: the HTTPS listener's certificate carries a document bound to its key, with the enclave's PCRs.
  const root = `${nsmDir}/root.pem`;
  const verify = (extra) => run(["attestation", "verify", "--url", e.https, "--root", root, "--max-age", "120", ...extra]);
  r = await verify(["--expect-pcr0", PCR0, "--expect-pcr8", PCR8, "--expect-pcr3", PCR3]);
  let doc = {};
  try { doc = JSON.parse(r.out); } catch { /* checked below */ }
  expect(r.code === 0 && doc.valid === true && doc.pcrs["0"] === PCR0 && doc.pcrs["8"] === PCR8 &&
    /^[0-9a-f]{64}$/.test(doc.user_data || ""),
    "attestation verify --url (aTLS): valid, PCR0/3/8 as expected, user_data = SPKI hash", r.out + r.err);
  r = await verify(["--expect-pcr0", PCR0_BAD]);
  expect(r.code === 1 && /pcr|PCR/.test(r.err), "… with a wrong expected PCR0: exit 1, saying why", r.err);
  r = await run(["attestation", "verify", "--url", e.https, "--expect-pcr0", PCR0]);
  expect(r.code === 1, "… against the built-in AWS root (a simulator's chain): exit 1", r.err);
  r = await run(["operator", "status", "--signer-url", e.https, "--attestation-root", root, "--expect-pcr0", PCR0,
    "--expect-pcr8", PCR8]);
  let opst = {};
  try { opst = JSON.parse(r.out); } catch { /* checked below */ }
  expect(r.code === 0 && opst.state === "unsealed", "operator status over aTLS with --expect-pcr0/8: verified, then sent",
    r.out + r.err);
  const before = logText(e).split("\n").length;
  r = await run(["operator", "seal", "--signer-url", e.https, "--attestation-root", root, "--expect-pcr0", PCR0_BAD]);
  st = await getStatus(e);
  expect(r.code === 1 && r.err.includes("nothing was sent") && st.state === "unsealed" &&
    !logText(e).split("\n").slice(before).some((l) => l.includes("sealed by an operator")),
    "operator seal with a wrong --expect-pcr0: refused before sending (the signer stays unsealed)", r.err);
  r = await run(["operator", "status", "--signer-url", e.https]);
  expect(r.code === 1, "operator without --expect-pcrN does not trust the self-signed aTLS certificate", r.err);
  await stop(e);

  // Renewal: a fresh key and document every renew_interval_seconds, served without a restart.
  e = await start("enc-state", "good", nitro({ renew: 10 }));
  await waitState(e, "unsealed");
  const spki = async () => {
    const v = await run(["attestation", "verify", "--url", e.https, "--root", root, "--expect-pcr8", PCR8]);
    try { return v.code === 0 ? JSON.parse(v.out).user_data : null; } catch { return null; }
  };
  const k1 = await spki();
  const renewed = await waitLog(e, /atls: certificate renewed/, 25000);
  await sleep(300);
  const k2 = await spki();
  expect(k1 && k2 && k1 !== k2 && renewed, "aTLS renewal: after renew_interval_seconds a new key is served (still valid)",
    `${k1} → ${k2}`);
  await stop(e);

  // ---- 2. wrong PCRs or no attestation: no share, sealed, the failing keys named
  const cases = [
    ["wrong PCR0", nitro({ pcr0: PCR0_BAD }), [1, 2]],
    ["wrong PCR8", nitro({ pcr8: PCR8_BAD }), [0, 1, 2]],
    ["no attestation (tee.platform none)", "tee: {platform: none}", [0, 1, 2]],
  ];
  for (const [what, tee, want] of cases) {
    const s = await start("enc-state", "bad", tee);
    const m = await waitLog(s, /chamber stays sealed[^\n]*/);
    st = await getStatus(s);
    const line = m ? m[0] : "";
    expect(m && st.state === "sealed" && await signOnce(s, pk) === 503,
      `${what}: stays sealed, signing 503`, JSON.stringify(st));
    expect(JSON.stringify(failing(line, arns)) === JSON.stringify(want) && line.includes("AccessDenied"),
      `${what}: the log names exactly key(s) ${want.map((i) => "K" + (i + 1)).join(", ")} (AccessDenied)`, line);
    await stop(s);
  }
  // A wrong PCR3 costs only K3: 2 of 3 still unseal.
  e = await start("enc-state", "pcr3", nitro({ pcr3: PCR3_BAD }));
  st = await waitState(e, "unsealed");
  await waitLog(e, /could not decrypt its share/); // K3's refusal may land after the 2 good shares unsealed
  await sleep(300);
  const warn3 = (logText(e).match(/could not decrypt its share[^\n]*/g) || []).join("\n");
  expect(st.state === "unsealed" && failing(warn3, arns).join() === "2",
    "wrong PCR3 only: K3 refuses (logged), K1 + K2 unseal", JSON.stringify(st) + warn3);
  await stop(e);

  // The simulator is refused unless the test switch is set.
  r = await run(["server", "-c", config("enc-state", "nosim", nitro())], { ...SIGNER_ENV, CC_TEST_ALLOW_NSM_SIMULATOR: "" });
  expect(r.code === 2 && r.err.includes("CC_TEST_ALLOW_NSM_SIMULATOR"),
    "tee.nsm simulated without CC_TEST_ALLOW_NSM_SIMULATOR=1: refused at start-up, naming it", r.err);

  // ---- 3. auto-unseal
  const au = await admin.send(new kms.CreateKeyCommand({ Description: "auto-unseal",
    Policy: policy({ "kms:RecipientAttestation:PCR8": PCR8, "kms:RecipientAttestation:ImageSha384": PCR0 }) }));
  const AU = au.KeyMetadata.Arn;
  e = await start("enc-auto", "auto", nitro({ auto: AU }));
  await waitLog(e, /setup_token/);
  const token2 = (logText(e).match(/cc-setup-[0-9a-f]{32}/) || [""])[0];
  r = await operator(e, "init", ["--setup-token", token2, "--kms-key-arns", arns.join(","), "--kms-threshold", "2"]);
  const stored = await waitLog(e, /auto-unseal blob stored/);
  let blobItem = await getItem("enc-auto", "NITRO_AUTO_UNSEAL");
  expect(r.code === 0 && stored && blobItem && blobItem.kms_key_arn.S === AU && blobItem.version.N === "1" &&
    blobItem.blob.B.length > 40, "init in the enclave stores the auto-unseal blob (key ARN, version 1)",
    r.out + r.err + JSON.stringify(blobItem));
  const auErr = await errName(signerClient.send(new kms.DecryptCommand({ CiphertextBlob: Buffer.from(blobItem.blob.B, "base64"),
    EncryptionContext: { "containment-chamber:purpose": "nitro-auto-unseal", "containment-chamber:version": "1" } })));
  expect(auErr === "AccessDeniedException", "the blob does not decrypt without attestation", auErr);
  await stop(e);

  for (const id of ids) await admin.send(new kms.DisableKeyCommand({ KeyId: id }));
  e = await start("enc-auto", "auto", nitro({ auto: AU }));
  st = await waitState(e, "unsealed");
  expect(st.state === "unsealed" && logText(e).includes("released by the auto-unseal blob") &&
    !logText(e).includes("could not decrypt its share"),
    "every share key disabled: a restart with the same PCRs unseals unattended from the blob", JSON.stringify(st));
  expect(await signOnce(e, pk) === 200, "… and signs");
  await stop(e);

  e = await start("enc-auto", "auto-new", nitro({ pcr0: PCR0_NEW, auto: AU }));
  const m = await waitLog(e, /chamber stays sealed[^\n]*/);
  const noAuto = (logText(e).match(/no auto-unseal[^\n]*/) || [""])[0];
  st = await getStatus(e);
  expect(m && st.state === "sealed" && noAuto.includes("AccessDenied"),
    "a new image (PCR0 changed): the blob is refused and the chamber stays sealed", noAuto + JSON.stringify(st));
  await stop(e);
  await admin.send(new kms.PutKeyPolicyCommand({ KeyId: AU, PolicyName: "default",
    Policy: policy({ "kms:RecipientAttestation:PCR8": PCR8, "kms:RecipientAttestation:ImageSha384": [PCR0, PCR0_NEW] }) }));
  e = await start("enc-auto", "auto-new", nitro({ pcr0: PCR0_NEW, auto: AU }));
  st = await waitState(e, "unsealed");
  expect(st.state === "unsealed" && logText(e).includes("released by the auto-unseal blob"),
    "… once the blob key's policy lists the new PCR0, a restart unseals unattended", JSON.stringify(st));
  await stop(e);

  // A blob planted by someone who can write the table: right key and context, wrong master key.
  const planted = await admin.send(new kms.EncryptCommand({ KeyId: AU, Plaintext: Buffer.alloc(32, 7),
    EncryptionContext: { "containment-chamber:purpose": "nitro-auto-unseal", "containment-chamber:version": "1" } }));
  await ddb("PutItem", { TableName: "enc-auto", Item: { pk: { S: "NITRO_AUTO_UNSEAL" }, kms_key_arn: { S: AU },
    version: { N: "1" }, blob: { B: Buffer.from(planted.CiphertextBlob).toString("base64") }, updated_at: { S: "x" } } });
  e = await start("enc-auto", "auto", nitro({ auto: AU }));
  await waitLog(e, /stays sealed|integrity check/);
  st = await getStatus(e);
  expect(st.state === "sealed" && /integrity check \(refused\)/.test(logText(e)),
    "a planted blob (wrong master key) is refused by the integrity check; shares disabled → sealed", JSON.stringify(st));
  await stop(e);
  for (const id of ids) await admin.send(new kms.EnableKeyCommand({ KeyId: id }));
  e = await start("enc-auto", "auto", nitro({ auto: AU }));
  st = await waitState(e, "unsealed");
  await waitLog(e, /auto-unseal blob stored/);
  blobItem = await getItem("enc-auto", "NITRO_AUTO_UNSEAL");
  expect(st.state === "unsealed" && Buffer.from(blobItem.blob.B, "base64").compare(Buffer.from(planted.CiphertextBlob)) !== 0,
    "… the shares unseal it and the planted blob is replaced", JSON.stringify(st));
  await stop(e);
  for (const id of ids) await admin.send(new kms.DisableKeyCommand({ KeyId: id }));
  e = await start("enc-auto", "auto", nitro({ auto: AU }));
  st = await waitState(e, "unsealed");
  expect(st.state === "unsealed" && logText(e).includes("released by the auto-unseal blob"),
    "… and the replacement unseals unattended again", JSON.stringify(st));
  await stop(e);

  // Nothing secret in any signer log: no share plaintext marker, no PEM private key.
  const logs = fs.readdirSync(work).filter((f) => f.startsWith("server.")).map((f) => fs.readFileSync(`${work}/${f}`, "utf8")).join("\n");
  expect(!/PRIVATE KEY|CiphertextForRecipient|"plaintext"/i.test(logs), "no private key, envelope or plaintext in the logs");
} catch (err) {
  bad(`driver: ${err.stack || err}`);
} finally {
  for (const s of [...servers]) await killAndWait(s.proc, "SIGKILL");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
