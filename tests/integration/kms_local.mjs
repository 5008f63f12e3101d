// kms-local driven by AWS's own client (@aws-sdk/client-kms), so its SigV4
// verification and JSON 1.1 wire format are checked against the real SDK
// (driven by kms_local.sh). Starts and restarts the binary itself.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { createRequire } from "node:module";

const require = createRequire(process.env.CC_TOOLS + "/node_modules/");
const kms = require("@aws-sdk/client-kms");
const { KMSClient } = kms;

const work = process.env.CC_WORK, bin = process.env.KMS_BIN, tool = process.env.ATTDOC_BIN;
const caDir = `${work}/ca`, state = `${work}/state.json`;
const ADMIN = "arn:aws:iam::000000000000:role/admin";
const SIGNER = "arn:aws:iam::000000000000:role/signer";
const OTHER = "arn:aws:iam::000000000000:role/other";
let passed = 0, failed = 0;
async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}\n  ${e.stack || e.message}`); }
}
function assert(c, msg) { if (!c) throw new Error(msg); }
async function expectError(promise, name, word) {
  try { await promise; } catch (e) {
    assert(e.name === name, `got ${e.name} (${e.message}), want ${name}`);
    if (word) assert(String(e.message).includes(word), `"${e.message}" lacks "${word}"`);
    return e;
  }
  throw new Error(`no error, want ${name}`);
}

const creds = [
  { access_key_id: "AKIDADMIN00000000000", secret_access_key: "admin-secret", principal_arn: ADMIN },
  { access_key_id: "AKIDSIGNER0000000000", secret_access_key: "signer-secret", principal_arn: SIGNER },
  { access_key_id: "AKIDOTHER00000000000", secret_access_key: "other-secret", principal_arn: OTHER },
];
fs.writeFileSync(`${work}/creds.json`, JSON.stringify(creds));

function freePort() {
  return new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
}
let server = null, port = 0;
async function start() {
  server = spawn(bin, ["--listen", `127.0.0.1:${port}`, "--state", state, "--credentials-file", `${work}/creds.json`,
    "--attestation-root", `${caDir}/root.pem`], { stdio: ["ignore", "ignore", fs.openSync(`${work}/server.log`, "a")] });
  fs.writeFileSync(`${work}/server.pid`, String(server.pid));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((res) => { const c = net.connect(port, "127.0.0.1", () => { c.end(); res(true); }); c.on("error", () => res(false)); });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("kms-local did not start");
}
async function stop() {
  if (!server) return;
  const done = new Promise((r) => server.on("exit", r));
  server.kill("SIGTERM");
  await done;
  server = null;
}

const client = (who, extra = {}) => new KMSClient({
  region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1,
  credentials: { accessKeyId: creds[who].access_key_id, secretAccessKey: creds[who].secret_access_key }, ...extra,
});
const hex48 = (b) => b.toString(16).padStart(2, "0").repeat(48);
const te = new TextEncoder(), td = new TextDecoder();

function attdoc(pcrs, keyOut, extra = []) {
  const args = ["doc", caDir, ...Object.entries(pcrs).flatMap(([n, v]) => ["--pcr", `${n}=${v}`]), ...extra];
  if (keyOut) args.push("--rsa-key-out", keyOut);
  return Buffer.from(execFileSync(tool, args).toString().trim(), "base64");
}
// CiphertextForRecipient opened twice: by the openssl CLI and by CMS_decrypt in our helper.
function openCms(der, keyFile) {
  const viaCli = execFileSync("openssl", ["cms", "-decrypt", "-inform", "DER", "-inkey", keyFile, "-binary"], { input: der });
  const viaApi = Buffer.from(execFileSync(tool, ["open", keyFile], { input: Buffer.from(der).toString("base64") }).toString().trim(), "base64");
  assert(Buffer.compare(viaCli, viaApi) === 0, "openssl cms and CMS_decrypt disagree");
  return viaCli;
}

port = await freePort();
await start();
const admin = client(0), signer = client(1);
let keyId, blob;
const PCR0 = hex48(0xa0), PCR8 = execFileSync(tool, ["pcr-extend", "signing certificate"]).toString().trim();

try {
  await check("CreateKey, DescribeKey, ListKeys", async () => {
    const r = await admin.send(new kms.CreateKeyCommand({ Description: "kms-local test" }));
    keyId = r.KeyMetadata.KeyId;
    assert(r.KeyMetadata.Arn === `arn:aws:kms:us-east-1:000000000000:key/${keyId}`, r.KeyMetadata.Arn);
    assert(r.KeyMetadata.Enabled === true && r.KeyMetadata.KeyState === "Enabled", "not enabled");
    assert(r.KeyMetadata.CreationDate instanceof Date, "CreationDate not a date");
    const d = await admin.send(new kms.DescribeKeyCommand({ KeyId: r.KeyMetadata.Arn }));
    assert(d.KeyMetadata.KeyId === keyId, "DescribeKey by ARN");
    const l = await admin.send(new kms.ListKeysCommand({}));
    assert(l.Keys.some((k) => k.KeyId === keyId), "ListKeys misses the key");
  });

  await check("Encrypt / Decrypt with encryption context", async () => {
    const e = await signer.send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: te.encode("share-1"),
      EncryptionContext: { validator: "0xabc", purpose: "seal" } }));
    blob = e.CiphertextBlob;
    assert(e.EncryptionAlgorithm === "SYMMETRIC_DEFAULT", "algorithm");
    const d = await signer.send(new kms.DecryptCommand({ CiphertextBlob: blob,
      EncryptionContext: { purpose: "seal", validator: "0xabc" } }));
    assert(td.decode(d.Plaintext) === "share-1", "plaintext");
    assert(d.KeyId.endsWith(keyId), "KeyId");
  });

  await check("encryption context mismatch → InvalidCiphertextException", async () => {
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: "seal" } })),
      "InvalidCiphertextException");
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: blob })), "InvalidCiphertextException");
  });

  await check("wrong secret → InvalidSignatureException; unknown key id → UnrecognizedClientException", async () => {
    const bad = new KMSClient({ region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1,
      credentials: { accessKeyId: creds[1].access_key_id, secretAccessKey: "not-the-secret" } });
    await expectError(bad.send(new kms.ListKeysCommand({})), "InvalidSignatureException");
    const unknown = new KMSClient({ region: "us-east-1", endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1,
      credentials: { accessKeyId: "AKIDUNKNOWN000000000", secretAccessKey: "x" } });
    await expectError(unknown.send(new kms.ListKeysCommand({})), "UnrecognizedClientException");
    const other = new KMSClient({ region: "eu-west-1", endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1,
      credentials: { accessKeyId: creds[1].access_key_id, secretAccessKey: creds[1].secret_access_key } });
    await expectError(other.send(new kms.ListKeysCommand({})), "InvalidSignatureException", "region");
  });

  await check("clock skew > 5 min → Signature expired (and the SDK's skew correction recovers)", async () => {
    const skewed = client(1, { systemClockOffset: -10 * 60 * 1000 });
    await expectError(skewed.send(new kms.ListKeysCommand({})), "InvalidSignatureException", "Signature expired");
    const retrying = client(1, { systemClockOffset: -10 * 60 * 1000, maxAttempts: 3 });
    const l = await retrying.send(new kms.ListKeysCommand({}));
    assert(Array.isArray(l.Keys), "corrected request failed");
  });

  await check("no Authorization → MissingAuthenticationTokenException", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys" }, body: "{}" });
    assert(r.status === 400, `status ${r.status}`);
    const j = await r.json();
    assert(j.__type === "MissingAuthenticationTokenException", JSON.stringify(j));
  });

  await check("DisableKey → DisabledException; EnableKey restores", async () => {
    await admin.send(new kms.DisableKeyCommand({ KeyId: keyId }));
    await expectError(signer.send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: te.encode("x") })), "DisabledException");
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: blob,
      EncryptionContext: { purpose: "seal", validator: "0xabc" } })), "DisabledException");
    await admin.send(new kms.EnableKeyCommand({ KeyId: keyId }));
    const d = await signer.send(new kms.DecryptCommand({ CiphertextBlob: blob,
      EncryptionContext: { purpose: "seal", validator: "0xabc" } }));
    assert(td.decode(d.Plaintext) === "share-1", "plaintext after EnableKey");
  });

  const enclavePolicy = JSON.stringify({ Version: "2012-10-17", Statement: [
    { Sid: "admin", Effect: "Allow", Principal: { AWS: ADMIN }, Action: "kms:*", Resource: "*" },
    { Sid: "encrypt", Effect: "Allow", Principal: { AWS: SIGNER }, Action: "kms:Encrypt", Resource: "*" },
    { Sid: "decrypt", Effect: "Allow", Principal: { AWS: SIGNER }, Action: "kms:Decrypt", Resource: "*",
      Condition: { StringEqualsIgnoreCase: { "kms:RecipientAttestation:PCR8": PCR8,
        "kms:RecipientAttestation:ImageSha384": PCR0 } } },
  ] });
  let enclaveBlob;
  await check("PutKeyPolicy (enclave policy) and GetKeyPolicy; the signer may not change it", async () => {
    // under the default policy every principal of the account may; under the enclave policy only the admin
    await admin.send(new kms.PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: enclavePolicy }));
    await expectError(signer.send(new kms.PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default",
      Policy: enclavePolicy.replace("kms:Encrypt", "kms:*") })), "AccessDeniedException");
    const g = await admin.send(new kms.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
    assert(JSON.parse(g.Policy).Statement.length === 3, "policy not stored");
    await expectError(admin.send(new kms.PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default",
      Policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:*", Condition: { Bool: { "aws:SecureTransport": "true" } } }] }) })),
      "MalformedPolicyDocumentException");
    const e = await signer.send(new kms.EncryptCommand({ KeyId: keyId, Plaintext: te.encode("enclave-secret") }));
    enclaveBlob = e.CiphertextBlob;
  });

  await check("Decrypt without Recipient under a PCR condition → AccessDeniedException", async () => {
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob })), "AccessDeniedException");
  });

  await check("Decrypt with Recipient → CiphertextForRecipient that CMS_decrypt and openssl cms open", async () => {
    const keyFile = `${work}/enclave.pem`;
    const doc = attdoc({ 0: PCR0, 8: PCR8 }, keyFile);
    const d = await signer.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } }));
    assert(d.Plaintext === undefined, "Plaintext must be absent");
    assert(d.CiphertextForRecipient && d.CiphertextForRecipient.length > 0, "no CiphertextForRecipient");
    assert(td.decode(openCms(d.CiphertextForRecipient, keyFile)) === "enclave-secret", "opened plaintext");
    // the tagged COSE form is accepted too
    const taggedKey = `${work}/enclave-tagged.pem`;
    const tagged = attdoc({ 0: PCR0, 8: PCR8 }, taggedKey, ["--tagged"]);
    const t = await signer.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: tagged, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } }));
    assert(td.decode(openCms(t.CiphertextForRecipient, taggedKey)) === "enclave-secret", "tagged document");
    // GenerateRandom with a Recipient
    const g = await signer.send(new kms.GenerateRandomCommand({ NumberOfBytes: 32,
      Recipient: { AttestationDocument: doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } }));
    assert(g.Plaintext === undefined && openCms(g.CiphertextForRecipient, keyFile).length === 32, "GenerateRandom");
  });

  await check("Recipient with a wrong PCR, a stale document or another principal is refused", async () => {
    const keyFile = `${work}/enclave2.pem`;
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: attdoc({ 0: PCR0, 8: hex48(0xee) }, keyFile), KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } })),
      "AccessDeniedException");
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: attdoc({ 0: hex48(0x01), 8: PCR8 }, keyFile), KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } })),
      "AccessDeniedException");
    await expectError(signer.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: attdoc({ 0: PCR0, 8: PCR8 }, keyFile, ["--age-seconds", "900"]), KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } })),
      "ValidationException", "older");
    const doc = attdoc({ 0: PCR0, 8: PCR8 }, keyFile);
    await expectError(client(2).send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } })), "AccessDeniedException");
    // the admin role has kms:* without conditions, so it may
    const d = await admin.send(new kms.DecryptCommand({ CiphertextBlob: enclaveBlob,
      Recipient: { AttestationDocument: doc, KeyEncryptionAlgorithm: "RSAES_OAEP_SHA_256" } }));
    assert(d.CiphertextForRecipient, "admin (kms:*) decrypts");
  });

  await check("state persists across a restart of kms-local", async () => {
    await admin.send(new kms.DisableKeyCommand({ KeyId: keyId }));
    await stop();
    await start();
    const dk = await admin.send(new kms.DescribeKeyCommand({ KeyId: keyId }));
    assert(dk.KeyMetadata.Enabled === false, "disabled state lost");
    await admin.send(new kms.EnableKeyCommand({ KeyId: keyId }));
    const d = await admin.send(new kms.DecryptCommand({ CiphertextBlob: blob,
      EncryptionContext: { purpose: "seal", validator: "0xabc" } }));
    assert(td.decode(d.Plaintext) === "share-1", "old ciphertext after restart");
    const g = await admin.send(new kms.GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
    assert(g.Policy === enclavePolicy, "policy after restart");
    assert(!fs.existsSync(`${state}.tmp`), "temporary state file left behind");
  });
} finally {
  await stop();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
