// Shared by crash_sigkill.mjs and race_two_processes.mjs: request bodies for
// the two gated types (ATTESTATION, BLOCK_V2 header), their signing roots
// computed independently of the signer (SSZ hash_tree_root of the two fixed
// containers + compute_domain, with node's SHA-256), interop file-raw keys, a
// keep-alive HTTP client, server start/stop and the EIP-3076 export.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";

export const MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
const FORK = { previous_version: "0x04000000", current_version: "0x05000000", epoch: "364032" };
const forkInfo = () => ({ fork: FORK, genesis_validators_root: MAINNET_GVR });

// ---- SSZ -------------------------------------------------------------------
const sha = (...parts) => crypto.createHash("sha256").update(Buffer.concat(parts)).digest();
const u64 = (v) => { const b = Buffer.alloc(32); b.writeBigUInt64LE(BigInt(v)); return b; };
const b32 = (hex) => Buffer.from(hex.slice(2).padEnd(64, "0"), "hex");
function merkle(leaves) { // leaves: 32-byte chunks, padded to a power of two
  let n = 1; while (n < leaves.length) n *= 2;
  let level = leaves.concat(Array(n - leaves.length).fill(Buffer.alloc(32)));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha(level[i], level[i + 1]));
    level = next;
  }
  return level[0];
}
function signingRoot(objectRoot, domainType, msgEpoch) {
  const version = BigInt(msgEpoch) < BigInt(FORK.epoch) ? FORK.previous_version : FORK.current_version;
  const forkDataRoot = sha(b32(version), b32(MAINNET_GVR));
  const domain = Buffer.concat([Buffer.from(domainType, "hex"), forkDataRoot.subarray(0, 28)]);
  return "0x" + sha(objectRoot, domain).toString("hex");
}

// ---- messages ----------------------------------------------------------------
export const hex32 = (n) => "0x" + BigInt(n).toString(16).padStart(64, "0");

// An attestation (source -> target) whose beacon_block_root is hex32(root).
export function attestation(source, target, root) {
  const data = { slot: String(BigInt(target) * 32n), index: "0", beacon_block_root: hex32(root),
    source: { epoch: String(source), root: hex32(2) }, target: { epoch: String(target), root: hex32(3) } };
  const objectRoot = merkle([u64(data.slot), u64(data.index), b32(data.beacon_block_root),
    sha(u64(data.source.epoch), b32(data.source.root)), sha(u64(data.target.epoch), b32(data.target.root))]);
  return { kind: "att", source: Number(source), target: Number(target),
    root: signingRoot(objectRoot, "01000000", target),
    body: { type: "ATTESTATION", fork_info: forkInfo(), attestation: data } };
}

// A BLOCK_V2 (ELECTRA header) at slot whose body_root is hex32(body).
export function block(slot, body) {
  const h = { slot: String(slot), proposer_index: "5", parent_root: hex32(4), state_root: hex32(5),
    body_root: hex32(body) };
  const objectRoot = merkle([u64(h.slot), u64(h.proposer_index), b32(h.parent_root), b32(h.state_root),
    b32(h.body_root)]);
  return { kind: "blk", slot: Number(slot), root: signingRoot(objectRoot, "00000000", BigInt(slot) / 32n),
    body: { type: "BLOCK_V2", fork_info: forkInfo(), beacon_block: { version: "ELECTRA", block_header: h } } };
}

// ---- keys ----------------------------------------------------------------------
// Interop secret key i (sha256(le32 i) as a little-endian integer mod r) as a
// Web3Signer file-raw descriptor: no KDF, so a restart loads keys in a few ms.
export function writeInteropKeys(dir, count) {
  const r = BigInt("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(32); b.writeUInt32LE(i, 0);
    const h = crypto.createHash("sha256").update(b).digest();
    let x = 0n; for (let j = 31; j >= 0; j--) x = (x << 8n) | BigInt(h[j]);
    fs.writeFileSync(`${dir}/key${i}.yaml`,
      `type: file-raw\nkeyType: BLS\nprivateKey: "0x${(x % r).toString(16).padStart(64, "0")}"\n`);
  }
}

