// Driver of chamber_keys.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_TOP,
// CC_DDB (dynalite behind the TransactWriteItems proxy), CC_KMS (kms-local); AWS_* set.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer } from "./slashing_msgs.mjs";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const blst = require("@chainsafe/blst");
const keygen = require("@chainsafe/bls-keygen");
const bin = process.env.CC_BIN, work = process.env.CC_WORK, ddbUrl = process.env.CC_DDB, kmsUrl = process.env.CC_KMS;
const top = process.env.CC_TOP;

let passed = 0, failed = 0;
const ok = (m) => { passed++; console.log(`ok   ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL ${m}`); };
const expect = (cond, m, detail = "") => (cond ? ok(m) : bad(detail ? `${m}: ${String(detail).slice(0, 800)}` : m));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const client = new kms.KMSClient({ region: "us-east-1", endpoint: kmsUrl, maxAttempts: 1,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY } });

// ---- helpers ---------------------------------------------------------------------------------
const cfgPath = `${work}/config.yaml`;
function writeConfig(recipient) {
  fs.writeFileSync(cfgPath, `server: {listen_address: 127.0.0.1}
metrics: {enabled: false}
network: mainnet
key_sources:
  dynamodb: {table: cc-keys, refresh_interval_seconds: 1}
anti_slashing: {backend: sqlite, path: ${work}/slashing.sqlite}
signer_state: {backend: dynamodb, table: cc-state, refresh_interval_seconds: 1}
aws: {region: us-east-1, endpoint_urls: {dynamodb: "${ddbUrl}", kms: "${kmsUrl}"}}
chamber:
  keys:
    generate:
      backup: {recipients: [${recipient}]}
`);
}
const ALL_ON = ["--chamber.keys.generate.enabled=true", "--chamber.keys.generate.backup.enabled=true",
  "--chamber.keys.import.enabled=true", "--chamber.keys.lifecycle.enabled=true"];
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { env: process.env });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}
let logSeq = 0;
async function start(flags) {
  const log = `${work}/server.${logSeq++}.log`;
  const s = await startServer(bin, cfgPath, log, flags);
  s.log = log;
  s.url = `http://127.0.0.1:${s.port}`;
  return s;
}
const logText = (s) => fs.readFileSync(s.log, "utf8");
async function api(s, method, path, body) {
  const r = await fetch(`${s.url}${path}`, { method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}
async function waitFor(fn, ms = 20000) {
  let v;
  for (let t = 0; t < ms; t += 100) {
    v = await fn();
    if (v) return v;
    await sleep(100);
  }
  return v;
}
const agent = new http.Agent({ keepAlive: false });
let epoch = 2000;
// Signs a fresh attestation; {status, ok} where ok = the signature verifies under pk (blst).
async function signCheck(s, pk) {
  epoch += 2;
  const a = attestation(epoch, epoch + 1, 9);
  const r = await sign(agent, s.port, pk, a.body);
  let verified = false;
  if (r.status === 200) {
    try {
      const sig = JSON.parse(r.text).signature;
      verified = blst.verify(Buffer.from(a.root.slice(2), "hex"), blst.PublicKey.fromHex(pk), blst.Signature.fromHex(sig));
    } catch { verified = false; }
  }
  return { status: r.status, ok: verified };
}
async function ddb(op, body) {
  const d = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const r = await fetch(ddbUrl, { method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": `DynamoDB_20120810.${op}`, "X-Amz-Date": d,
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/${d.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00` } });
  return r.json();
}
// Interop secret key i, as `keystore generate --interop` makes it.
function interopSk(i) {
  const r = BigInt("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
  const b = Buffer.alloc(32); b.writeUInt32LE(i, 0);
  const h = crypto.createHash("sha256").update(b).digest();
  let x = 0n; for (let j = 31; j >= 0; j--) x = (x << 8n) | BigInt(h[j]);
  return Buffer.from((x % r).toString(16).padStart(64, "0"), "hex");
}

// ---- the run ---------------------------------------------------------------------------------
const servers = [];
const stop = async (s) => { await killAndWait(s.proc, "SIGTERM"); servers.splice(servers.indexOf(s), 1); };
const skHex = (sk) => Buffer.from(sk).toString("hex");
let mnemonic = "";
let r2;
const secrets = []; // Buffers: every secret key the run knows
try {
  // An age identity the test holds; its recipient goes in the config.
  const kg = spawnSync("age-keygen", ["-o", `${work}/identity.txt`], { encoding: "utf8" });
  const recipient = (fs.readFileSync(`${work}/identity.txt`, "utf8").match(/age1[0-9a-z]+/) || [])[0];
  if (kg.status !== 0 || !recipient) throw new Error(`age-keygen: ${kg.stderr}`);
  writeConfig(recipient);
  const ct = await run(["dynamodb", "create-tables", "-c", cfgPath]);
  if (ct.code !== 0) throw new Error(`create-tables: ${ct.out} ${ct.err}`);

  // 0. start-up refusals name the key
  let r = await run(["server", "-c", cfgPath, "--chamber.keys.generate.backup.enabled=true",
    "--chamber.keys.generate.backup.recipients="]);
  expect(r.code !== 0 && r.err.includes("chamber.keys.generate.backup.recipients: required"),
    "backup enabled without recipients stops start-up, naming the key", r.err.slice(-300));
  r = await run(["server", "-c", cfgPath, `--chamber.keys.generate.backup.recipients=${recipient},age1bogus`]);
  expect(r.code !== 0 && r.err.includes("chamber.keys.generate.backup.recipients[1]") && r.err.includes("age1bogus"),
    "a bad recipient stops start-up, naming it", r.err.slice(-300));

  // 1. a chamber, initialised 2-of-3, every key verb off
  const arns = [];
  for (let i = 0; i < 3; i++)
    arns.push((await client.send(new kms.CreateKeyCommand({ Description: `share ${i}` }))).KeyMetadata.Arn);
  let a = await start([]);
  servers.push(a);
  const tok = await waitFor(() => (logText(a).match(/cc-setup-[0-9a-f]+/) || [])[0]);
  r = await api(a, "POST", "/api/v1/chamber/init", { setup_token: tok, kms_key_arns: arns, kms_threshold: 2 });
  expect(r.status === 200 && r.json.state === "unsealed", "chamber initialised 2-of-3", r.text);

  r = await api(a, "GET", "/api/v1/chamber/keys");
  expect(r.status === 200 && Array.isArray(r.json.keys) && r.json.keys.length === 0, "listing is available with every flag off",
    r.text);
  const offs = [
    ["POST", "/api/v1/chamber/keys/generate", { count: 1 }, "chamber.keys.generate.enabled"],
    ["POST", "/api/v1/chamber/keys", { keystores: [], passwords: [] }, "chamber.keys.import.enabled"],
    ["PATCH", `/api/v1/chamber/keys/0x${"a".repeat(96)}`, { status: "inactive" }, "chamber.keys.lifecycle.enabled"],
    ["DELETE", `/api/v1/chamber/keys/0x${"a".repeat(96)}`, undefined, "chamber.keys.lifecycle.enabled"],
  ];
  for (const [m, p, b, flag] of offs) {
    r = await api(a, m, p, b);
    expect(r.status === 403 && r.json && r.json.error.includes(flag), `flag off: ${m} ${p.replace(/0x[a]+/, "{pubkey}")} → 403 naming ${flag}`, r.text);
  }
  await stop(a);

  // 2. every verb on; generate 3 keys with an age backup of the mnemonic
  a = await start(ALL_ON);
  servers.push(a);
  let st = await waitFor(async () => (await api(a, "GET", "/api/v1/chamber/status")).json.state === "unsealed");
  expect(st, "restart unseals by itself");
  r = await api(a, "POST", "/api/v1/chamber/keys/generate", { count: 0 });
  expect(r.status === 400 && r.json.error.startsWith("count:"), "generate count 0 → 400 naming count", r.text);
  r = await api(a, "POST", "/api/v1/chamber/keys/generate", { count: 101 });
  expect(r.status === 400 && r.json.error.includes("max_items_per_request"), "generate above the maximum → 400", r.text);
  r = await api(a, "POST", "/api/v1/chamber/keys/generate", { count: 3, start_index: 5 });
  const gen = r.status === 200 ? r.json.keys : [];
  expect(r.status === 200 && gen.length === 3 && gen.every((k, i) => k.path === `m/12381/3600/${5 + i}/0/0`) &&
    /^-----BEGIN AGE ENCRYPTED FILE-----/.test(r.json.mnemonic_backup || ""),
    "generate 3 → pubkeys at m/12381/3600/5..7/0/0 and an armored age backup", r.text);
  const gpk = gen.map((k) => k.pubkey);
  const generateText = r.text;
  fs.writeFileSync(`${work}/backup.age`, (r.json && r.json.mnemonic_backup) || "");
  const dec = spawnSync("age", ["-d", "-i", `${work}/identity.txt`, `${work}/backup.age`], { encoding: "utf8" });
  mnemonic = (dec.stdout || "").trim();
  expect(dec.status === 0 && mnemonic.split(" ").length === 24, "the backup opens with `age -d -i identity`: 24 words",
    dec.stderr);
  const derived = gen.map((k) => keygen.deriveKeyFromMnemonic(mnemonic, k.path));
  derived.forEach((sk) => secrets.push(Buffer.from(sk)));
  const derivedPk = derived.map((sk) => "0x" + Buffer.from(blst.SecretKey.fromBytes(sk).toPublicKey().toBytes()).toString("hex"));
  expect(gen.length === 3 && derivedPk.every((p, i) => p === gpk[i]),
    "the mnemonic re-derives exactly the returned pubkeys (@chainsafe/bls-keygen, independent EIP-2333)",
    JSON.stringify([derivedPk, gpk]));
  expect(!generateText.includes(mnemonic.split(" ").slice(0, 3).join(" ")), "the answer does not carry the plaintext mnemonic");
  const sigs = [];
  for (const pk of gpk) sigs.push(await signCheck(a, pk));
  expect(sigs.length === 3 && sigs.every((x) => x.status === 200 && x.ok), "each generated key signs at once; signatures verify (blst)",
    JSON.stringify(sigs));
  r = await api(a, "GET", "/api/v1/chamber/keys");
  const listed = r.json ? r.json.keys.filter((k) => gpk.includes(k.pubkey)) : [];
  expect(listed.length === 3 && listed.every((k) => k.status === "active" && k.source === "dynamodb" &&
    k.origin === "generated" && k.has_mnemonic_backup === true && k.created_at && k.path.startsWith("m/12381/3600/")),
    "GET keys lists them: active, dynamodb, generated, with a mnemonic backup", r.text);

  // 3. import: two persisted, one memory only
  const ipk = fs.readFileSync(`${work}/ks.txt`, "utf8").trim().split("\n").filter((l) => /^0x[0-9a-f]{96}$/.test(l));
  for (let i = 0; i < 3; i++) secrets.push(interopSk(20 + i));
  const ks = (pk) => fs.readFileSync(`${work}/import/keystore-${pk}.json`, "utf8");
  const pw = (pk) => fs.readFileSync(`${work}/import/keystore-${pk}.password`, "utf8");
  r = await api(a, "POST", "/api/v1/chamber/keys", { keystores: [ks(ipk[0]), ks(ipk[1]), "{not a keystore"],
    passwords: [pw(ipk[0]), pw(ipk[1]), "x"], storage: { persist: true } });
  expect(r.status === 200 && r.json.data.length === 3 && r.json.data[0].status === "imported" &&
    r.json.data[1].status === "imported" && r.json.data[2].status === "error" && r.json.data[2].message.includes("keystores[2]"),
    "import persist=true: imported, imported, error naming keystores[2]", r.text);
  r = await api(a, "POST", "/api/v1/chamber/keys", { keystores: [ks(ipk[2])], passwords: [pw(ipk[2])],
    storage: { persist: false } });
  expect(r.status === 200 && r.json.data[0].status === "imported", "import persist=false: imported (memory)", r.text);
  r = await api(a, "POST", "/api/v1/chamber/keys", { keystores: [ks(ipk[0]), ks(ipk[2])], passwords: [pw(ipk[0]), pw(ipk[2])],
    storage: { persist: true } });
  expect(r.status === 200 && r.json.data.every((d) => d.status === "duplicate"), "importing held keys again → duplicate", r.text);
  r = await api(a, "POST", "/api/v1/chamber/keys", { keystores: [ks(ipk[0])], passwords: [] });
  expect(r.status === 400 && r.json.error.startsWith("passwords"), "one password per keystore → 400 naming passwords", r.text);
  const isig = [];
  for (const pk of ipk) isig.push(await signCheck(a, pk));
  expect(isig.every((x) => x.status === 200 && x.ok), "every imported key signs; signatures verify", JSON.stringify(isig));
  r = await api(a, "GET", "/api/v1/chamber/keys?status=active");
  const byPk = Object.fromEntries((r.json ? r.json.keys : []).map((k) => [k.pubkey, k]));
  expect(r.status === 200 && byPk[ipk[0]] && byPk[ipk[0]].source === "dynamodb" && byPk[ipk[0]].origin === "imported" &&
    byPk[ipk[2]] && byPk[ipk[2]].source === "memory" && gpk.every((p) => byPk[p]),
    "GET keys?status=active: persisted imports from the table, the memory key from the keyring", r.text);
  r = await api(a, "GET", "/api/v1/chamber/keys?status=bogus");
  expect(r.status === 400 && r.json.error.includes("status"), "GET keys?status=bogus → 400 naming status", r.text);

  // 4. restart: persisted keys sign again after the automatic unseal; the memory key is gone
  await stop(a);
  a = await start(ALL_ON.filter((f) => !f.includes("backup")));
  servers.push(a);
  const back = await waitFor(async () => {
    for (const pk of [...gpk, ipk[0], ipk[1]]) if ((await signCheck(a, pk)).status !== 200) return false;
    return true;
  }, 30000);
  expect(back, "after a restart every persisted key (generated and imported) signs again");
  expect((await signCheck(a, ipk[2])).status === 404, "… and the memory-only key is gone (404)");

  r = await api(a, "POST", "/api/v1/chamber/keys/generate", { count: 1 });
  const nb = r.status === 200 ? r.json.keys[0] : null;
  const nbSig = nb ? await signCheck(a, nb.pubkey) : {};
  r2 = await api(a, "GET", "/api/v1/chamber/keys");
  const nbListed = nb && r2.json ? r2.json.keys.find((k) => k.pubkey === nb.pubkey) : null;
  expect(nb && nb.path === "m/12381/3600/0/0/0" && !("mnemonic_backup" in r.json) && nbSig.status === 200 && nbSig.ok &&
    nbListed && nbListed.has_mnemonic_backup === false,
    "backup off: generate answers no mnemonic_backup, the key signs, listed without a backup", r.text);

  // 4b. a second replica on the same tables unseals by itself and holds the same keys; it follows a
  //     deactivation made through the first within its refresh interval, and the reactivation.
  let b = await start(["--anti_slashing.path=" + `${work}/slashing-b.sqlite`]);
  servers.push(b);
  const same = await waitFor(async () => {
    for (const pk of [...gpk, ipk[0], ipk[1], nb ? nb.pubkey : gpk[0]]) if ((await signCheck(b, pk)).status !== 200) return false;
    return true;
  }, 30000);
  const pkA = (await (await fetch(`${a.url}/api/v1/eth2/publicKeys`)).json()).sort();
  const pkB = (await (await fetch(`${b.url}/api/v1/eth2/publicKeys`)).json()).sort();
  expect(same && JSON.stringify(pkA) === JSON.stringify(pkB), "a second replica unseals by itself and signs exactly the same keys",
    JSON.stringify([pkA.length, pkB.length]));
  r = await api(a, "PATCH", `/api/v1/chamber/keys/${gpk[2]}`, { status: "inactive" });
  const t0 = Date.now();
  const goneOnB = await waitFor(async () => (await signCheck(b, gpk[2])).status === 404, 10000);
  expect(r.status === 200 && goneOnB, "… it stops signing a key deactivated through the first replica",
    `${Date.now() - t0} ms`);
  r = await api(a, "PATCH", `/api/v1/chamber/keys/${gpk[2]}`, { status: "active" });
  const backOnB = await waitFor(async () => (await signCheck(b, gpk[2])).status === 200, 10000);
  expect(r.status === 200 && backOnB, "… and signs it again once reactivated there");
  await stop(b);

  // 5. PATCH inactive / active
  r = await api(a, "PATCH", `/api/v1/chamber/keys/${gpk[0]}`, { status: "inactive" });
  expect(r.status === 200 && r.json.status === "inactive", "PATCH inactive → 200", r.text);
  let s1 = await signCheck(a, gpk[0]);
  expect(s1.status === 404, "an inactive key cannot sign at once (404 unknown key)", JSON.stringify(s1));
  await sleep(2500); // a full refresh round must not bring it back
  s1 = await signCheck(a, gpk[0]);
  expect(s1.status === 404, "… nor after the key source's refresh", JSON.stringify(s1));
  r = await api(a, "GET", "/api/v1/chamber/keys?status=inactive");
  expect(r.status === 200 && r.json.keys.length === 1 && r.json.keys[0].pubkey === gpk[0], "GET keys?status=inactive lists it",
    r.text);
  r = await api(a, "PATCH", `/api/v1/chamber/keys/${gpk[0]}`, { status: "active" });
  s1 = await signCheck(a, gpk[0]);
  expect(r.status === 200 && s1.status === 200 && s1.ok, "PATCH active → signs again at once", r.text + JSON.stringify(s1));
  r = await api(a, "PATCH", `/api/v1/chamber/keys/${gpk[0]}`, { status: "paused" });
  expect(r.status === 400 && r.json.error.startsWith("status"), "PATCH with a bad status → 400 naming status", r.text);
  r = await api(a, "PATCH", `/api/v1/chamber/keys/0x${"b".repeat(96)}`, { status: "inactive" });
  expect(r.status === 404, "PATCH an unknown pubkey → 404", r.text);
  r = await api(a, "PATCH", `/api/v1/chamber/keys/0x1234`, { status: "inactive" });
  expect(r.status === 400 && r.json.error.includes("pubkey in path"), "PATCH a malformed pubkey → 400", r.text);

  // 6. DELETE (table key, then a memory key)
  r = await api(a, "DELETE", `/api/v1/chamber/keys/${gpk[1]}`);
  s1 = await signCheck(a, gpk[1]);
  expect(r.status === 200 && r.json.source === "dynamodb" && s1.status === 404, "DELETE a table key → 200, it cannot sign",
    r.text + JSON.stringify(s1));
  r = await api(a, "GET", "/api/v1/chamber/keys");
  expect(r.status === 200 && !r.json.keys.some((k) => k.pubkey === gpk[1]), "… and is no longer listed");
  r = await api(a, "DELETE", `/api/v1/chamber/keys/${gpk[1]}`);
  expect(r.status === 404, "DELETE it again → 404", r.text);
  await api(a, "POST", "/api/v1/chamber/keys", { keystores: [ks(ipk[2])], passwords: [pw(ipk[2])], storage: { persist: false } });
  r = await api(a, "DELETE", `/api/v1/chamber/keys/${ipk[2]}`);
  s1 = await signCheck(a, ipk[2]);
  expect(r.status === 200 && r.json.source === "memory" && s1.status === 404, "DELETE a memory key → 200, it cannot sign",
    r.text);
  const db = spawnSync("sqlite3", [`${work}/slashing.sqlite`, "SELECT count(*) FROM validators"], { encoding: "utf8" });
  expect(db.status === 0 && Number(db.stdout.trim()) >= 6, "anti-slashing records of deleted keys are kept", db.stdout + db.stderr);

  // 7. seal: every key route and signing 503
  r = await api(a, "POST", "/api/v1/chamber/seal");
  const sealed = [
    await api(a, "GET", "/api/v1/chamber/keys"),
    await api(a, "POST", "/api/v1/chamber/keys/generate", { count: 1 }),
    await api(a, "POST", "/api/v1/chamber/keys", { keystores: [], passwords: [] }),
    await api(a, "PATCH", `/api/v1/chamber/keys/${gpk[0]}`, { status: "inactive" }),
    await api(a, "DELETE", `/api/v1/chamber/keys/${gpk[0]}`),
  ];
  expect(r.status === 200 && sealed.every((x) => x.status === 503 && x.json.error.startsWith("sealed")),
    "sealed: GET, generate, import, PATCH and DELETE → 503", sealed.map((x) => x.status).join(","));
  s1 = await signCheck(a, gpk[0]);
  expect(s1.status === 503, "sealed: signing → 503", JSON.stringify(s1));

  // 8. the OpenAPI document and the router agree
  const y = spawnSync("python3", ["-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
    `${top}/docs/openapi/chamber.yaml`], { encoding: "utf8" });
  const doc = y.status === 0 ? JSON.parse(y.stdout) : null;
  expect(doc && /^3\.0\./.test(doc.openapi) && doc.paths, "docs/openapi/chamber.yaml parses as OpenAPI 3.0 YAML", y.stderr);
  const methods = ["get", "post", "put", "patch", "delete"];
  const documented = new Set();
  for (const [p, item] of Object.entries((doc && doc.paths) || {}))
    for (const m of methods) if (item[m]) documented.add(`${m.toUpperCase()} ${p}`);
  // The router's paths, from its sources; the methods each serves, from the live server (405 = not served).
  const src = ["src/api/chamber.c", "src/api/chamber_keys.c"].map((f) => fs.readFileSync(`${top}/${f}`, "utf8")).join("\n");
  const routerPaths = new Set([...src.matchAll(/strcmp\(route, "([a-z/]+)"\)/g)].map((m) => `/api/v1/chamber/${m[1]}`));
  if (/strncmp\(route, "keys\/", 5\)/.test(src)) routerPaths.add("/api/v1/chamber/keys/{pubkey}");
  for (const p of Object.keys((doc && doc.paths) || {})) routerPaths.add(p);
  const served = new Set();
  const probeOrder = [...routerPaths].sort((x, y2) => (x.endsWith("/unseal") ? 1 : 0) - (y2.endsWith("/unseal") ? 1 : 0));
  for (const p of probeOrder)
    for (const m of methods) {
      const url = p.replace("{pubkey}", "0x" + "c".repeat(96));
      const x = await api(a, m.toUpperCase(), url, m === "get" || m === "delete" ? undefined : {});
      if (x.status !== 405 && !(x.status === 404 && /no such/.test(x.text))) served.add(`${m.toUpperCase()} ${p}`);
    }
  const missing = [...served].filter((e) => !documented.has(e)), extra = [...documented].filter((e) => !served.has(e));
  expect(served.size >= 9 && missing.length === 0 && extra.length === 0,
    `every route the router serves is documented and vice versa (${served.size} routes)`,
    `undocumented: ${missing.join(", ")}; documented but not served: ${extra.join(", ")}`);
  r = await api(a, "GET", "/api/v1/chamber/nonsense");
  expect(r.status === 404, "an unknown chamber path is 404");

  // 9. no secret key or mnemonic in the table, the answers' logs or the signer logs
  const scan = await ddb("Scan", { TableName: "cc-keys", ConsistentRead: true });
  fs.writeFileSync(`${work}/scan-keys.json`, JSON.stringify(scan));
  expect(scan.Items && scan.Items.some((i) => i.mnemonic_age && /BEGIN AGE/.test(i.mnemonic_age.S)),
    "generated items keep the age-armored mnemonic", JSON.stringify(scan).slice(0, 300));
  const hay = fs.readdirSync(work).filter((f) => /^(server\..*\.log|scan-keys\.json)$/.test(f))
    .map((f) => fs.readFileSync(`${work}/${f}`, "utf8"));
  const forms = (b) => [b.toString("hex"), b.toString("hex").toUpperCase(), b.toString("base64"), b.toString("base64url")];
  const leaks = secrets.flatMap(forms).filter((f) => hay.some((h) => h.includes(f)));
  const words = mnemonic.split(" ");
  const wordLeaks = [];
  for (let i = 0; i + 3 <= words.length; i++) {
    const seq = words.slice(i, i + 3).join(" ");
    if (hay.some((h) => h.includes(seq))) wordLeaks.push(i);
  }
  expect(secrets.length === 6 && words.length === 24 && leaks.length === 0 && wordLeaks.length === 0,
    "no secret key (hex, HEX, base64) nor any 3 consecutive mnemonic words in the table dump or the signer logs",
    `${leaks.length} key forms, word runs at ${wordLeaks.join(",")}`);
  const lines = logText(a).split("\n").filter((l) => l.includes('"msg":"chamber keys"')).map((l) => JSON.parse(l));
  expect(lines.length > 10 && lines.every((l) => l.request_id && l.route && l.status && l.outcome !== undefined),
    "every key request logs one line with request_id, route, status and outcome", JSON.stringify(lines.slice(0, 2)));
} catch (e) {
  bad(`driver: ${e.stack || e}`);
} finally {
  for (const s of [...servers]) await killAndWait(s.proc, "SIGTERM");
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
