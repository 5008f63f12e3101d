// Crash safety of the anti-slashing guarantee (driven by crash_sigkill.sh).
//
// Each iteration starts the real server on the same SQLite file, drives it with
// many concurrent keep-alive clients (distinct ATTESTATIONs and BLOCK_V2s, with
// ever-increasing epochs and slots), and SIGKILLs it at a random moment 20–400
// ms into the load.  Every 200 a client actually received is kept: pubkey, the
// message (source/target or slot), its signing root (computed here, not by the
// signer) and the signature.  After each kill:
//   - `PRAGMA integrity_check` (and foreign_key_check) on the file is clean;
//   - the EIP-3076 export holds, for every signature received in the
//     iteration, a record with the same pubkey, target and source (or slot)
//     and the same signing root;
//   - at the next start, for a sample of those messages (the last ones
//     received before the kill and a few random ones), a conflicting request
//     (same target, another beacon_block_root; same slot, another body_root)
//     is 412, then the identical request is 200 with the identical signature.
// Env: CC_BIN, CC_WORK (holds config.yaml, keys/, slashing.sqlite),
// CC_CRASH_ITERATIONS [100], CC_CRASH_CLIENTS [48], CC_CRASH_BUDGET_S [170].
import fs from "node:fs";
import http from "node:http";
import { attestation, block, exportRecords, getJson, integrityCheck, killAndWait, missingRecord, sign,
  startServer } from "./slashing_msgs.mjs";

const bin = process.env.CC_BIN, work = process.env.CC_WORK;
const config = `${work}/config.yaml`, db = `${work}/slashing.sqlite`;
const ITERATIONS = Number(process.env.CC_CRASH_ITERATIONS || 100);
const CLIENTS = Number(process.env.CC_CRASH_CLIENTS || 48);
const BUDGET_MS = Number(process.env.CC_CRASH_BUDGET_S || 170) * 1000;
const CONFLICT = 0xbad;

let passed = 0, failed = 0;
const ok = (msg) => { passed++; console.log(`ok   ${msg}`); };
const fail = (msg) => { failed++; console.log(`FAIL ${msg}`); };
const rand = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const SIG = /^0x[0-9a-f]{192}$/;

const figures = { kills: 0, received: 0, recorded: 0, missing: 0, inflightLost: 0, resent: 0, resentOk: 0,
  conflicts: 0, conflictsRefused: 0, integrityOk: 0, unexpected: {}, startMs: [], loadMs: [] };

// Per-key counters only move forward, across iterations: a message whose
// request was in flight at a kill is never reused, signed or not.
const nextTarget = new Map(), nextSlot = new Map();

