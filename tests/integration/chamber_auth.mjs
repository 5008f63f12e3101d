// Driver of chamber_auth.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS,
// CC_DDB (dynalite URL), CC_KMS (kms-local URL); AWS_* credentials set.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, freePort, killAndWait, MAINNET_GVR, writeInteropKeys } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${detail}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TABLE = "cc-auth";
const TOKEN_RE = /^cc-[0-9a-f]{16}\.[0-9a-f]{64}$/;

const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

// ---- helpers ---------------------------------------------------------------------------------
const configPath = `${work}/config.yaml`;
fs.writeFileSync(configPath, `server: {listen_address: 127.0.0.1}
metrics: {enabled: true, listen_address: 127.0.0.1}
network: mainnet
key_sources: {filesystem: {paths: [${work}/keys]}}
anti_slashing: {backend: sqlite, path: ${work}/slashing.sqlite}
signer_state: {backend: dynamodb, table: ${TABLE}, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
`);
function run(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env } });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
const servers = [];
async function start(name) {
  const port = await freePort(), mport = await freePort();
  const log = `${work}/server.${name}.log`;
  const out = fs.openSync(log, "w");
  const proc = spawn(bin, ["server", "-c", configPath, `--server.listen_port=${port}`, `--metrics.listen_port=${mport}`,
    `--anti_slashing.path=${work}/slashing-${name}.sqlite`], { stdio: ["ignore", out, out] });
  fs.closeSync(out);
  const s = { proc, port, mport, log, url: `http://127.0.0.1:${port}` };
  servers.push(s);
  for (let i = 0; i < 2000; i++) {
    if (proc.exitCode !== null) break;
    try { if ((await fetch(`${s.url}/upcheck`)).status === 200) return s; } catch { /* not yet */ }
    await sleep(5);
  }
  throw new Error(`server ${name} did not start:\n${fs.readFileSync(log, "utf8").slice(-2000)}`);
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
// One request; auth is a token (Bearer), {basic: token}, or null.
function req(s, method, path, { auth = null, body = undefined } = {}) {
  return new Promise((resolve) => {
    const headers = { Accept: "application/json" };
    if (typeof auth === "string") headers.Authorization = `Bearer ${auth}`;
    else if (auth && auth.basic) headers.Authorization = "Basic " + Buffer.from(`anyone:${auth.basic}`).toString("base64");
    else if (auth && auth.raw) headers.Authorization = auth.raw;
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
const FORK = { previous_version: "0x04000000", current_version: "0x05000000", epoch: "364032" };
const forkInfo = { fork: FORK, genesis_validators_root: MAINNET_GVR };
const msgs = {
  VOLUNTARY_EXIT: () => ({ type: "VOLUNTARY_EXIT", fork_info: forkInfo, voluntary_exit: { epoch: "100", validator_index: "7" } }),
  RANDAO_REVEAL: () => ({ type: "RANDAO_REVEAL", fork_info: forkInfo, randao_reveal: { epoch: "400000" } }),
  AGGREGATION_SLOT: () => ({ type: "AGGREGATION_SLOT", fork_info: forkInfo, aggregation_slot: { slot: "12800000" } }),
};
let epoch = 2000;
const nextAtt = (root = 7) => { epoch += 2; return attestation(epoch, epoch + 1, root).body; };
const signAs = (s, token, pk, body) => req(s, "POST", `/api/v1/eth2/sign/${pk}`, { auth: token, body });
const operator = (s, args, env = {}) => run(["operator", ...args, "--signer-url", s.url, "--allow-plaintext-signer"], env);
async function rejections(s) {
  const text = await (await fetch(`http://127.0.0.1:${s.mport}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^containment_auth_rejections_total\{reason="(\w+)"\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}
async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}
// Polls fn() until it is true, at most ms; returns the elapsed ms or -1.
async function within(ms, fn) {
  const t0 = Date.now();
  while (Date.now() - t0 <= ms) {
    if (await fn()) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}

// Every route of the signer, with what a request without a token would otherwise do.
function sweepRoutes(pk) {
  return [
    ["POST", `/api/v1/eth2/sign/${pk}`, nextAtt()],
    ["GET", "/api/v1/eth2/publicKeys"], ["GET", "/healthcheck"], ["GET", "/reload"], ["POST", "/reload"],
    ["GET", "/eth/v1/keystores"], ["POST", "/eth/v1/keystores", { keystores: [], passwords: [] }],
    ["DELETE", "/eth/v1/keystores", { pubkeys: [] }],
    ["GET", "/api/v1/chamber/status"], ["POST", "/api/v1/chamber/init", {}], ["POST", "/api/v1/chamber/seal"],
    ["POST", "/api/v1/chamber/unseal"], ["GET", "/api/v1/chamber/keys"], ["POST", "/api/v1/chamber/keys", {}],
    ["POST", "/api/v1/chamber/keys/generate", {}], ["PATCH", `/api/v1/chamber/keys/${pk}`, { status: "inactive" }],
    ["DELETE", `/api/v1/chamber/keys/${pk}`], ["GET", "/api/v1/chamber/auth/policies"],
    ["PUT", "/api/v1/chamber/auth/policies/x", { rules: [{ effect: "allow", scopes: ["sign"] }] }],
    ["GET", "/api/v1/chamber/auth/tokens"], ["POST", "/api/v1/chamber/auth/tokens", { policies: ["validator"] }],
    ["POST", "/api/v1/chamber/auth/root-token"], ["GET", "/no/such/route"],
  ];
}
async function sweep(s, auth) {
  const got = [];
  for (const [m, p, b] of sweepRoutes(pks[0])) got.push(`${m} ${p.replace(/0x[0-9a-f]{96}/, "<pk>")} ${(await req(s, m, p, { auth, body: b })).status}`);
  return got;
}
let pks = [];
const secrets = [];

// ---- the run ---------------------------------------------------------------------------------
try {
  writeInteropKeys(`${work}/keys`, 4);
  let r = await run(["dynamodb", "create-tables", "-c", configPath]);
  if (r.code !== 0) throw new Error(`create-tables: ${r.out} ${r.err}`);
  const key = await client.send(new kms.CreateKeyCommand({ Description: "auth test share" }));
  const arn = key.KeyMetadata.Arn;

  // 1. init answers the first root token; open by default.
  const a = await start("a");
  await waitLog(a, /cc-setup-[0-9a-f]{32}/);
  const setup = logText(a).match(/cc-setup-[0-9a-f]{32}/)[0];
  r = await operator(a, ["init", "--setup-token", setup, "--kms-key-arns", arn, "--kms-threshold", "1"]);
  const init = r.code === 0 ? JSON.parse(r.out) : {};
  const root = init.root_token && init.root_token.token;
  expect(r.code === 0 && init.state === "unsealed" && TOKEN_RE.test(root || "") && init.root_token.root === true,
    "operator init answers the first root token (cc-<16 hex>.<64 hex>, root)", r.out + r.err);
  secrets.push(root);
  pks = (await req(a, "GET", "/api/v1/eth2/publicKeys")).json;
  expect(Array.isArray(pks) && pks.length === 4, "open by default: publicKeys without a token", JSON.stringify(pks));
  expect((await signAs(a, null, pks[0], nextAtt())).status === 200 &&
    (await signAs(a, null, pks[0], msgs.VOLUNTARY_EXIT())).status === 200 &&
    (await req(a, "GET", "/api/v1/chamber/status")).status === 200, "open by default: signing and status without a token");
  let x = await req(a, "GET", "/api/v1/chamber/auth/policies");
  const y = await req(a, "GET", "/api/v1/chamber/auth/policies", { auth: root });
  expect(x.status === 401 && y.status === 200 && JSON.stringify(y.json) === '{"policies":{}}',
    "auth routes need the root token even while open (401 without, 200 with)", `${x.status} ${y.status} ${y.text}`);

  // A second replica started while open.
  const b = await start("b");
  expect(await within(20000, async () => (await req(b, "GET", "/api/v1/chamber/status")).json?.state === "unsealed") >= 0,
    "replica b follows the initialisation and unseals");

  // 2. a policy: exits denied for exactly two keys.
  const policy = { rules: [
    { effect: "allow", scopes: ["sign", "public_keys"] },
    { effect: "deny", scopes: ["sign"], keys: [pks[0], pks[1]], operations: ["VOLUNTARY_EXIT"] }] };
  fs.writeFileSync(`${work}/validator.json`, JSON.stringify(policy));
  r = await operator(a, ["auth", "policy", "put", "validator", "--file", `${work}/validator.json`, "--auth-token", "env:CC_ROOT"],
    { CC_ROOT: root });
  expect(r.code === 0 && JSON.parse(r.out).policy.rules.length === 2, "operator auth policy put (token from env:VAR)",
    r.out + r.err);
  r = await operator(a, ["auth", "policy", "list", "--token", root]);
  expect(r.code === 0 && JSON.parse(r.out).policies.validator, "operator auth policy list (--token alias)", r.out + r.err);

  // 3. the sweep without a token: only /upcheck answers.
  const m0 = await rejections(a);
  const got = await sweep(a, null);
  const routes = got.length;
  const not401 = got.filter((g) => !g.endsWith(" 401"));
  expect(not401.length === 0, `route sweep without a token: all ${routes} routes 401`, not401.join("; "));
  expect((await req(a, "GET", "/upcheck")).status === 200, "… and /upcheck 200");
  const m1 = await rejections(a);
  expect(m1.missing - (m0.missing || 0) === routes, "containment_auth_rejections_total{reason=\"missing\"} counts each",
    JSON.stringify([m0, m1]));
  const garbage = await sweep(a, "cc-0123456789abcdef." + "0".repeat(64));
  expect(garbage.every((g) => g.endsWith(" 401")), "… and with an unknown token, all 401", garbage.join("; "));

  // 4. a client token bound to the policy.
  r = await operator(a, ["auth", "token", "create", "--policies", "validator", "--auth-token", root]);
  const t1info = r.code === 0 ? JSON.parse(r.out) : {};
  const t1 = t1info.token;
  expect(r.code === 0 && TOKEN_RE.test(t1 || "") && t1info.expires_at === null && t1info.root === false,
    "operator auth token create --policies validator: the token, once", r.out + r.err);
  secrets.push(t1);

  // VOLUNTARY_EXIT refused for exactly pks[0], pks[1]; every other type and key signs.
  const m2 = await rejections(a);
  const exits = [];
  for (const pk of pks) exits.push((await signAs(a, t1, pk, msgs.VOLUNTARY_EXIT())));
  expect(exits.map((e) => e.status).join(",") === "403,403,200,200", "VOLUNTARY_EXIT: 403 for exactly the two keys",
    exits.map((e) => e.status).join(","));
  expect(exits[0].json?.error?.includes("scope sign") && exits[0].json.error.includes(pks[0]) &&
    exits[0].json.error.includes("VOLUNTARY_EXIT") && exits[0].json.error.includes("validator"),
    "… the 403 names the policy, scope, key and type", exits[0].text);
  const others = [];
  for (const pk of pks.slice(0, 2))
    for (const body of [nextAtt(), msgs.RANDAO_REVEAL(), msgs.AGGREGATION_SLOT()])
      others.push((await signAs(a, t1, pk, body)).status);
  expect(others.every((c) => c === 200), "… ATTESTATION, RANDAO_REVEAL, AGGREGATION_SLOT still sign for those keys",
    others.join(","));
  const m3 = await rejections(a);
  expect(m3.forbidden - (m2.forbidden || 0) === 2, "rejections{reason=\"forbidden\"} +2", JSON.stringify([m2, m3]));
  x = await req(a, "GET", "/api/v1/eth2/publicKeys", { auth: { basic: t1 } });
  expect(x.status === 200 && x.json.length === 4, "HTTP Basic with the token as password works", `${x.status}`);
  x = await req(a, "GET", "/api/v1/chamber/status", { auth: t1 });
  expect(x.status === 403 && x.json.error.includes("chamber_status"), "a scope the policy lacks is 403 naming it", x.text);
  x = await req(a, "GET", "/api/v1/chamber/auth/tokens", { auth: t1 });
  expect(x.status === 403 && x.json.error.includes("chamber_auth"), "a client token cannot manage auth (403)", x.text);

  // A refused signing request writes no anti-slashing record.
  fs.writeFileSync(`${work}/noatt.json`, JSON.stringify({ rules: [
    { effect: "allow", scopes: ["sign"] }, { effect: "deny", scopes: ["sign"], keys: [pks[2]], operations: ["ATTESTATION"] }] }));
  r = await operator(a, ["auth", "policy", "put", "noatt", "--file", `${work}/noatt.json`, "--auth-token", root]);
  r = await operator(a, ["auth", "token", "create", "--policies", "noatt", "--auth-token", root]);
  const t2 = JSON.parse(r.out || "{}").token;
  secrets.push(t2);
  epoch += 2;
  const denied = await signAs(a, t2, pks[2], attestation(epoch, epoch + 1, 11).body);
  const conflicting = await signAs(a, t1, pks[2], attestation(epoch, epoch + 1, 12).body);
  expect(denied.status === 403 && conflicting.status === 200,
    "a denied ATTESTATION left no record: a different attestation for the same target then signs",
    `${denied.status} ${conflicting.status}`);

  // 5. expiry
  x = await req(a, "POST", "/api/v1/chamber/auth/tokens", { auth: root, body: { policies: ["validator"], expires_in_seconds: 1 } });
  const t3 = x.json?.token;
  secrets.push(t3);
  const early = (await signAs(a, t3, pks[3], msgs.RANDAO_REVEAL())).status;
  await sleep(2100);
  const late = await signAs(a, t3, pks[3], msgs.RANDAO_REVEAL());
  expect(x.status === 200 && early === 200 && late.status === 401 && late.json.error.includes("expired"),
    "a token with expires_in_seconds 1 signs, then 2 s later is 401 (expired)", `${x.status} ${early} ${late.text}`);
  expect(((await rejections(a)).expired || 0) >= 1, "rejections{reason=\"expired\"} counted");

  // 6. revocation
  r = await operator(a, ["auth", "token", "create", "--policies", "validator", "--auth-token", root]);
  const t4info = JSON.parse(r.out || "{}"), t4 = t4info.token;
  secrets.push(t4);
  const before = (await signAs(a, t4, pks[3], msgs.RANDAO_REVEAL())).status;
  r = await operator(a, ["auth", "token", "revoke", t4info.id, "--auth-token", root]);
  const after = await signAs(a, t4, pks[3], msgs.RANDAO_REVEAL());
  expect(before === 200 && r.code === 0 && after.status === 401, "a revoked token is 401 at once on the replica that revoked it",
    `${before} ${r.code} ${after.status}`);
  const onB = await within(3000, async () => (await signAs(b, t4, pks[3], msgs.RANDAO_REVEAL())).status === 401);
  expect(onB >= 0, `… and on replica b within the refresh interval (${onB} ms)`);

  // 7. the other replica enforces what was made through the first
  const bSweep = await sweep(b, null);
  expect(bSweep.every((g) => g.endsWith(" 401")), "replica b: the route sweep without a token is all 401", bSweep.join("; "));
  const bExits = [];
  for (const pk of pks) bExits.push((await signAs(b, t1, pk, msgs.VOLUNTARY_EXIT())).status);
  expect(bExits.join(",") === "403,403,200,200", "replica b: the exit policy holds there too", bExits.join(","));
  // a change through a: deny exits for pks[2] as well; b follows within the interval (refresh 1 s)
  policy.rules[1].keys.push(pks[2]);
  fs.writeFileSync(`${work}/validator.json`, JSON.stringify(policy));
  r = await operator(a, ["auth", "policy", "put", "validator", "--file", `${work}/validator.json`, "--auth-token", root]);
  const aNow = (await signAs(a, t1, pks[2], msgs.VOLUNTARY_EXIT())).status;
  const lag = await within(3000, async () => (await signAs(b, t1, pks[2], msgs.VOLUNTARY_EXIT())).status === 403);
  expect(r.code === 0 && aNow === 403 && lag >= 0 && lag <= 2500,
    `a policy change through a is enforced by a at once and by b within the interval (${lag} ms)`, `${r.code} ${aNow} ${lag}`);

  // 8. root tokens
  r = await operator(a, ["generate-root-token", "--auth-token", t1]);
  expect(r.code === 1 && r.err.includes("HTTP 403"), "generate-root-token with a client token is 403", r.err);
  r = await operator(a, ["generate-root-token"]);
  expect(r.code === 2 && r.err.includes("--auth-token"), "generate-root-token without --auth-token is a usage error", r.err);
  r = await operator(b, ["generate-root-token", "--auth-token", root]);
  const root2 = JSON.parse(r.out || "{}").token;
  secrets.push(root2);
  expect(r.code === 0 && TOKEN_RE.test(root2 || "") && root2 !== root, "operator generate-root-token issues a new root token",
    r.out + r.err);
  // issued through b: a accepts it within the refresh interval
  const rootLag = await within(3000, async () => (await req(a, "GET", "/api/v1/chamber/auth/policies", { auth: root2 })).status === 200);
  expect(rootLag >= 0, `… issued through b, accepted by a within the interval (${rootLag} ms)`);
  const both = [(await req(a, "GET", "/api/v1/chamber/auth/tokens", { auth: root2 })),
    (await req(a, "GET", "/api/v1/chamber/auth/tokens", { auth: root }))];
  expect(both.every((q) => q.status === 200), "… the new one and the old one both manage auth", both.map((q) => q.status).join(","));
  const list = both[0].json?.tokens || [];
  expect(list.length >= 4 && list.every((t) => !("hash" in t) && !("token" in t) && /^[0-9a-f]{16}$/.test(t.id)) &&
    !list.some((t) => t.id === t4info.id) && list.filter((t) => t.root).length === 2,
    "token list: ids, policies, expiry — no hash, no secret, the revoked one gone, two root tokens", both[0].text.slice(0, 300));
  x = await req(a, "DELETE", `/api/v1/chamber/auth/policies/noatt`, { auth: root2 });
  const gone = await req(a, "DELETE", `/api/v1/chamber/auth/policies/noatt`, { auth: root2 });
  expect(x.status === 200 && gone.status === 404, "delete a policy; deleting it again is 404", `${x.status} ${gone.status}`);
  x = await req(a, "PUT", `/api/v1/chamber/auth/policies/bad`, { auth: root2, body: { rules: [{ effect: "allow", scopes: ["chamber_auth"] }] } });
  expect(x.status === 400 && x.json.error.includes("rules[0].scopes[0]"), "a policy granting chamber_auth is 400 naming the field", x.text);
  const noTokenMetrics = await rejections(a);
  expect(noTokenMetrics.invalid >= routes, "rejections{reason=\"invalid\"} counted", JSON.stringify(noTokenMetrics));

  // 9. no token secret in the state table or in any log
  const scan = await ddb("Scan", { TableName: TABLE, ConsistentRead: true });
  const scanText = JSON.stringify(scan);
  const authItem = (scan.Items || []).find((i) => i.pk.S === "AUTH");
  expect(authItem && Number(authItem.revision.N) >= 5 && authItem.hmac_key.B, "the AUTH item: revision, hmac_key, doc",
    scanText.slice(0, 300));
  const logs = [scanText, ...servers.map(logText)];
  const forms = secrets.filter(Boolean).flatMap((t) => [t, t.split(".")[1], Buffer.from(t.split(".")[1], "hex").toString("base64")]);
  const leaks = forms.filter((f) => logs.some((h) => h.includes(f)));
  expect(secrets.filter(Boolean).length === 6 && leaks.length === 0,
    `no token secret (token, hex secret, base64 secret; ${secrets.filter(Boolean).length} tokens) in the table scan or either log`,
    leaks.map((l) => l.slice(0, 12)).join(","));
} catch (e) {
  bad(`driver: ${e.stack || e}`);
} finally {
  for (const s of [...servers]) await killAndWait(s.proc, "SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