// ---- HTTP ----------------------------------------------------------------------
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// POST a sign request; resolves {status, text} or {status: 0, error} when the
// connection dies (the server was killed) — never rejects.
export function sign(agent, port, pubkey, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, agent, method: "POST",
      path: `/api/v1/eth2/sign/${pubkey}`,
      headers: { "Content-Type": "application/json", Accept: "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, text }));
      res.on("error", (e) => resolve({ status: 0, error: e.message }));
      // A response cut off by the kill is not a received answer.
      res.on("close", () => resolve(res.complete ? { status: res.statusCode, text } : { status: 0, error: "cut off" }));
    });
    req.on("error", (e) => resolve({ status: 0, error: e.message }));
    req.end(JSON.stringify(body));
  });
}

export async function getJson(port, path) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return r.json();
}

// Servers still running when the driver ends (a crash, a timeout's SIGTERM) are killed with it.
const live = new Set();
process.on("exit", () => { for (const p of live) p.kill("SIGKILL"); });
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => process.exit(1));

// Starts `containment-chamber server`, resolves {proc, port, startMs} once
// /upcheck answers, or throws with the log's tail.
export async function startServer(bin, config, log, extraFlags = []) {
  const port = await freePort(), mport = await freePort();
  const out = fs.openSync(log, "w");
  const t0 = performance.now();
  const proc = spawn(bin, ["server", "-c", config, `--server.listen_port=${port}`,
    `--metrics.listen_port=${mport}`, ...extraFlags], { stdio: ["ignore", out, out] });
  fs.closeSync(out);
  live.add(proc);
  let exited = null;
  proc.on("exit", (code, sig) => { exited = sig || code; live.delete(proc); });
  for (let i = 0; i < 1000; i++) {
    if (exited !== null) break;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/upcheck`);
      if (r.status === 200) return { proc, port, startMs: performance.now() - t0 };
    } catch { /* not listening yet */ }
    await new Promise((res) => setTimeout(res, 5));
  }
  proc.kill("SIGKILL");
  throw new Error(`server did not start (exit ${exited}):\n${fs.readFileSync(log, "utf8").slice(-2000)}`);
}

export function killAndWait(proc, signal = "SIGKILL") {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill(signal);
  });
}

export function integrityCheck(db) {
  const p = spawnSync("sqlite3", [db, "PRAGMA integrity_check; PRAGMA foreign_key_check;"], { encoding: "utf8" });
  return (p.stdout + p.stderr).trim();
}

// The EIP-3076 export as maps: "pubkey/target" -> {source, root} and
// "pubkey/slot" -> root.
export function exportRecords(bin, config) {
  const p = spawnSync(bin, ["slashing", "export", "-c", config, "--file", "-"],
    { encoding: "utf8", maxBuffer: 1 << 30 });
  if (p.status !== 0) throw new Error(`slashing export exited ${p.status}: ${p.stderr.slice(-500)}`);
  const ic = JSON.parse(p.stdout);
  if (ic.metadata.genesis_validators_root !== MAINNET_GVR) throw new Error("export: wrong genesis_validators_root");
  const atts = new Map(), blks = new Map();
  for (const v of ic.data) {
    for (const a of v.signed_attestations)
      atts.set(`${v.pubkey}/${a.target_epoch}`, { source: Number(a.source_epoch), root: a.signing_root });
    for (const b of v.signed_blocks) blks.set(`${v.pubkey}/${b.slot}`, b.signing_root);
  }
  return { atts, blks, validators: ic.data.length };
}

// Why a signed message m of pubkey pk is not (exactly) in the export, or null.
export function missingRecord(rec, pk, m) {
  if (m.kind === "att") {
    const r = rec.atts.get(`${pk}/${m.target}`);
    if (!r) return `no attestation record at target ${m.target}`;
    if (r.source !== m.source) return `record at target ${m.target} has source ${r.source}, signed ${m.source}`;
    if (r.root !== m.root) return `record at target ${m.target} has root ${r.root}, signed ${m.root}`;
  } else {
    const r = rec.blks.get(`${pk}/${m.slot}`);
    if (r === undefined) return `no block record at slot ${m.slot}`;
    if (r !== m.root) return `record at slot ${m.slot} has root ${r}, signed ${m.root}`;
  }
  return null;
}
