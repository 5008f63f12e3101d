// Three signer processes on ONE DynamoDB table (driven by slashing_dynamodb.sh).
//
// All three load the same VALIDATORS keys.  Per validator the driver sends
// REQUESTS conflicting requests in groups of three mutually conflicting
// messages, one to each process, written in a random order in one event-loop
// turn:
//   - double vote:   (s, s+1) with three beacon_block_roots;
//   - surround:      (s, s+5), (s+1, s+4), (s+2, s+3) — each pair nested;
//   - double block:  one slot, three body_roots.
// Each group lives in its own epoch window / slot, and WINDOW groups (spread
// over the validators) are in flight at once.  At most one message of a
// group may be signed: a group with two or more 200s is a conflict signed
// twice and fails the test.  Then the EIP-3076 export (a consistent Scan)
// must hold the record of every 200, and never two messages of one group.
// Env: CC_BIN, CC_WORK (config.yaml, keys/), CC_DDB_VALIDATORS [100],
// CC_DDB_REQUESTS [30] per validator, CC_DDB_WINDOW [48] groups in flight.
import http from "node:http";
import { attestation, block, exportRecords, getJson, killAndWait, missingRecord, sign,
  startServer } from "./slashing_msgs.mjs";

const bin = process.env.CC_BIN, work = process.env.CC_WORK;
const config = `${work}/config.yaml`;
const VALIDATORS = Number(process.env.CC_DDB_VALIDATORS || 100);
const REQUESTS = Number(process.env.CC_DDB_REQUESTS || 30);
const WINDOW = Number(process.env.CC_DDB_WINDOW || 48);
const PROCS = 3;
const GROUPS_PER_VALIDATOR = Math.ceil(REQUESTS / PROCS);

let passed = 0, failed = 0;
const ok = (msg) => { passed++; console.log(`ok   ${msg}`); };
const fail = (msg) => { failed++; console.log(`FAIL ${msg}`); };
const SIG = /^0x[0-9a-f]{192}$/;

const servers = [];
try {
  for (let i = 0; i < PROCS; i++) servers.push(await startServer(bin, config, `${work}/server.${i}.log`));
} catch (e) {
  fail(`start ${PROCS} servers on one table: ${e.message}`);
  for (const s of servers) await killAndWait(s.proc, "SIGKILL");
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
ok(`${PROCS} servers on one DynamoDB table (ports ${servers.map((s) => s.port).join(", ")})`);
const keys = (await getJson(servers[0].port, "/api/v1/eth2/publicKeys")).slice(0, VALIDATORS);
if (keys.length !== VALIDATORS) fail(`expected ${VALIDATORS} keys, the server has ${keys.length}`);
const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: WINDOW }));

// Group g: validator g % VALIDATORS, window w = floor(g / VALIDATORS) (so the
// groups in flight at once belong to different validators, and one
// validator's windows are sent in increasing order but may overlap).
function makeGroup(g) {
  const pk = keys[g % keys.length];
  const w = Math.floor(g / keys.length);
  const kind = ["double-vote", "surround", "double-block"][w % 3];
  const s = 1000 + 10 * w;
  let msgs;
  if (kind === "double-vote") msgs = [0, 1, 2].map((k) => attestation(s, s + 1, 0x100 + 3 * g + k));
  else if (kind === "surround") msgs = [0, 1, 2].map((k) => attestation(s + k, s + 5 - k, 1));
  else msgs = [0, 1, 2].map((k) => block(364032 * 32 + 1000 + w, 0x100 + 3 * g + k));
  // A random assignment of the three messages to the three processes.
  for (let i = msgs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [msgs[i], msgs[j]] = [msgs[j], msgs[i]];
  }
  return { g, pk, kind, msgs };
}

