// terraform_policies.mjs (driven by terraform_policies.sh): the Terraform of
// terraform/ checked without terraform or AWS.
//  1. every .tf parses with @cdktf/hcl2json;
//  2. the signer role's IAM policy, rendered from the HCL (tests/support/hcl_eval.mjs),
//     allows per table and for KMS exactly the operations the C sources call
//     (derived here by grep, so code and Terraform cannot drift apart silently);
//  3. every KMS key policy of examples/enclave, rendered with example values, is
//     loaded into kms-local (one server per account) and exercised: Decrypt only for
//     the signer role with an attestation document carrying the right PCR8 (+ PCR0
//     when listed, + PCR3 when given); Encrypt without attestation; nobody else.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { loadHcl2json, loadDir, instance } from "../support/hcl_eval.mjs";

const top = process.env.CC_TOP, work = process.env.CC_WORK, tools = process.env.CC_TOOLS;
const kmsBin = process.env.KMS_BIN, tool = process.env.ATTDOC_BIN;
const require = createRequire(tools + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const hcl = await loadHcl2json(tools);

let passed = 0, failed = 0;
async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}\n  ${String(e.stack || e.message).split("\n").slice(0, 4).join("\n  ")}`); }
}
function assert(c, msg) { if (!c) throw new Error(msg); }
const sameSet = (a, b) => JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort());

// ------------------------------------------------------------------ 1. syntax
const tfFiles = execFileSync("find", [`${top}/terraform`, "-name", "*.tf"]).toString().trim().split("\n").sort();
await check(`hcl2json parses all ${tfFiles.length} .tf files`, async () => {
  assert(tfFiles.length >= 15, `only ${tfFiles.length} .tf files found`);
  const bad = [];
  for (const f of tfFiles) { try { await hcl.parse(path.basename(f), fs.readFileSync(f, "utf8")); } catch (e) { bad.push(`${f}: ${e.message}`); } }
  assert(bad.length === 0, bad.join("\n"));
});
await check("a syntax error is caught by the parser (the check above can fail)", async () => {
  let threw = false;
  try { await hcl.parse("x.tf", 'resource "a" "b" {\n  x = {\n}\n'); } catch { threw = true; }
  assert(threw, "hcl2json accepted a broken file");
});

const dirs = {};
for (const f of tfFiles) dirs[path.dirname(f)] = true;
const loaded = {};
for (const d of Object.keys(dirs)) loaded[d] = await loadDir(hcl, d);
const loadChild = (d) => { if (!loaded[d]) throw new Error(`module source ${d} not found`); return loaded[d]; };

const ACCOUNTS = { primary: "111111111111", secondary_b: "222222222222", secondary_c: "333333333333" };
const REGION = "eu-west-1";
const env = (p) => ({ account: ACCOUNTS.primary, region: REGION, path: p, providers: {
  secondary_b: { account: ACCOUNTS.secondary_b }, secondary_c: { account: ACCOUNTS.secondary_c } } });

const hex = (s) => execFileSync(tool, ["pcr-extend", s]).toString().trim();
const PCR8 = hex("signing certificate A"), PCR8_OTHER = hex("signing certificate B");
const PCR8_NEXT = hex("signing certificate A, next");
const PCR0_OLD = hex("image v1"), PCR0_NEW = hex("image v2"), PCR0_OTHER = hex("image evil");
const PCR3 = hex("arn:aws:iam::111111111111:role/containment-chamber-signer"), PCR3_OTHER = hex("arn:aws:iam::111111111111:role/x");
const SIGNER_ROLE = `arn:aws:iam::${ACCOUNTS.primary}:role/containment-chamber-signer`;

function enclaveExample(vars) {
  const d = `${top}/terraform/examples/enclave`;
  return instance(loaded[d], { primary_profile: "account-a", secondary_b_profile: "account-b", secondary_c_profile: "account-c",
    region: REGION, ...vars }, env("enclave"), loadChild);
}

// ------------------------------------------------------------------ 2. IAM actions vs the C sources
const src = (f) => fs.readFileSync(`${top}/${f}`, "utf8");
const srcFiles = execFileSync("find", [`${top}/src`, "-name", "*.c"]).toString().trim().split("\n").map((f) => path.relative(top, f)).sort();

// Operations each cc_dynamodb_* helper of src/aws/dynamodb.c sends (following helper-to-helper calls).
function helperOps(file, prefix, sendRe) {
  const text = src(file);
  const bodies = {};
  const re = new RegExp(`^cc_status (${prefix}[a-z_]+)\\(`, "gm");
  const starts = [...text.matchAll(re)].map((m) => ({ name: m[1], at: m.index }));
  starts.forEach((s, i) => { bodies[s.name] = text.slice(s.at, i + 1 < starts.length ? starts[i + 1].at : text.length); });
  const ops = {};
  const resolveOps = (n, seen = new Set()) => {
    if (seen.has(n)) return new Set(); seen.add(n);
    const out = new Set([...bodies[n].matchAll(sendRe)].map((m) => m[1]));
    for (const m of bodies[n].matchAll(new RegExp(`(${prefix}[a-z_]+)\\(`, "g")))
      if (m[1] !== n && bodies[m[1]]) for (const o of resolveOps(m[1], seen)) out.add(o);
    return out;
  };
  for (const n of Object.keys(bodies)) ops[n] = [...resolveOps(n)];
  return ops;
}
const ddbHelpers = helperOps("src/aws/dynamodb.c", "cc_dynamodb_", /(?:ddb_send|cc_aws_json_call)\([^,]+,\s*"(\w+)"/g);
const kmsHelpers = helperOps("src/aws/kms.c", "cc_kms_", /cc_kms_call\(kms,\s*"(\w+)"/g);

// Which table each caller file works on. Any other file calling cc_dynamodb_* fails the test.
// `call` is the source line of the call: the chamber's files work on the state table, except where
// a call names the key table (the master-key rotation re-seals key items: `…key_table…`).
function tableOf(file, call = "") {
  if (file.startsWith("src/slashing/")) return "anti_slashing";
  if (file.startsWith("src/chamber/")) return /key_table/.test(call) ? "keys" : "signer_state";
  if (file.startsWith("src/keys/") || file === "src/api/chamber_keys.c") return "keys";
  if (file === "src/cli/server.c") return "keys";        // start_dynamodb_keys: DescribeTable of the key table
  if (file === "src/cli/dynamodb.c") return "create-tables";
  return null;
}
const codeOps = { anti_slashing: new Set(), signer_state: new Set(), keys: new Set(), "create-tables": new Set() };
const kmsOps = new Set();
const unmapped = [];
for (const f of srcFiles) {
  if (f.startsWith("src/aws/") || f.startsWith("src/kmslocal/")) continue;
  const text = src(f);
  for (const m of text.matchAll(/\b(cc_dynamodb_[a-z_]+)\s*\(\s*[^,()]*(?:\([^()]*\))?[^,()]*,\s*"?(\w+)?/g)) {
    const fn = m[1];
    if (fn === "cc_dynamodb_init") continue;
    const t = tableOf(f, text.slice(m.index, text.indexOf("\n", m.index)));
    if (!t) { unmapped.push(`${f}: ${fn}`); continue; }
    let ops;
    if (fn === "cc_dynamodb_call" || fn === "cc_dynamodb_call_info") ops = [m[2]];
    else if (!ddbHelpers[fn]) { unmapped.push(`${f}: unknown helper ${fn}`); continue; }
    else ops = ddbHelpers[fn];
    for (const op of ops) {
      if (op === "TransactWriteItems") { // authorised per action: Put → PutItem, Update → UpdateItem, ...
        const kinds = [...text.matchAll(/"(Put|Update|Delete|ConditionCheck)",\s*"TableName"/g)].map((x) => x[1]);
        if (!kinds.length) unmapped.push(`${f}: TransactWriteItems whose actions cannot be read`);
        for (const k of kinds) codeOps[t].add(k === "ConditionCheck" ? "ConditionCheckItem" : `${k}Item`);
      } else codeOps[t].add(op);
    }
  }
  for (const m of text.matchAll(/\b(cc_kms_[a-z_]+)\s*\(/g)) {
    if (["cc_kms_init", "cc_kms_bytes_free"].includes(m[1]) || text.includes(`}\n${m[1]}`)) continue;
    if (!kmsHelpers[m[1]]) { if (/^cc_kms_(call)$/.test(m[1])) unmapped.push(`${f}: direct cc_kms_call`); continue; }
    for (const op of kmsHelpers[m[1]]) kmsOps.add(op);
  }
}

const ex = enclaveExample({ enclave_signing_cert_hash: PCR8, enclave_pcr0_hashes: [PCR0_OLD], enclave_pcr3_hash: "" });
const signerMod = ex.instanceOf("signer");
const iamPolicy = JSON.parse(signerMod.resource("aws_iam_role_policy.this").policy);
const tableArn = (suffix) => `arn:aws:dynamodb:${REGION}:${ACCOUNTS.primary}:table/containment-${suffix}`;

await check("the C sources were read: every cc_dynamodb_* caller is mapped to a table", async () => {
  assert(unmapped.length === 0, `unmapped callers (extend tableOf in this test and the IAM policy):\n${unmapped.join("\n")}`);
  assert(codeOps.anti_slashing.has("PutItem") && codeOps.signer_state.has("GetItem") && codeOps.keys.has("Query"),
    `grep found too little: ${JSON.stringify(Object.fromEntries(Object.entries(codeOps).map(([k, v]) => [k, [...v]])))}`);
  assert(kmsOps.has("Encrypt") && kmsOps.has("Decrypt"), `KMS ops found: ${[...kmsOps]}`);
  console.log(`     code: ${Object.entries(codeOps).map(([k, v]) => `${k}=[${[...v].sort()}]`).join(" ")} kms=[${[...kmsOps].sort()}]`);
});

const stmt = (sid) => iamPolicy.Statement.find((s) => s.Sid === sid);
for (const [sid, table, res] of [["AntiSlashingTable", "anti_slashing", [tableArn("slashing")]],
  ["SignerStateTable", "signer_state", [tableArn("state")]],
  ["KeyTable", "keys", [tableArn("keys"), `${tableArn("keys")}/index/status-shard-index`]]]) {
  await check(`IAM ${sid}: actions are exactly what the code calls on the ${table} table; resources are that table`, async () => {
    const s = stmt(sid);
    assert(s && s.Effect === "Allow", `no statement ${sid} in ${JSON.stringify(iamPolicy)}`);
    const want = [...codeOps[table]].filter((op) => op !== "CreateTable").map((op) => `dynamodb:${op}`);
    assert(sameSet(s.Action, want), `Terraform ${JSON.stringify([...s.Action].sort())} != code ${JSON.stringify(want.sort())}`);
    assert(sameSet([].concat(s.Resource), res), `resources ${JSON.stringify(s.Resource)}`);
  });
}
await check("IAM: CreateTable (create-tables only) is not granted; no wildcard actions or resources", async () => {
  for (const s of iamPolicy.Statement) {
    for (const a of [].concat(s.Action)) assert(!a.includes("*") && a !== "dynamodb:CreateTable", `${s.Sid}: ${a}`);
    for (const r of [].concat(s.Resource)) assert(r !== "*", `${s.Sid}: Resource *`);
  }
  assert(iamPolicy.Statement.length === 4, `${iamPolicy.Statement.length} statements`);
});
await check("IAM ShamirKmsKeys: exactly the KMS operations the code calls, on the three keys of accounts A, B, C", async () => {
  const s = stmt("ShamirKmsKeys");
  assert(s, "no ShamirKmsKeys statement");
  assert(sameSet(s.Action, [...kmsOps].map((o) => `kms:${o}`)), `Terraform ${s.Action} != code ${[...kmsOps]}`);
  const accts = s.Resource.map((r) => r.split(":")[4]);
  assert(sameSet(accts, Object.values(ACCOUNTS)) && s.Resource.length === 3, `key ARNs ${JSON.stringify(s.Resource)}`);
});
await check("outputs: kms_key_arns is the comma-separated list operator init --kms-key-arns takes", async () => {
  const out = ex.outputs().kms_key_arns;
  assert(out.split(",").length === 3 && out.split(",").every((a) => /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/.+/.test(a)), out);
  assert(sameSet(out.split(","), stmt("ShamirKmsKeys").Resource), "output and IAM resources differ");
});
await check("standard example renders: same table statements, keys without attestation conditions", async () => {
  const d = `${top}/terraform/examples/standard`;
  const st = instance(loaded[d], { profile: "p", region: REGION, eks_oidc_provider_arn: "arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
    eks_oidc_issuer: "oidc.eks.eu-west-1.amazonaws.com/id/ABC" }, env("standard"), loadChild);
  const sIam = JSON.parse(st.instanceOf("signer").resource("aws_iam_role_policy.this").policy);
  assert(sameSet(sIam.Statement.map((s) => s.Sid), iamPolicy.Statement.map((s) => s.Sid)), "statements differ");
  const trust = JSON.parse(st.instanceOf("signer").resource("aws_iam_role.this").assume_role_policy);
  const irsa = trust.Statement.find((s) => s.Sid === "EksIrsa");
  assert(irsa && irsa.Condition.StringEquals["oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub"] === "system:serviceaccount:default:containment-chamber", JSON.stringify(trust));
  const keys = st.child("kms");
  assert(keys.length === 3, `${keys.length} keys`);
  const pol = JSON.parse(keys[0].policy_json);
  assert(!JSON.stringify(pol).includes("RecipientAttestation"), "standard key policy has attestation conditions");
});

// ------------------------------------------------------------------ 3. key policies in kms-local
const creds = (acct) => [
  { access_key_id: "AKIDSIGNER0000000000", secret_access_key: "signer-secret", principal_arn: SIGNER_ROLE },
  { access_key_id: "AKIDADMIN00000000000", secret_access_key: "admin-secret", principal_arn: `arn:aws:iam::${acct}:role/admin` },
  { access_key_id: "AKIDOTHERA0000000000", secret_access_key: "other-secret", principal_arn: `arn:aws:iam::${ACCOUNTS.primary}:role/other` },
  { access_key_id: "AKIDROOTB00000000000", secret_access_key: "root-secret", principal_arn: `arn:aws:iam::${ACCOUNTS.secondary_b}:root` },
];
function freePort() {
  return new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
}
const servers = [];
async function startKms(name, acct) {
  const port = await freePort();
  fs.writeFileSync(`${work}/creds-${name}.json`, JSON.stringify(creds(acct)));
  const p = spawn(kmsBin, ["--listen", `127.0.0.1:${port}`, "--state", `${work}/state-${name}.json`, "--credentials-file",
    `${work}/creds-${name}.json`, "--account", acct, "--region", REGION, "--attestation-root", `${work}/ca/root.pem`],
  { stdio: ["ignore", "ignore", fs.openSync(`${work}/kms-${name}.log`, "a")] });
  servers.push(p);
  fs.appendFileSync(`${work}/pids`, `${p.pid}\n`);
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => { const c = net.connect(port, "127.0.0.1", () => { c.end(); r(true); }); c.on("error", () => r(false)); });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const client = (who) => { const c = creds(acct)[who]; return new kms.KMSClient({ region: REGION, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1,
    credentials: { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key } }); };
  return { signer: client(0), admin: client(1), other: client(2), rootB: client(3) };
}
let docN = 0;
const docCache = new Map(); // one document per PCR set, reused for the three keys (RSA key generation is slow)
function attdoc(pcrs) {
  const id = JSON.stringify(Object.entries(pcrs).sort());
  if (!docCache.has(id)) docCache.set(id, makeAttdoc(pcrs));
  return docCache.get(id);
}
function makeAttdoc(pcrs) {
  const key = `${work}/rsa-${docN++}.pem`;
  const args = ["doc", `${work}/ca`, ...Object.entries(pcrs).flatMap(([n, v]) => ["--pcr", `${n}=${v}`]), "--rsa-key-out", key];
  return { doc: Buffer.from(execFileSync(tool, args).toString().trim(), "base64"), key };
}
async function denied(p, what) {
  try { await p; } catch (e) { assert(e.name === "AccessDeniedException", `${what}: ${e.name} ${e.message}`); return; }
  throw new Error(`${what}: allowed, want AccessDeniedException`);
}
const te = new TextEncoder();

const scenarios = [
  { name: "PCR8 + two PCR0 (upgrade) + PCR3", vars: { enclave_pcr0_hashes: [PCR0_OLD.toUpperCase(), PCR0_NEW], enclave_pcr3_hash: PCR3 } },
  { name: "PCR8 + one PCR0", vars: { enclave_pcr0_hashes: [PCR0_NEW], enclave_pcr3_hash: "" } },
  { name: "PCR8 only", vars: { enclave_pcr0_hashes: [], enclave_pcr3_hash: "" } },
  { name: "two PCR8 (signing-certificate rotation) + one PCR0",
    vars: { enclave_pcr0_hashes: [PCR0_NEW], enclave_pcr3_hash: "", enclave_signing_cert_hashes_next: [PCR8_NEXT] } },
];
try {
  fs.mkdirSync(`${work}/ca`, { recursive: true });
  execFileSync(tool, ["ca", `${work}/ca`]);
  const acctServers = {};
  for (const [alias, acct] of Object.entries(ACCOUNTS)) acctServers[alias] = await startKms(alias, acct);

  for (const sc of scenarios) {
    const exs = enclaveExample({ enclave_signing_cert_hash: PCR8, ...sc.vars });
    const pcr0s = sc.vars.enclave_pcr0_hashes.map((h) => h.toLowerCase()), pcr3 = sc.vars.enclave_pcr3_hash;
    const good = { 8: PCR8, 0: pcr0s[0] || PCR0_OTHER, ...(pcr3 ? { 3: pcr3 } : { 3: PCR3_OTHER }) };
    for (const [mod, alias] of [["kms_a", "primary"], ["kms_b", "secondary_b"], ["kms_c", "secondary_c"]]) {
      const tag = `${sc.name}, ${mod} (account ${ACCOUNTS[alias]})`;
      const inst = exs.instanceOf(mod);
      const policyText = inst.resource("aws_kms_key.this").policy;
      const policy = JSON.parse(policyText);
      const c = acctServers[alias];
      let keyId, blob;
      await check(`${tag}: the rendered key policy names the signer role and is accepted by kms-local`, async () => {
        assert(JSON.stringify(policy).includes(SIGNER_ROLE), "signer role missing");
        assert(policyText === inst.outputs().policy_json, "policy_json output differs from the key's policy");
        const r = await c.admin.send(new kms.CreateKeyCommand({ Description: tag, Policy: policyText }));
        keyId = r.KeyMetadata.Arn;
        assert(keyId.split(":")[4] === ACCOUNTS[alias], `key made in account ${keyId}`);
      });
      if (!keyId) continue;
      await check(`${tag}: only the signer role has an Allow for kms:Decrypt (static)`, async () => {
        for (const s of policy.Statement.filter((x) => x.Effect === "Allow")) {
          const acts = [].concat(s.Action).map((a) => a.toLowerCase());
          const grantsUse = acts.some((a) => a === "kms:*" || a.startsWith("kms:decrypt") || a.startsWith("kms:reencrypt") ||
            a.startsWith("kms:generatedatakey") || a.startsWith("kms:creategrant") || a === "kms:create*" || a === "*");
          if (grantsUse) assert(sameSet([].concat(s.Principal.AWS), [SIGNER_ROLE]) && sameSet(acts, ["kms:decrypt"]), `statement ${s.Sid}: ${JSON.stringify(s)}`);
        }
      });
      await check(`${tag}: Encrypt by the signer without attestation is allowed; by others refused`, async () => {
        const e = await c.signer.send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: te.encode(`share ${mod}`),
          EncryptionContext: { "containment-chamber:share": "1", "containment-chamber:version": "1" } }));
        blob = e.CiphertextBlob;
        await denied(c.other.send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: te.encode("x") })), "other Encrypt");
        await denied(c.admin.send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: te.encode("x") })), "admin Encrypt");
      });
      if (!blob) continue;
      const dec = (client, att) => client.send(new kms.DecryptCommand({ CiphertextBlob: blob, KeyId: keyId,
        EncryptionContext: { "containment-chamber:share": "1", "containment-chamber:version": "1" },
        ...(att ? { Recipient: { AttestationDocument: att.doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } } : {}) }));
      await check(`${tag}: Decrypt by the signer from the right enclave is allowed and opens to the share`, async () => {
        const pcr8s = [PCR8, ...(sc.vars.enclave_signing_cert_hashes_next || [])];
        const variants = (pcr0s.length ? pcr0s.map((p0) => ({ ...good, 0: p0 })) : [good]).flatMap((v) => pcr8s.map((p8) => ({ ...v, 8: p8 })));
        for (const pcrs of variants) {
          const att = attdoc(pcrs);
          const d = await dec(c.signer, att);
          assert(!d.Plaintext && d.CiphertextForRecipient, "no CiphertextForRecipient / a Plaintext");
          const plain = execFileSync("openssl", ["cms", "-decrypt", "-inform", "DER", "-inkey", att.key, "-binary"], { input: Buffer.from(d.CiphertextForRecipient) });
          assert(plain.toString() === `share ${mod}`, "opened share differs");
        }
      });
      await check(`${tag}: Decrypt refused without attestation, with a wrong PCR8${pcr0s.length ? ", a wrong PCR0" : ""}${pcr3 ? ", a wrong or missing PCR3" : ""}`, async () => {
        await denied(dec(c.signer, null), "no Recipient");
        await denied(dec(c.signer, attdoc({ ...good, 8: PCR8_OTHER })), "wrong PCR8");
        await denied(dec(c.signer, attdoc({ 0: good[0], 3: good[3] })), "no PCR8");
        await denied(dec(c.signer, attdoc({ 0: "00".repeat(48), 8: "00".repeat(48), 3: "00".repeat(48) })), "debug-mode zero PCRs");
        if (pcr0s.length) await denied(dec(c.signer, attdoc({ ...good, 0: PCR0_OTHER })), "wrong PCR0");
        if (pcr3) {
          await denied(dec(c.signer, attdoc({ ...good, 3: PCR3_OTHER })), "wrong PCR3");
          const { 3: _drop, ...no3 } = good;
          await denied(dec(c.signer, attdoc(no3)), "missing PCR3");
        }
      });
      await check(`${tag}: no other principal decrypts, even with the right attestation (admin, other role, account B root)`, async () => {
        const att = attdoc(good);
        await denied(dec(c.admin, att), "admin");
        await denied(dec(c.other, att), "other role in account A");
        await denied(dec(c.rootB, att), "account B root");
        await denied(dec(c.admin, null), "admin without attestation");
      });
      await check(`${tag}: the key's administrators can still administer it (DescribeKey, GetKeyPolicy)`, async () => {
        await c.admin.send(new kms.DescribeKeyCommand({ KeyId: keyId }));
        const g = await c.admin.send(new kms.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
        assert(JSON.parse(g.Policy).Statement.length === policy.Statement.length, "policy read back differs");
        // In accounts B and C the signer role is a foreign principal: no administration at all.
        // (In account A the default administrator is A's root, i.e. IAM in A decides, as in AWS.)
        if (alias !== "primary")
          await denied(c.signer.send(new kms.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" })), "signer GetKeyPolicy");
      });
    }
  }
} finally {
  for (const p of servers) { try { p.kill("SIGTERM"); } catch { /* gone */ } }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
