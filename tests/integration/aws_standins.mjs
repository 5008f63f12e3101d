// aws_standins.mjs — local stand-ins for the AWS endpoints src/aws talks to,
// driven by tests/integration/aws_live.sh (loopback only, one HTTP server).
//
//   /sts/             STS AssumeRoleWithWebIdentity (unsigned form POST, XML answer,
//                     Expiration STS_TTL seconds ahead so a refresh can be observed)
//   /pod/creds        EKS Pod Identity agent: Authorization must equal the token
//                     file's current content (POD_TOKEN_FILE), else 401
//   /ecs/creds        ECS container agent (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI): no
//                     token; Expiration STS_TTL seconds ahead. With ECS_LISTEN=ADDR:PORT the
//                     same server also listens there (aws_live.sh: 169.254.170.2:80 inside
//                     a network namespace of its own)
//   /latest/...       IMDSv2: PUT token, GET role, GET credentials; the first
//                     credentials GET answers 401 once (forces a new token)
//   /flaky/<case>     a DynamoDB-shaped JSON 1.0 service: 500twice, throttle,
//                     condfail, ok
//   /kms/             a KMS-shaped JSON 1.1 service (Encrypt/Decrypt/GenerateRandom/
//                     DescribeKey, Decrypt with Recipient) — request building and
//                     answer parsing only; kms-local is the real stand-in
//   /stats            counters as JSON
//
// Every signed request (flaky, kms) is re-signed with @smithy/signature-v4 (an
// independent SigV4 implementation) with the test secret, and its Authorization
// header must match byte for byte (else 403 InvalidSignatureException).
//
//   node aws_standins.mjs --tools DIR   prints the port on its first stdout line
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), [])
);
const require = createRequire(path.join(args.tools || "build/tools", "x.js"));
const { SignatureV4 } = require("@smithy/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");

const SECRET = process.env.STANDIN_SECRET || "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const STS_TTL = Number(process.env.STS_TTL || 4);
const POD_TOKEN_FILE = process.env.POD_TOKEN_FILE;
const WEB_TOKEN_FILE = process.env.WEB_TOKEN_FILE;

const stats = {
  sts: 0, stsBad: [], ecs: 0, ecsHosts: [], pod: 0, podTokens: [], pod401: 0, imdsTokens: 0, imds401: 0, imdsCreds: 0,
  flaky: {}, kms: {}, sigOk: 0, sigBad: [], kmsRecipient: 0,
};
let seq = 0;
const akid = (p) => `${p}${String(++seq).padStart(12, "0")}`;
const iso = (secs) => new Date(Date.now() + secs * 1000).toISOString().replace(/\.\d+Z$/, "Z");

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}
const awsError = (res, status, name, message, ns = "com.amazonaws.dynamodb.v20120810") =>
  send(res, status, JSON.stringify({ __type: `${ns}#${name}`, message }), "application/x-amz-json-1.0");

// Re-signs the request with smithy and compares the Authorization header.
async function checkSignature(req, body) {
  const auth = req.headers.authorization || "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(auth);
  if (!m) return `malformed Authorization: ${auth}`;
  const [, id, , region, service, signed] = m;
  const d = req.headers["x-amz-date"] || "";
  const date = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
  const headers = {};
  for (const h of signed.split(";")) if (h !== "x-amz-date" && h !== "x-amz-security-token") headers[h] = req.headers[h];
  const token = req.headers["x-amz-security-token"];
  if (signed.split(";").includes("x-amz-security-token") !== Boolean(token)) return "token header signed/sent mismatch";
  const signer = new SignatureV4({
    credentials: { accessKeyId: id, secretAccessKey: SECRET, sessionToken: token },
    region, service, sha256: Sha256, applyChecksum: false,
  });
  const u = new URL(req.url, "http://x");
  const signedReq = await signer.sign(
    { method: req.method, protocol: "http:", hostname: headers.host, path: u.pathname, query: {}, headers, body },
    { signingDate: date }
  );
  const want = signedReq.headers.authorization || signedReq.headers.Authorization;
  return want === auth ? null : `smithy says ${want}\n  we sent   ${auth}`;
}

async function signed(req, res, body, ns) {
  const bad = await checkSignature(req, body);
  if (bad) {
    stats.sigBad.push(bad);
    awsError(res, 403, "InvalidSignatureException", bad, ns);
    return false;
  }
  stats.sigOk++;
  return true;
}

