// tls.mode file (driven by tls.sh): HTTPS beside HTTP, certificate hot reload,
// a broken or mismatched replacement keeps the old certificate serving,
// client certificates, start-up errors that name the file.
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import crypto from "node:crypto";
import { spawnSync } from "node:child_process";

const work = process.env.CC_WORK;
const bin = process.env.CC_BIN;
const pki = `${work}/pki`;
const A = { http: +process.env.A_HTTP, https: +process.env.A_HTTPS, dir: `${work}/a` };
const B = { http: +process.env.B_HTTP, https: +process.env.B_HTTPS, dir: `${work}/b` };
const MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
const pk = fs.readFileSync(`${work}/pubkeys.txt`, "utf8").trim().split("\n")[0];
const pem = (name) => fs.readFileSync(`${pki}/${name}`);
const CA = pem("ca.pem");
const fingerprint = (name) => new crypto.X509Certificate(pem(name)).fingerprint256;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let passed = 0, failed = 0;

async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}\n  ${e.message}`); }
}
function assert(c, msg) { if (!c) throw new Error(msg); }

const hex32 = (b) => "0x" + b.toString(16).padStart(2, "0").repeat(32);
const att = (src, tgt) => ({
  type: "ATTESTATION",
  fork_info: { fork: { previous_version: "0x04000000", current_version: "0x05000000", epoch: "364032" },
    genesis_validators_root: MAINNET_GVR },
  attestation: { slot: String(tgt * 32), index: "0", beacon_block_root: hex32(1),
    source: { epoch: String(src), root: hex32(2) }, target: { epoch: String(tgt), root: hex32(3) } },
});

// One request; over TLS when opts.tls is set ({} = no client certificate). Resolves with the
// status, headers, body and the fingerprint of the certificate the server presented.
function request(port, path, { tls: tlsOpts, method = "GET", body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const mod = tlsOpts ? https : http;
    const opts = { host: "127.0.0.1", port, path, method, agent,
      headers: body ? { "Content-Type": "application/json", Accept: "application/json" } : {} };
    if (tlsOpts) Object.assign(opts, { ca: CA, servername: "localhost" }, tlsOpts);
    const req = mod.request(opts, (res) => {
      const peer = tlsOpts ? res.socket.getPeerCertificate().fingerprint256 : null;
      const localPort = res.socket.localPort;
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text, peer, localPort }));
    });
    req.setTimeout(5000, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

// The certificate a fresh TLS connection is served.
function servedFingerprint(port) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: CA, servername: "localhost" }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.setTimeout(5000, () => s.destroy(new Error("timed out")));
    s.on("error", reject);
  });
}

async function waitFor(what, fn, seconds = 10) {
  const end = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last === true) return; } catch (e) { last = e.message; }
    await sleep(200);
  }
  throw new Error(`${what}: not within ${seconds} s (last: ${last})`);
}

// Replaces a server's files the way rotation tools do: write aside, then rename.
function install(dir, certName, keyName) {
  if (certName) { fs.copyFileSync(`${pki}/${certName}`, `${dir}/cert.pem.new`); fs.renameSync(`${dir}/cert.pem.new`, `${dir}/cert.pem`); }
  if (keyName) { fs.copyFileSync(`${pki}/${keyName}`, `${dir}/key.pem.new`); fs.renameSync(`${dir}/key.pem.new`, `${dir}/key.pem`); }
}
const logOf = (s) => fs.readFileSync(`${s.dir}/server.log`, "utf8");
const logCount = (s, word) => logOf(s).split("\n").filter((l) => l.includes(word)).length;

// ------------------------------------------------------------------ server A: HTTPS beside HTTP

await check("HTTPS /upcheck", async () => {
  const r = await request(A.https, "/upcheck", { tls: {} });
  assert(r.status === 200 && r.text === "OK", `${r.status} ${r.text}`);
  assert(r.peer === fingerprint("srv1.pem"), "not the configured certificate");
});
await check("HTTPS signs an ATTESTATION", async () => {
  const r = await request(A.https, `/api/v1/eth2/sign/${pk}`, { tls: {}, method: "POST", body: att(10, 11) });
  assert(r.status === 200, `${r.status} ${r.text}`);
  assert(/^0x[0-9a-f]{192}$/.test(JSON.parse(r.text).signature), r.text);
});
await check("HTTPS goes through anti-slashing (same target, other root → 412)", async () => {
  const body = att(10, 11);
  body.attestation.beacon_block_root = hex32(9);
  const r = await request(A.https, `/api/v1/eth2/sign/${pk}`, { tls: {}, method: "POST", body });
  assert(r.status === 412, `${r.status} ${r.text}`);
});
await check("plain HTTP still serves and signs", async () => {
  const u = await request(A.http, "/upcheck");
  assert(u.status === 200 && u.text === "OK", `${u.status} ${u.text}`);
  const r = await request(A.http, `/api/v1/eth2/sign/${pk}`, { method: "POST", body: att(11, 12) });
  assert(r.status === 200, `${r.status} ${r.text}`);
});
await check("HTTPS speaks TLS 1.2 and refuses TLS 1.1", async () => {
  const r = await request(A.https, "/upcheck", { tls: { maxVersion: "TLSv1.2" } });
  assert(r.status === 200, `TLS 1.2: ${r.status}`);
  let ok = false;
  try {
    await request(A.https, "/upcheck",
      { tls: { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" } });
    ok = true;
  } catch { /* refused */ }
  assert(!ok, "a TLS 1.1 handshake succeeded");
});

// ------------------------------------------------------------------ hot reload

const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1, ca: CA, servername: "localhost" });
let before;
await check("keep-alive connection before the rotation", async () => {
  before = await request(A.https, "/upcheck", { tls: {}, agent: keepAlive });
  assert(before.status === 200 && before.peer === fingerprint("srv1.pem"), JSON.stringify(before.headers));
});
await check("rotated certificate is served to new connections within seconds", async () => {
  install(A.dir, "srv2.pem", "srv2.key");
  await waitFor("new certificate", async () => (await servedFingerprint(A.https)) === fingerprint("srv2.pem"));
  assert(logCount(A, "https: certificate reloaded") >= 1, "no reload logged");
  assert(/https: certificate reloaded.*"serial":"1002"/.test(logOf(A)), "reload log does not give the serial");
});
await check("connection opened before the rotation is answered, then closed", async () => {
  const r = await request(A.https, "/upcheck", { tls: {}, agent: keepAlive });
  assert(r.status === 200, `${r.status}`);
  assert(r.localPort === before.localPort, "not the same connection (cannot test)");
  assert(r.peer === fingerprint("srv1.pem"), "the old connection changed certificate?");
  assert(r.headers.connection === "close", `Connection: ${r.headers.connection}`);
  const n = await request(A.https, "/upcheck", { tls: {}, agent: keepAlive });
  assert(n.status === 200 && n.peer === fingerprint("srv2.pem") && n.localPort !== before.localPort,
    "next request not on a new connection with the new certificate");
  keepAlive.destroy();
});
await check("signing over HTTPS after the rotation", async () => {
  const r = await request(A.https, `/api/v1/eth2/sign/${pk}`, { tls: {}, method: "POST", body: att(12, 13) });
  assert(r.status === 200, `${r.status} ${r.text}`);
});
await check("broken certificate file: refused, logged with the file, old certificate keeps serving", async () => {
  const n0 = logCount(A, "new certificate refused");
  fs.writeFileSync(`${A.dir}/cert.pem`, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  await waitFor("refusal logged", async () => logCount(A, "new certificate refused") > n0);
  assert(/new certificate refused.*tls\.file\.cert_path \(.*cert\.pem\)/.test(logOf(A)), "log does not name cert_path");
  assert((await servedFingerprint(A.https)) === fingerprint("srv2.pem"), "certificate changed");
  const r = await request(A.https, "/upcheck", { tls: {} });
  assert(r.status === 200, `${r.status}`);
  await sleep(2500); // the same broken content is reported once, not every interval
  assert(logCount(A, "new certificate refused") === n0 + 1, "refusal repeated for the same content");
});
await check("key of another certificate: refused, old certificate keeps serving", async () => {
  const n0 = logCount(A, "new certificate refused");
  install(A.dir, "srv3.pem", null); // key.pem still holds srv2's key
  await waitFor("refusal logged", async () => logCount(A, "new certificate refused") > n0);
  assert(/does not belong to the certificate/.test(logOf(A)), "reason not logged");
  assert((await servedFingerprint(A.https)) === fingerprint("srv2.pem"), "certificate changed");
});
await check("completing the pair is picked up", async () => {
  install(A.dir, null, "srv3.key");
  await waitFor("third certificate", async () => (await servedFingerprint(A.https)) === fingerprint("srv3.pem"));
});
await check("many connections during rotations are all answered", async () => {
  const rotate = (async () => {
    for (const [c, k] of [["srv1.pem", "srv1.key"], ["srv2.pem", "srv2.key"], ["srv3.pem", "srv3.key"]]) {
      install(A.dir, c, k);
      await sleep(1300);
    }
  })();
  let bad = 0, total = 0;
  const end = Date.now() + 4200;
  while (Date.now() < end) {
    const rs = await Promise.allSettled(Array.from({ length: 8 }, () => request(A.https, "/upcheck", { tls: {} })));
    for (const r of rs) { total++; if (r.status !== "fulfilled" || r.value.status !== 200) bad++; }
  }
  await rotate;
  assert(bad === 0, `${bad} of ${total} requests failed`);
  await waitFor("last certificate", async () => (await servedFingerprint(A.https)) === fingerprint("srv3.pem"));
});

// ------------------------------------------------------------------ server B: client certificates

const clientCert = { cert: pem("client.pem"), key: pem("client.key") };
await check("client CA: a client without a certificate is refused", async () => {
  let r = null;
  try { r = await request(B.https, "/upcheck", { tls: {} }); } catch { /* refused */ }
  assert(r === null, `answered ${r && r.status}`);
});
await check("client CA: a certificate from another CA is refused", async () => {
  let r = null;
  try { r = await request(B.https, "/upcheck", { tls: { cert: pem("stranger.pem"), key: pem("stranger.key") } }); }
  catch { /* refused */ }
  assert(r === null, `answered ${r && r.status}`);
});
await check("client CA: a certificate signed by the CA is accepted and can sign", async () => {
  const u = await request(B.https, "/upcheck", { tls: clientCert });
  assert(u.status === 200 && u.text === "OK", `${u.status}`);
  const r = await request(B.https, `/api/v1/eth2/sign/${pk}`, { tls: clientCert, method: "POST", body: att(20, 21) });
  assert(r.status === 200, `${r.status} ${r.text}`);
});
await check("client CA: still required after a certificate rotation", async () => {
  install(B.dir, "srv2.pem", "srv2.key");
  await waitFor("new certificate", async () => {
    const r = await request(B.https, "/upcheck", { tls: clientCert });
    return r.status === 200 && r.peer === fingerprint("srv2.pem");
  });
  let r = null;
  try { r = await request(B.https, "/upcheck", { tls: {} }); } catch { /* refused */ }
  assert(r === null, `answered ${r && r.status} without a client certificate`);
});
await check("client CA server: plain HTTP unchanged", async () => {
  const u = await request(B.http, "/upcheck");
  assert(u.status === 200, `${u.status}`);
});

// ------------------------------------------------------------------ start-up errors

function startFails(name, flags, words) {
  return check(name, async () => {
    const r = spawnSync(bin, ["server", "-c", `${A.dir}/config.yaml`, "--server.listen_port=1",
      "--tls.listen_port=2", ...flags], { encoding: "utf8", timeout: 10000 });
    assert(r.status !== 0 && r.status !== null, `exit ${r.status}`);
    for (const w of words) assert(r.stderr.includes(w), `stderr does not mention ${w}: ${r.stderr.slice(-400)}`);
  });
}
await startFails("start-up: missing certificate file", [`--tls.file.cert_path=${work}/nope.pem`],
  ["tls.file.cert_path", `${work}/nope.pem`]);
fs.writeFileSync(`${work}/garbage.pem`, "hello\n");
await startFails("start-up: certificate file without a certificate", [`--tls.file.cert_path=${work}/garbage.pem`],
  ["tls.file.cert_path", `${work}/garbage.pem`]);
await startFails("start-up: key file without a key", [`--tls.file.key_path=${work}/garbage.pem`],
  ["tls.file.key_path", `${work}/garbage.pem`]);
await startFails("start-up: key of another certificate",
  [`--tls.file.cert_path=${pki}/srv1.pem`, `--tls.file.key_path=${pki}/srv2.key`], ["tls.file.key_path", "does not belong"]);
await startFails("start-up: client CA file without a certificate", [`--tls.file.client_ca_path=${work}/garbage.pem`],
  ["tls.file.client_ca_path"]);
await startFails("start-up: tls.mode atls is refused", ["--tls.mode=atls"], ["atls"]);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
