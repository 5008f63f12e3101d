// Driver of chamber_quorum.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS,
// CC_DDB (dynalite URL), CC_KMS (kms-local URL); AWS_* credentials set.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, freePort, killAndWait, writeInteropKeys } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${detail}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TIMEOUT_S = 4; // signer_state.unseal_timeout_seconds (the test-only override of the minutes)
const REG_RE = /^cc-reg-[0-9a-f]{64}$/;

const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

function config(table) {
  const p = `${work}/config-${table}.yaml`;
  fs.writeFileSync(p, `server: {listen_address: 127.0.0.1}
metrics: {enabled: true, listen_address: 127.0.0.1}
network: mainnet
key_sources: {filesystem: {paths: [${work}/keys]}}
anti_slashing: {backend: sqlite, path: ${work}/slashing.sqlite}
signer_state: {backend: dynamodb, table: ${table}, refresh_interval_seconds: 1, unseal_timeout_seconds: ${TIMEOUT_S}}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
`);
  return p;
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
async function start(name, cfg) {
  const port = await freePort(), mport = await freePort();
  const log = `${work}/server.${name}.${logSeq++}.log`;
  const out = fs.openSync(log, "w");
  const proc = spawn(bin, ["server", "-c", cfg, `--server.listen_port=${port}`, `--metrics.listen_port=${mport}`,
    `--anti_slashing.path=${work}/slashing-${name}.sqlite`], { stdio: ["ignore", out, out] });
  fs.closeSync(out);
  const s = { proc, port, log, url: `http://127.0.0.1:${port}` };
  for (const t0 = Date.now(); Date.now() - t0 < 30000;) { // bounded: 30 s, for loaded or sanitized runs
    if (proc.exitCode !== null) break;
    try { if ((await fetch(`${s.url}/upcheck`)).status === 200) return s; } catch { /* not yet */ }
    await sleep(5);
  }
  throw new Error(`server ${name} did not start (exit ${proc.exitCode}, signal ${proc.signalCode}):\n` +
    fs.readFileSync(log, "utf8").slice(-2000));
}
const logText = (s) => fs.readFileSync(s.log, "utf8");
async function waitLog(s, re, ms = 20000) {
  for (let t = 0; t < ms; t += 100) {
    const m = logText(s).match(re);
    if (m) return m;
    await sleep(100);
  }
  return null;
}
function req(s, method, path, body) {
  return new Promise((resolve) => {
    const headers = { Accept: "application/json" };
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data !== undefined) headers["Content-Type"] = "application/json";
    const r = http.request({ host: "127.0.0.1", port: s.port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* text */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    r.on("error", (e) => resolve({ status: 0, text: e.message, json: null }));
    r.end(data);
  });
}
const status = async (s) => (await req(s, "GET", "/api/v1/chamber/status")).json || {};
async function within(ms, fn) {
  const t0 = Date.now();
  while (Date.now() - t0 <= ms) {
    if (await fn()) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}
let epoch = 3000;
const sign = async (s, pk) => { epoch += 2; return (await req(s, "POST", `/api/v1/eth2/sign/${pk}`, attestation(epoch, epoch + 1, 9).body)).status; };
const operator = (s, args, env = {}) => run(["operator", ...args, "--signer-url", s.url, "--allow-plaintext-signer"], env);
async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}

// The secrets of the run (scanned for at the end).
const PASS = { alice: "alice: correct horse battery staple", bob: "bob: tr0ub4dor&3 but longer" };
const WRONG = "bob: tr0ub4dor&3 but wronger";
const carolSecret = crypto.randomBytes(20); // the YubiKey's slot-2 HMAC-SHA1 secret (software stand-in)
const yubi = (challengeHex) => crypto.createHmac("sha1", carolSecret).update(Buffer.from(challengeHex, "hex")).digest("hex");
const secrets = [PASS.alice, PASS.bob, WRONG, carolSecret.toString("hex")];
const logs = [];

try {
  writeInteropKeys(`${work}/keys`, 2);
  const cfg = config("cc-quorum");
  let r = await run(["dynamodb", "create-tables", "-c", cfg]);
  if (r.code !== 0) throw new Error(`create-tables: ${r.out} ${r.err}`);
  const arns = [];
  for (let i = 0; i < 3; i++) arns.push((await client.send(new kms.CreateKeyCommand({ Description: `quorum ${i}` }))).KeyMetadata.Arn);

  // 1. init: 2-of-3 KMS + 2-of-3 operators → awaiting_registration, three one-time tokens.
  let a = await start("a", cfg);
  logs.push(a.log);
  await waitLog(a, /cc-setup-[0-9a-f]{32}/);
  const setup = logText(a).match(/cc-setup-[0-9a-f]{32}/)[0];
  r = await operator(a, ["init", "--setup-token", "env:CC_SETUP", "--kms-key-arns", arns.join(","), "--kms-threshold", "2",
    "--operators", "alice,bob,carol", "--operator-threshold", "2"], { CC_SETUP: setup });
  const init = r.code === 0 ? JSON.parse(r.out) : {};
  const toks = init.registration_tokens || {};
  expect(r.code === 0 && init.state === "awaiting_registration" && init.mode === "quorum" &&
    ["alice", "bob", "carol"].every((n) => REG_RE.test(toks[n] || "")) && new Set(Object.values(toks)).size === 3,
    "operator init --operators alice,bob,carol --operator-threshold 2: awaiting_registration, 3 one-time tokens",
    r.out + r.err);
  for (const t of Object.values(toks)) secrets.push(t);
  const pks = (await req(a, "GET", "/api/v1/eth2/publicKeys")).json;
  expect((await sign(a, pks[0])) === 503, "awaiting_registration: signing 503");
  let st = await status(a);
  expect(st.operator_threshold === 2 && st.operators?.length === 3 && st.operators.every((o) => !o.registered && o.kind === "none") &&
    /^[0-9a-f]{64}$/.test(st.operators[2].yubikey_challenge) && st.holds_pending_registration === true,
    "status: operators (none registered), their YubiKey challenges, threshold", JSON.stringify(st));

  // 2. registrations: alice (CLI, passphrase from env), reuse refused, bob (API), carol (YubiKey response).
  r = await operator(a, ["register", "--registration-token", "env:REG", "--passphrase", "env:PASS"], { REG: toks.alice, PASS: PASS.alice });
  expect(r.code === 0 && JSON.parse(r.out).operator === "alice" && JSON.parse(r.out).state === "awaiting_registration",
    "operator register (alice, passphrase via env:VAR)", r.out + r.err);
  let x = await req(a, "POST", "/api/v1/chamber/operators/register", { registration_token: toks.alice, passphrase: "another passphrase" });
  expect(x.status === 409 && /already used/.test(x.text), "a registration token cannot be reused (409)", `${x.status} ${x.text}`);
  x = await req(a, "POST", "/api/v1/chamber/operators/register", { registration_token: "cc-reg-" + "0".repeat(64), passphrase: "whatever passphrase" });
  expect(x.status === 403, "an unknown registration token is 403", `${x.status} ${x.text}`);
  x = await req(a, "POST", "/api/v1/chamber/operators/register", { registration_token: toks.bob, passphrase: "short" });
  expect(x.status === 400 && /passphrase/.test(x.text), "a too-short passphrase is 400 naming the field (token not spent)", x.text);
  x = await req(a, "POST", "/api/v1/chamber/operators/register", { registration_token: toks.bob, passphrase: PASS.bob });
  expect(x.status === 200 && x.json.operator === "bob", "register bob (API)", x.text);
  const chal = x.json.operators.find((o) => o.name === "carol").yubikey_challenge;
  secrets.push(yubi(chal)); // the response is a credential too
  r = await operator(a, ["register", "--registration-token", toks.carol, "--yubikey-response-hex", "env:RESP"], { RESP: yubi(chal) });
  const reg3 = r.code === 0 ? JSON.parse(r.out) : {};
  expect(r.code === 0 && reg3.state === "unsealed" && reg3.registration_complete === true &&
    reg3.operators.map((o) => o.kind).join(",") === "passphrase,passphrase,yubikey",
    "register carol (YubiKey HMAC-SHA1 response of slot 2, computed in software): all registered → unsealed", r.out + r.err);
  expect(reg3.operators?.[0]?.argon2?.memory_kib === 65536 && reg3.operators[0].argon2.iterations === 3 &&
    reg3.operators[0].argon2.parallelism === 1, "Argon2id parameters stored per operator (defaults t=3, m=64 MiB, p=1)",
    JSON.stringify(reg3.operators?.[0]));
  x = await req(a, "POST", "/api/v1/chamber/operators/register", { registration_token: toks.carol, passphrase: "again and again" });
  expect(x.status === 409, "… and after completion a token is still refused (409)", `${x.status} ${x.text}`);
  expect((await sign(a, pks[0])) === 200, "unsealed: signs");

  // 3. a second replica follows: KMS stage only, then needs its own operator submissions.
  let b = await start("b", cfg);
  logs.push(b.log);
  expect(await within(20000, async () => (await status(b)).state === "kms_unsealed") >= 0,
    "replica b (started after init): kms_unsealed by itself", JSON.stringify(await status(b)));
  expect((await sign(b, pks[0])) === 503, "… and does not sign (503)");

  // 4. restart → kms_unsealed, 503; one good passphrase → still 503; a wrong one refused and counted; second → unsealed.
  await killAndWait(a.proc);
  a = await start("a", cfg);
  logs.push(a.log);
  expect(await within(20000, async () => (await status(a)).state === "kms_unsealed") >= 0,
    "restart: KMS unwraps the outer layer by itself → kms_unsealed", JSON.stringify(await status(a)));
  expect((await sign(a, pks[0])) === 503, "kms_unsealed: signing 503 (the KMS keys alone do not give the master key)");
  r = await operator(a, ["unseal", "--operator", "alice", "--passphrase", "env:PASS"], { PASS: PASS.alice });
  st = r.code === 0 ? JSON.parse(r.out) : {};
  expect(r.code === 0 && st.state === "kms_unsealed" && st.submissions === 1 && st.message === "accepted",
    "operator unseal --operator alice: accepted, 1 of 2", r.out + r.err);
  expect((await sign(a, pks[0])) === 503, "one operator of two: still 503");
  x = await req(a, "POST", "/api/v1/chamber/unseal", { operator: "bob", passphrase: WRONG });
  st = await status(a);
  expect(x.status === 403 && /wrong passphrase/.test(x.text) && st.failed_submissions === 1 && st.submissions === 1 &&
    st.state === "kms_unsealed", "a wrong passphrase is refused (403) and counted (failed_submissions 1)", `${x.text} ${JSON.stringify(st)}`);
  expect(await waitLog(a, /"msg":"chamber: operator unseal submission refused".*"operator":"bob"/, 3000) !== null,
    "… and logged (operator named, no secret)");
  x = await req(a, "POST", "/api/v1/chamber/unseal", { operator: "alice", passphrase: PASS.alice });
  expect(x.status === 409, "the same operator twice in one window: 409", x.text);
  r = await operator(a, ["unseal", "--operator", "bob", "--passphrase", "env:PASS"], { PASS: PASS.bob });
  st = r.code === 0 ? JSON.parse(r.out) : {};
  expect(r.code === 0 && st.state === "unsealed" && st.message === "unsealed", "second correct passphrase → unsealed",
    r.out + r.err);
  expect((await sign(a, pks[0])) === 200, "… and signs");

  // 5. the submission window: one submission, the timeout passes → discarded (back to zero).
  x = await req(a, "POST", "/api/v1/chamber/seal");
  expect(x.status === 200 && x.json.state === "sealed", "seal", x.text);
  x = await req(a, "POST", "/api/v1/chamber/unseal", { operator: "carol", yubikey_response: yubi(chal) });
  expect(x.status === 200 && x.json.state === "kms_unsealed" && x.json.submissions === 1,
    "after a seal, a submission runs the KMS stage first (YubiKey response accepted)", x.text);
  const t0 = Date.now();
  const gone = await within((TIMEOUT_S + 3) * 1000, async () => (await status(a)).submissions === 0);
  expect(gone >= (TIMEOUT_S - 1) * 1000 && (await status(a)).state === "kms_unsealed",
    `the submission is discarded after unseal_timeout (${TIMEOUT_S} s): ${(gone / 1000).toFixed(1)} s`, `${Date.now() - t0}`);
  expect(await waitLog(a, /operator unseal submissions expired/, 3000) !== null, "… logged");
  x = await req(a, "POST", "/api/v1/chamber/unseal", { operator: "alice", passphrase: PASS.alice });
  expect(x.status === 200 && x.json.state === "kms_unsealed" && x.json.submissions === 1,
    "… so the next good submission is 1 of 2 again", x.text);
  x = await req(a, "POST", "/api/v1/chamber/unseal", { operator: "carol", yubikey_response: yubi(chal) });
  expect(x.status === 200 && x.json.state === "unsealed", "… and a second one unseals", x.text);
  x = await req(b, "POST", "/api/v1/chamber/unseal", { operator: "carol", yubikey_response: yubi("00".repeat(32)) });
  expect(x.status === 403 && /wrong yubikey response/.test(x.text), "a response to the wrong challenge is refused", x.text);
  await req(b, "POST", "/api/v1/chamber/unseal", { operator: "bob", passphrase: PASS.bob });
  x = await req(b, "POST", "/api/v1/chamber/unseal", { operator: "alice", passphrase: PASS.alice });
  expect(x.status === 200 && x.json.state === "unsealed" && (await sign(b, pks[1])) === 200,
    "replica b unseals with its own two submissions and signs", x.text);

  // 6. the operators alone: with the KMS keys disabled, no number of passphrases unseals.
  await client.send(new kms.DisableKeyCommand({ KeyId: arns[0] }));
  await client.send(new kms.DisableKeyCommand({ KeyId: arns[1] }));
  await killAndWait(b.proc);
  b = await start("b", cfg);
  logs.push(b.log);
  await waitLog(b, /automatic unseal failed|stays sealed/, 20000);
  const subs = [];
  for (const [n, p] of [["alice", PASS.alice], ["bob", PASS.bob]])
    subs.push((await req(b, "POST", "/api/v1/chamber/unseal", { operator: n, passphrase: p })).status);
  st = await status(b);
  expect(subs.every((c) => c === 503) && st.state === "sealed" && (await sign(b, pks[0])) === 503,
    "KMS keys below threshold: the operators alone do not unseal (503, sealed)", `${subs} ${JSON.stringify(st)}`);
  await client.send(new kms.EnableKeyCommand({ KeyId: arns[0] }));
  await client.send(new kms.EnableKeyCommand({ KeyId: arns[1] }));
  await killAndWait(b.proc);

  // 7. a restart before every operator registered: the init must be redone (a new setup token is logged).
  const cfg2 = config("cc-quorum2");
  r = await run(["dynamodb", "create-tables", "-c", cfg2]);
  let c = await start("c", cfg2);
  logs.push(c.log);
  await waitLog(c, /cc-setup-[0-9a-f]{32}/);
  let setup2 = logText(c).match(/cc-setup-[0-9a-f]{32}/)[0];
  x = await req(c, "POST", "/api/v1/chamber/init", { setup_token: setup2, kms_key_arns: [arns[2]], kms_threshold: 1,
    operators: ["dana", "eve"], operator_threshold: 2, argon2: { iterations: 1, memory_kib: 8192, parallelism: 1 } });
  const toks2 = x.json?.registration_tokens || {};
  for (const t of Object.values(toks2)) secrets.push(t);
  x = await req(c, "POST", "/api/v1/chamber/operators/register", { registration_token: toks2.dana, passphrase: "dana passphrase 1" });
  expect(x.status === 200 && x.json.operators[0].argon2.memory_kib === 8192, "init with argon2 {t=1, m=8 MiB}: honoured and stored", x.text);
  await killAndWait(c.proc);
  c = await start("c", cfg2);
  logs.push(c.log);
  const m = await waitLog(c, /awaits registration.*(cc-setup-[0-9a-f]{32})/);
  st = await status(c);
  x = await req(c, "POST", "/api/v1/chamber/operators/register", { registration_token: toks2.eve, passphrase: "eve passphrase 22" });
  expect(m && st.state === "awaiting_registration" && st.holds_pending_registration === false && x.status === 503,
    "restart while awaiting registration: the rest cannot register (503); a new setup token is logged", `${x.text} ${JSON.stringify(st)}`);
  setup2 = m ? m[1] : "";
  x = await req(c, "POST", "/api/v1/chamber/init", { setup_token: setup2, kms_key_arns: [arns[2]], kms_threshold: 1,
    operators: ["dana", "eve"], operator_threshold: 2, argon2: { iterations: 1, memory_kib: 8192, parallelism: 1 } });
  const toks3 = x.json?.registration_tokens || {};
  for (const t of Object.values(toks3)) secrets.push(t);
  const y1 = await req(c, "POST", "/api/v1/chamber/operators/register", { registration_token: toks2.eve, passphrase: "eve passphrase 22" });
  await req(c, "POST", "/api/v1/chamber/operators/register", { registration_token: toks3.dana, passphrase: "dana passphrase 1" });
  const y2 = await req(c, "POST", "/api/v1/chamber/operators/register", { registration_token: toks3.eve, passphrase: "eve passphrase 22" });
  expect(x.status === 200 && y1.status === 403 && y2.status === 200 && y2.json.state === "unsealed" && (await sign(c, pks[0])) === 200,
    "init redone with the new setup token: the old tokens are void, the new ones complete it and it signs",
    `${x.status} ${y1.status} ${y2.text}`);
  secrets.push("dana passphrase 1", "eve passphrase 22");
  await killAndWait(c.proc);

  // 8. no passphrase, YubiKey secret or response, share or registration token in the table or the logs.
  for (const s of [a, b]) if (s.proc.exitCode === null) await killAndWait(s.proc);
  const dump = [];
  for (const t of ["cc-quorum", "cc-quorum2"]) dump.push(JSON.stringify(await ddb("Scan", { TableName: t, ConsistentRead: true })));
  fs.writeFileSync(`${work}/scan.json`, dump.join("\n"));
  const hay = [...dump, ...logs.map((l) => fs.readFileSync(l, "utf8"))];
  const forms = (v) => {
    const b2 = Buffer.from(v, /^[0-9a-f]+$/.test(v) ? "hex" : "utf8");
    return [v, b2.toString("base64"), b2.toString("hex"), v.replace(/^cc-reg-/, "")];
  };
  const leaks = secrets.flatMap(forms).filter((f) => f.length >= 12 && hay.some((h) => h.includes(f)));
  expect(secrets.length >= 10 && leaks.length === 0 && dump[0].includes("q_operators") && dump[0].includes("sealed"),
    `no passphrase, YubiKey secret, registration token in the table or the logs (${secrets.length} secrets, ${hay.length} files)`,
    leaks.join(", "));
} catch (e) {
  bad(`driver: ${e.stack || e}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