const total = GROUPS_PER_VALIDATOR * keys.length;
const results = [], statusCount = {};
const t0 = performance.now();
let next = 0;
async function worker() {
  while (next < total) {
    const grp = makeGroup(next++);
    const order = [0, 1, 2].sort(() => Math.random() - 0.5);
    const out = [null, null, null];
    await Promise.all(order.map((k) => sign(agents[k], servers[k].port, grp.pk, grp.msgs[k].body)
      .then((r) => { out[k] = r; })));
    for (const r of out) statusCount[r.status] = (statusCount[r.status] || 0) + 1;
    results.push({ grp, out });
  }
}
await Promise.all(Array.from({ length: WINDOW }, worker));
const secs = (performance.now() - t0) / 1000;
for (const a of agents) a.destroy();
for (const s of servers) await killAndWait(s.proc, "SIGTERM");

let signed = 0, refused = 0, twice = 0, none = 0;
const twiceList = [], badSig = [];
for (const r of results) {
  const n = r.out.filter((x) => x.status === 200).length;
  signed += n;
  refused += r.out.filter((x) => x.status === 412).length;
  if (n > 1) { twice++; twiceList.push(r); }
  if (n === 0) none++;
  r.out.forEach((x) => {
    if (x.status !== 200) return;
    try { if (!SIG.test(JSON.parse(x.text).signature)) badSig.push(x.text); } catch { badSig.push(x.text); }
  });
}
const requests = results.length * PROCS;
if (twice === 0) ok(`${results.length} groups of ${PROCS} conflicting requests across ${PROCS} processes: never two signed`);
else {
  fail(`${twice} of ${results.length} conflicting groups had more than one message signed`);
  for (const r of twiceList.slice(0, 5))
    console.log(`  group ${r.grp.g} ${r.grp.kind} ${r.grp.pk.slice(0, 14)}: statuses ${r.out.map((x) => x.status)} ` +
      `${JSON.stringify(r.grp.msgs.map((m) => [m.kind, m.source ?? m.slot, m.target ?? "", m.root.slice(0, 10)]))}`);
}
const other = Object.entries(statusCount).filter(([st]) => st !== "200" && st !== "412");
if (other.length === 0) ok(`every one of ${requests} requests answered 200 or 412`);
else fail(`statuses other than 200/412: ${JSON.stringify(statusCount)}`);
if (signed > 0 && badSig.length === 0) ok(`${signed} signatures, all well-formed`);
else fail(`${signed} signed, ${badSig.length} malformed 200s`);

try {
  const rec = exportRecords(bin, config);
  const missing = [];
  for (const r of results)
    r.out.forEach((x, k) => {
      if (x.status !== 200) return;
      const why = missingRecord(rec, r.grp.pk, r.grp.msgs[k]);
      if (why) missing.push(`group ${r.grp.g} (${r.grp.kind}) ${r.grp.pk.slice(0, 12)}: ${why}`);
    });
  if (missing.length === 0) ok(`all ${signed} signatures have their record in the export (${rec.validators} validators)`);
  else fail(`${missing.length} of ${signed} signatures without their record:\n  ${missing.slice(0, 5).join("\n  ")}`);
  const doubled = results.filter((r) => r.grp.msgs.filter((m) => !missingRecord(rec, r.grp.pk, m)).length > 1);
  if (doubled.length === 0) ok("the export never holds two messages of one group");
  else fail(`the export holds two messages of ${doubled.length} groups, e.g. group ${doubled[0].grp.g}`);
} catch (e) { fail(`export: ${e.message}`); }

console.log(`statuses: ${JSON.stringify(statusCount)}; groups with none signed: ${none}`);
console.log(`FIGURES backend=${process.env.CC_DDB_RACE_BACKEND || "dynamodb"} processes=${PROCS} validators=${keys.length} requests=${requests} ` +
  `signed=${signed} refused=${refused} conflicts_signed_twice=${twice} seconds=${secs.toFixed(1)} ` +
  `requests_per_second=${(requests / secs).toFixed(0)} window=${WINDOW}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
