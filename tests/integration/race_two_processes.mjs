// Two signer processes on ONE SQLite file (driven by race_two_processes.sh).
//
// Both processes load the same keys.  The driver sends 1,000 conflicting
// pairs for a handful of validators; the two halves of a pair go one to each
// process in the same event-loop turn (which half goes where, and which is
// written first, is random), with a window of pairs in flight at once:
//   - double vote:   (s, t) twice, two beacon_block_roots;
//   - surround:      (s, s+5) and (s+1, s+4);
//   - double block:  one slot, two body_roots.
// Every pair lives in its own epoch window / slot, so pairs never conflict
// with each other: at most one half of each pair may be signed, and in a run
// without database errors exactly one.  Then 300 more pairs, during which
// process a is SIGKILLed: b must keep answering (200 or 412), and still no
// pair may be signed twice.  Afterwards the file must pass integrity_check and
// the EIP-3076 export must hold a record (same pubkey, epochs or slot, and
// signing root, computed here) for every 200 of either process.
// Env: CC_BIN, CC_WORK (config.yaml, keys/), CC_RACE_PAIRS [1000],
// CC_RACE_WINDOW [16] pairs in flight.
import http from "node:http";
import { attestation, block, exportRecords, getJson, integrityCheck, killAndWait, missingRecord, sign,
  startServer } from "./slashing_msgs.mjs";

const bin = process.env.CC_BIN, work = process.env.CC_WORK;
const config = `${work}/config.yaml`, db = `${work}/slashing.sqlite`;
const PAIRS = Number(process.env.CC_RACE_PAIRS || 1000);
const WINDOW = Number(process.env.CC_RACE_WINDOW || 16);
const VALIDATORS = 4;

let passed = 0, failed = 0;
const ok = (msg) => { passed++; console.log(`ok   ${msg}`); };
const fail = (msg) => { failed++; console.log(`FAIL ${msg}`); };
const SIG = /^0x[0-9a-f]{192}$/;

const servers = [];
try {
  servers.push(await startServer(bin, config, `${work}/server.a.log`));
  servers.push(await startServer(bin, config, `${work}/server.b.log`));
} catch (e) {
  fail(`start two servers on one database: ${e.message}`);
  for (const s of servers) await killAndWait(s.proc, "SIGKILL");
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
ok(`two servers on one SQLite file (ports ${servers[0].port}, ${servers[1].port})`);
const keys = (await getJson(servers[0].port, "/api/v1/eth2/publicKeys")).slice(0, VALIDATORS);
const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: WINDOW }));

// Pair i: validator i % VALIDATORS, its own window.
function makePair(i) {
  const pk = keys[i % VALIDATORS];
  const w = Math.floor(i / VALIDATORS);
  const kind = ["double-vote", "double-vote", "double-vote", "surround", "double-block"][i % 5];
  const s = 1000 + 10 * w;
  let a, b;
  if (kind === "double-vote") { a = attestation(s, s + 1, 0x100 + i); b = attestation(s, s + 1, 0x200 + i); }
  else if (kind === "surround") { a = attestation(s, s + 5, 1); b = attestation(s + 1, s + 4, 1); }
  else { a = block(364032 * 32 + 1000 + w, 0x100 + i); b = block(364032 * 32 + 1000 + w, 0x200 + i); }
  return { i, pk, kind, msgs: Math.random() < 0.5 ? [a, b] : [b, a] };
}

const results = []; // phase 1, per pair: {p, out: [answer of process a, of b], sigs}
const statusCount = {};
const sigOf = (r) => {
  if (r.status !== 200) return null;
  try { const x = JSON.parse(r.text).signature; return SIG.test(x) ? x : null; } catch { return null; }
};
// Sends pairs [from, to) with WINDOW pairs in flight; msgs[k] goes to process k,
// the two written in a random order in one event-loop turn.
async function race(from, to, into, counts, onPair = () => {}) {
  let next = from;
  async function worker() {
    while (next < to) {
      const p = makePair(next++);
      const order = Math.random() < 0.5 ? [0, 1] : [1, 0];
      const out = [null, null];
      await Promise.all(order.map((k) => sign(agents[k], servers[k].port, p.pk, p.msgs[k].body)
        .then((r) => { out[k] = r; })));
      for (const r of out) counts[r.status] = (counts[r.status] || 0) + 1;
      into.push({ p, out, sigs: out.map(sigOf) });
      onPair(into.length);
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, worker));
}
const t0 = performance.now();
await race(0, PAIRS, results, statusCount);
const secs = ((performance.now() - t0) / 1000).toFixed(1);