// ---------------------------------------------------------------- STS
function sts(req, res, body) {
  stats.sts++;
  const f = new URLSearchParams(body);
  const want = WEB_TOKEN_FILE ? fs.readFileSync(WEB_TOKEN_FILE, "utf8").trim() : "";
  const problems = [];
  if (req.headers.authorization) problems.push("request is signed");
  if (!/^application\/x-www-form-urlencoded/.test(req.headers["content-type"] || "")) problems.push("content-type");
  if (f.get("Action") !== "AssumeRoleWithWebIdentity") problems.push("Action");
  if (f.get("Version") !== "2011-06-15") problems.push("Version");
  if (!f.get("RoleArn")) problems.push("RoleArn");
  if (!f.get("RoleSessionName")) problems.push("RoleSessionName");
  if (f.get("WebIdentityToken") !== want) problems.push("WebIdentityToken");
  if (problems.length) {
    stats.stsBad.push(problems.join(","));
    return send(res, 400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>bad request: ${problems.join(",")}</Message></Error></ErrorResponse>`, "text/xml");
  }
  const xml = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>${akid("ASIASTS")}</AccessKeyId>
      <SecretAccessKey>${SECRET}</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzE&amp;token+/${seq}=</SessionToken>
      <Expiration>${iso(STS_TTL)}</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>${f.get("RoleArn")}/${f.get("RoleSessionName")}</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>`;
  send(res, 200, xml, "text/xml");
}

// ---------------------------------------------------------------- Pod Identity
function ecs(req, res) {
  stats.ecs++;
  stats.ecsHosts.push(req.headers.host || "");
  send(res, 200, JSON.stringify({ AccessKeyId: akid("ASIAECS"), SecretAccessKey: SECRET, Token: `ecs-token-${seq}`,
    RoleArn: "arn:aws:iam::123456789012:role/task", Expiration: iso(STS_TTL) }));
}

function pod(req, res) {
  stats.pod++;
  const want = fs.readFileSync(POD_TOKEN_FILE, "utf8").trim();
  if (req.headers.authorization !== want) {
    stats.pod401++;
    return send(res, 401, JSON.stringify({ message: "bad token" }));
  }
  stats.podTokens.push(want);
  send(res, 200, JSON.stringify({ AccessKeyId: akid("ASIAPOD"), SecretAccessKey: SECRET, Token: `pod-token-${seq}`,
    AccountId: "123456789012", Expiration: iso(3600) }));
}

// ---------------------------------------------------------------- IMDSv2
const imdsTokens = new Set();
let imdsRejectOnce = true;
function imds(req, res) {
  const p = new URL(req.url, "http://x").pathname;
  if (p === "/latest/api/token") {
    if (req.method !== "PUT" || !req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) return send(res, 400, "bad", "text/plain");
    stats.imdsTokens++;
    const t = crypto.randomBytes(24).toString("base64");
    imdsTokens.add(t);
    return send(res, 200, t, "text/plain");
  }
  const t = req.headers["x-aws-ec2-metadata-token"];
  if (!t || !imdsTokens.has(t)) { stats.imds401++; return send(res, 401, "", "text/plain"); }
  if (p === "/latest/meta-data/iam/security-credentials/") return send(res, 200, "signer-role", "text/plain");
  if (p === "/latest/meta-data/iam/security-credentials/signer-role") {
    if (imdsRejectOnce) { // as if the token had expired: every token is dropped once
      imdsRejectOnce = false;
      imdsTokens.clear();
      stats.imds401++;
      return send(res, 401, "", "text/plain");
    }
    stats.imdsCreds++;
    return send(res, 200, JSON.stringify({ Code: "Success", LastUpdated: iso(0), Type: "AWS-HMAC",
      AccessKeyId: akid("ASIAIMDS"), SecretAccessKey: SECRET, Token: `imds-token-${seq}`, Expiration: iso(21600) }));
  }
  send(res, 404, "", "text/plain");
}

// ---------------------------------------------------------------- flaky JSON 1.0 service
async function flaky(req, res, body) {
  const which = new URL(req.url, "http://x").pathname.split("/")[2];
  const n = (stats.flaky[which] = (stats.flaky[which] || 0) + 1);
  if (!(await signed(req, res, body))) return;
  if (req.headers["content-type"] !== "application/x-amz-json-1.0" || !req.headers["x-amz-target"]?.startsWith("DynamoDB_20120810."))
    return awsError(res, 400, "SerializationException", "wrong content type or target");
  if (which === "500twice" && n <= 2) return send(res, 500, JSON.stringify({ __type: "com.amazon.coral.service#InternalFailure" }));
  if (which === "throttle" && n === 1) return awsError(res, 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.");
  if (which === "condfail") return awsError(res, 400, "ConditionalCheckFailedException", "The conditional request failed");
  send(res, 200, JSON.stringify({ ok: true, attempt: n, echo: JSON.parse(body || "{}") }), "application/x-amz-json-1.0");
}

// ---------------------------------------------------------------- KMS-shaped JSON 1.1
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const kmsKey = crypto.createHash("sha256").update("standin kms key").digest();
function seal(pt, ctx) {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv("aes-256-gcm", kmsKey, iv);
  c.setAAD(Buffer.from(JSON.stringify(ctx || {})));
  return Buffer.concat([iv, c.update(pt), c.final(), c.getAuthTag()]);
}
function open(blob, ctx) {
  const d = crypto.createDecipheriv("aes-256-gcm", kmsKey, blob.subarray(0, 12));
  d.setAAD(Buffer.from(JSON.stringify(ctx || {})));
  d.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
}
async function kms(req, res, body) {
  const ns = "com.amazonaws.kms";
  if (!(await signed(req, res, body, ns))) return;
  if (req.headers["content-type"] !== "application/x-amz-json-1.1") return awsError(res, 400, "SerializationException", "content type", ns);
  const op = (req.headers["x-amz-target"] || "").replace(/^TrentService\./, "");
  stats.kms[op] = (stats.kms[op] || 0) + 1;
  let j;
  try { j = JSON.parse(body); } catch { return awsError(res, 400, "SerializationException", "not JSON", ns); }
  const ok = (o) => send(res, 200, JSON.stringify(o), "application/x-amz-json-1.1");
  switch (op) {
    case "Encrypt":
      if (j.KeyId !== KEY_ARN && j.KeyId !== "alias/signer") return awsError(res, 400, "NotFoundException", `Key '${j.KeyId}' does not exist`, ns);
      if (j.EncryptionAlgorithm !== "SYMMETRIC_DEFAULT") return awsError(res, 400, "ValidationException", "algorithm", ns);
      return ok({ CiphertextBlob: seal(Buffer.from(j.Plaintext, "base64"), j.EncryptionContext).toString("base64"), KeyId: KEY_ARN, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
    case "Decrypt": {
      let pt;
      try { pt = open(Buffer.from(j.CiphertextBlob, "base64"), j.EncryptionContext); }
      catch { return awsError(res, 400, "InvalidCiphertextException", "", ns); }
      if (j.Recipient) {
        stats.kmsRecipient++;
        if (j.Recipient.KeyEncryptionAlgorithm !== "RSAES_OAEP_SHA_256" || !/^[A-Za-z0-9+/]+=*$/.test(j.Recipient.AttestationDocument || ""))
          return awsError(res, 400, "ValidationException", "Recipient", ns);
        // Not a real CMS envelope: the stand-in marks the bytes so the client's decoding can be checked.
        const doc = Buffer.from(j.Recipient.AttestationDocument, "base64");
        return ok({ KeyId: KEY_ARN, EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
          CiphertextForRecipient: Buffer.concat([Buffer.from("CMS:"), doc, Buffer.from(":"), pt]).toString("base64") });
      }
      return ok({ KeyId: KEY_ARN, Plaintext: pt.toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" });
    }
    case "GenerateRandom":
      return ok({ Plaintext: crypto.randomBytes(j.NumberOfBytes).toString("base64") });
    case "DescribeKey":
      return ok({ KeyMetadata: { KeyId: KEY_ARN.split("/")[1], Arn: KEY_ARN, KeyState: "Enabled", KeyUsage: "ENCRYPT_DECRYPT", KeySpec: "SYMMETRIC_DEFAULT" } });
    default:
      return awsError(res, 400, "UnknownOperationException", op, ns);
  }
}

// ---------------------------------------------------------------- server
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const p = new URL(req.url, "http://x").pathname;
    try {
      if (p === "/stats") return send(res, 200, JSON.stringify(stats));
      if (p.startsWith("/sts")) return sts(req, res, body);
      if (p.startsWith("/pod/")) return pod(req, res);
      if (p.startsWith("/ecs/")) return ecs(req, res);
      if (p.startsWith("/latest/")) return imds(req, res);
      if (p.startsWith("/flaky/")) return await flaky(req, res, body);
      if (p.startsWith("/kms")) return await kms(req, res, body);
      send(res, 404, "{}");
    } catch (e) {
      send(res, 500, JSON.stringify({ __type: "InternalFailure", message: String(e) }));
    }
  });
});
const ecsListen = process.env.ECS_LISTEN; // "169.254.170.2:80": the ECS agent's address, for the relative URI
if (ecsListen) {
  const i = ecsListen.lastIndexOf(":");
  http.createServer(server.listeners("request")[0]).listen(Number(ecsListen.slice(i + 1)), ecsListen.slice(0, i), () =>
    server.listen(0, "127.0.0.1", () => console.log(server.address().port)));
} else {
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
}
// Bounded life: the driving script kills us; this is the backstop.
setTimeout(() => process.exit(0), Number(process.env.STANDIN_MAX_SECONDS || 300) * 1000).unref();