async function drive(port, pubkeys, killAfterMs, proc) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const received = [];
  let sent = 0, dead = false;
  const t0 = performance.now();
  const killer = new Promise((resolve) => setTimeout(async () => {
    dead = true;
    const at = performance.now() - t0;
    await killAndWait(proc, "SIGKILL");
    resolve(at);
  }, killAfterMs));
  async function client() {
    while (!dead) {
      const pk = pubkeys[rand(0, pubkeys.length - 1)];
      let m;
      if (Math.random() < 0.15) {
        const s = nextSlot.get(pk); nextSlot.set(pk, s + 1);
        m = block(s, 1);
      } else {
        const t = nextTarget.get(pk); nextTarget.set(pk, t + 1);
        m = attestation(t - 1, t, 1);
      }
      sent++;
      const r = await sign(agent, port, pk, m.body);
      if (r.status === 0) return; // the server is gone
      if (r.status === 200) {
        let sig = null;
        try { sig = JSON.parse(r.text).signature; } catch { /* not a complete answer */ }
        if (SIG.test(sig || "")) received.push({ pk, m, sig });
        else figures.unexpected["200-malformed"] = (figures.unexpected["200-malformed"] || 0) + 1;
      } else {
        figures.unexpected[r.status] = (figures.unexpected[r.status] || 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const killedAt = await killer;
  agent.destroy();
  return { received, sent, killedAt };
}

// At a fresh start: the identical request is signed again (same signature), a
// conflicting one is refused.
async function resend(port, sample, label) {
  const agent = new http.Agent({ keepAlive: true });
  for (const { pk, m, sig } of sample) {
    const what = m.kind === "att" ? `attestation ${m.source}->${m.target}` : `block ${m.slot}`;
    // The conflicting one first: were the record lost, the identical re-request would write it again.
    const c = m.kind === "att" ? attestation(m.source, m.target, CONFLICT) : block(m.slot, CONFLICT);
    figures.conflicts++;
    const r = await sign(agent, port, pk, c.body);
    if (r.status === 412) figures.conflictsRefused++;
    else fail(`${label}: conflicting ${what} of ${pk.slice(0, 12)}: status ${r.status} ${(r.text || r.error).slice(0, 160)} (want 412)`);
    figures.resent++;
    const again = await sign(agent, port, pk, m.body);
    let got = null;
    try { got = JSON.parse(again.text).signature; } catch { /* checked below */ }
    if (again.status === 200 && got === sig) figures.resentOk++;
    else fail(`${label}: re-sent ${what} of ${pk.slice(0, 12)}: status ${again.status} ${(again.text || again.error).slice(0, 160)}`);
  }
  agent.destroy();
}

function sampleOf(received) {
  const picked = new Set(received.slice(-4));
  for (let i = 0; i < 4 && received.length; i++) picked.add(received[rand(0, received.length - 1)]);
  const blk = received.filter((x) => x.m.kind === "blk");
  if (blk.length) picked.add(blk[blk.length - 1]);
  return [...picked];
}

const tStart = performance.now();
let pubkeys = null, pending = [];
for (let it = 1; it <= ITERATIONS + 1; it++) {
  const last = it === ITERATIONS + 1; // one more start to re-send the last sample
  if (!last && performance.now() - tStart > BUDGET_MS) {
    fail(`time budget of ${BUDGET_MS / 1000}s spent after ${it - 1} iterations`);
    break;
  }
  const log = `${work}/server.${it}.log`;
  let srv;
  try { srv = await startServer(bin, config, log); }
  catch (e) { fail(`iteration ${it}: restart after a kill: ${e.message}`); break; }
  figures.startMs.push(srv.startMs);
  if (!pubkeys) {
    pubkeys = await getJson(srv.port, "/api/v1/eth2/publicKeys");
    for (const pk of pubkeys) { nextTarget.set(pk, 400000); nextSlot.set(pk, 364032 * 32 + 1000); }
  }
  await resend(srv.port, pending, `iteration ${it}`);
  pending = [];
  if (last) { await killAndWait(srv.proc, "SIGTERM"); break; }

  const killAfter = rand(20, 400);
  const { received, sent, killedAt } = await drive(srv.port, pubkeys, killAfter, srv.proc);
  figures.kills++;
  figures.loadMs.push(killedAt);
  figures.received += received.length;
  figures.inflightLost += sent - received.length;

  const problems = [];
  const integrity = integrityCheck(db);
  if (integrity === "ok") figures.integrityOk++;
  else problems.push(`integrity_check: ${integrity.slice(0, 300)}`);
  let rec = null;
  try { rec = exportRecords(bin, config); } catch (e) { problems.push(e.message); }
  if (rec) {
    for (const { pk, m } of received) {
      const why = missingRecord(rec, pk, m);
      if (why) { figures.missing++; if (problems.length < 5) problems.push(`${pk.slice(0, 12)}: ${why}`); }
      else figures.recorded++;
    }
  }
  pending = sampleOf(received);
  const line = `iteration ${it}: SIGKILL at ${killedAt.toFixed(0)} ms (planned ${killAfter}), ` +
    `${received.length} signatures received of ${sent} sent`;
  if (problems.length === 0) ok(`${line}, all recorded, integrity ok`);
  else { fail(`${line}\n  ${problems.join("\n  ")}`); console.log(`  server log: ${log}`); }
  if (problems.length === 0) fs.rmSync(log, { force: true });
}

const secs = ((performance.now() - tStart) / 1000).toFixed(1);
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? s[s.length >> 1] : 0; };
const allDurable = figures.missing === 0 && figures.received === figures.recorded &&
  figures.resent === figures.resentOk && figures.conflicts === figures.conflictsRefused && figures.kills > 0;
if (figures.kills >= ITERATIONS) ok(`${figures.kills} kills (want >= ${ITERATIONS})`);
else fail(`only ${figures.kills} kills (want >= ${ITERATIONS})`);
if (figures.received > 0) ok(`${figures.received} signatures received under load`);
else fail("no signature received under load: the load never reached the signer");
const bad412 = figures.unexpected[412] || 0;
if (bad412 === 0) ok("no 412 for fresh, non-conflicting messages under load");
else fail(`${bad412} fresh, non-conflicting messages refused with 412`);
console.log(`unexpected statuses under load: ${JSON.stringify(figures.unexpected)}`);
console.log(`median start ${med(figures.startMs).toFixed(0)} ms, median load before kill ` +
  `${med(figures.loadMs).toFixed(0)} ms, ${secs} s in all`);
console.log(`FIGURES kills=${figures.kills} signatures_received=${figures.received} ` +
  `recorded=${figures.recorded} missing=${figures.missing} in_flight_unanswered=${figures.inflightLost} ` +
  `integrity_ok=${figures.integrityOk}/${figures.kills} resent_identical_200=${figures.resentOk}/${figures.resent} ` +
  `resent_conflicting_412=${figures.conflictsRefused}/${figures.conflicts} all_durable=${allDurable ? "yes" : "no"} ` +
  `seconds=${secs}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