// Phase 2: process a is SIGKILLed in the middle of the race (possibly inside
// its write transaction, holding the lock).  Process b must go on answering
// (200 or 412, never an error: SQLite's locks die with their process), no pair
// may be signed twice, and every 200 — including a's last ones — is recorded.
const KILL_PAIRS = 300;
const killed = [], killCounts = {};
// The kill comes after a random number of answered pairs (not a delay), so it
// lands mid-race on a machine of any speed, with pairs in flight on both sides.
const killAt = 30 + Math.floor(Math.random() * 120);
let killer = null;
await race(PAIRS, PAIRS + KILL_PAIRS, killed, killCounts, (n) => {
  if (n === killAt) killer = killAndWait(servers[0].proc, "SIGKILL");
});
await killer;
const afterKill = killed.filter((r) => r.out[0].status === 0);
const survivorBad = afterKill.filter((r) => r.out[1].status !== 200 && r.out[1].status !== 412);
if (afterKill.length > 0 && survivorBad.length === 0)
  ok(`process a SIGKILLed after ${killAt} of ${KILL_PAIRS} more pairs: b answered all ${afterKill.length} pairs ` +
    "a no longer could (200 or 412)");
else if (afterKill.length === 0) fail("the kill landed after the last pair: no pair raced a dead process");
else fail(`after process a was killed, b answered ${survivorBad.length} of ${afterKill.length} with an error: ` +
  `${JSON.stringify(survivorBad.slice(0, 3).map((r) => r.out[1]))}`);
for (const a of agents) a.destroy();
for (const s of servers) await killAndWait(s.proc, "SIGTERM");

function tally(list) {
  const f = { pairs: list.length, one: 0, none: 0, both: 0, wonBy: [0, 0], byKind: {}, bothList: [] };
  for (const r of list) {
    const n = r.out.filter((x) => x.status === 200).length;
    const k = (f.byKind[r.p.kind] ||= { pairs: 0, one: 0, none: 0, both: 0 });
    k.pairs++;
    if (n === 2) { f.both++; k.both++; f.bothList.push(r); }
    else if (n === 1) { f.one++; k.one++; f.wonBy[r.out[0].status === 200 ? 0 : 1]++; }
    else { f.none++; k.none++; }
  }
  return f;
}
const fig = tally(results), figKill = tally(killed);
for (const [name, f] of [["", fig], [" (process a killed midway)", figKill]]) {
  if (f.both === 0) ok(`${f.pairs} conflicting pairs across two processes${name}: never both signed`);
  else {
    fail(`${f.both} of ${f.pairs} conflicting pairs${name} were signed by both processes`);
    for (const r of f.bothList.slice(0, 5))
      console.log(`  pair ${r.p.i} ${r.p.kind} ${r.p.pk}: ${JSON.stringify(r.p.msgs.map((m) => m.body))}`);
  }
}
// With both processes up, a refusal is a 412; anything else (a database error,
// a 503) leaves a pair unsigned: safe, but not right.
const other = Object.entries(statusCount).filter(([st]) => st !== "200" && st !== "412");
if (fig.none === 0 && other.length === 0) ok(`each of the ${fig.pairs} pairs had exactly one half signed, the other refused with 412`);
else fail(`${fig.none} pairs with no half signed; statuses ${JSON.stringify(statusCount)}`);

const integrity = integrityCheck(db);
if (integrity === "ok") ok("integrity_check ok after the race");
else fail(`integrity_check: ${integrity.slice(0, 300)}`);
try {
  const rec = exportRecords(bin, config);
  let signed = 0;
  const missing = [];
  for (const r of results.concat(killed))
    r.out.forEach((x, k) => {
      if (x.status !== 200) return;
      signed++;
      if (!r.sigs[k]) missing.push(`pair ${r.p.i}: malformed 200 ${x.text}`);
      const why = missingRecord(rec, r.p.pk, r.p.msgs[k]);
      if (why) missing.push(`pair ${r.p.i} (${r.p.kind}) ${r.p.pk.slice(0, 12)}: ${why}`);
    });
  if (missing.length === 0) ok(`all ${signed} signatures have their record in the export`);
  else fail(`${missing.length} of ${signed} signatures without their record:\n  ${missing.slice(0, 5).join("\n  ")}`);
  // In the database too (it also holds what process a committed but could not answer): never both halves.
  const doubled = results.concat(killed).filter((r) => r.p.msgs.every((m) => !missingRecord(rec, r.p.pk, m)));
  if (doubled.length === 0) ok("the export never holds both halves of a pair");
  else fail(`the export holds both halves of ${doubled.length} pairs, e.g. pair ${doubled[0].p.i} (${doubled[0].p.kind})`);
} catch (e) { fail(`export: ${e.message}`); }

console.log(`by kind: ${JSON.stringify(fig.byKind)}`);
console.log(`statuses: ${JSON.stringify(statusCount)}; with process a killed midway: ${JSON.stringify(killCounts)}`);
console.log(`FIGURES pairs=${fig.pairs} one_signed=${fig.one} none_signed=${fig.none} both_signed=${fig.both} ` +
  `won_by_process_a=${fig.wonBy[0]} won_by_process_b=${fig.wonBy[1]} validators=${VALIDATORS} window=${WINDOW} ` +
  `seconds=${secs}`);
console.log(`FIGURES kill_midway pairs=${figKill.pairs} one_signed=${figKill.one} none_signed=${figKill.none} ` +
  `both_signed=${figKill.both} answered_by_survivor_alone=${afterKill.length} killed_after_pairs=${killAt}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
