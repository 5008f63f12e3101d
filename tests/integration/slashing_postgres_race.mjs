// Three signer processes on ONE PostgreSQL database (driven by slashing_postgres.sh).
//
// All three load the same 100 keys.  For every validator the driver sends
// CC_PG_REQUESTS (default 1,000) requests in conflicting groups, a cycle of
// four groups of ten requests:
//   - triple vote:   (s, s+1) three times, three beacon_block_roots;
//   - surround:      (s, s+5) and (s+1, s+4);
//   - triple block:  one slot, three body_roots;
//   - double vote:   (s, s+1) twice.
// Each group lives in its own epoch window / slot, so groups never conflict
// with each other: at most one request of a group may be signed (and, with no
// database errors, exactly one).  The members of a group go to different
// processes, written in the same event-loop turn; CC_PG_WINDOW groups are in
// flight at once, validators interleaved.  Afterwards the EIP-3076 export must
// hold a record (pubkey, epochs or slot, signing root computed here) for every
// 200.  Prints "FIGURES backend=postgres processes=3 ..." and "N passed, N failed".
// Env: CC_BIN, CC_WORK (config.yaml, keys/), CC_PG_VALIDATORS [100],
// CC_PG_REQUESTS [1000] per validator (a multiple of 10), CC_PG_WINDOW [48].
import { execSync } from "node:child_process";
import http from "node:http";
import { attestation, block, exportRecords, getJson, killAndWait, missingRecord, sign, startServer }
  from "./slashing_msgs.mjs";

const bin = process.env.CC_BIN, work = process.env.CC_WORK;
const config = `${work}/config.yaml`;
const VALIDATORS = Number(process.env.CC_PG_VALIDATORS || 100);
const PER_VALIDATOR = Number(process.env.CC_PG_REQUESTS || 1000);
const WINDOW = Number(process.env.CC_PG_WINDOW || 48);
const PROCS = 3;
const CYCLES = Math.floor(PER_VALIDATOR / 10);
const GROUPS_PER_VALIDATOR = CYCLES * 4;

let passed = 0, failed = 0;
const ok = (msg) => { passed++; console.log(`ok   ${msg}`); };
const fail = (msg) => { failed++; console.log(`FAIL ${msg}`); };
const SIG = /^0x[0-9a-f]{192}$/;

const servers = [];
try {
  for (let i = 0; i < PROCS; i++) servers.push(await startServer(bin, config, `${work}/server.${i}.log`));
} catch (e) {
  fail(`start ${PROCS} servers on one database: ${e.message}`);
  for (const s of servers) await killAndWait(s.proc, "SIGKILL");
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
ok(`${PROCS} servers on one PostgreSQL database (ports ${servers.map((s) => s.port).join(", ")})`);
// Control runs only (slashing_postgres.sh CC_PG_MUTATE_NOLOCK=1): a command run once the servers are up.
if (process.env.CC_PG_AFTER_START) execSync(process.env.CC_PG_AFTER_START, { stdio: "inherit" });
const keys = (await getJson(servers[0].port, "/api/v1/eth2/publicKeys")).slice(0, VALIDATORS);
if (keys.length !== VALIDATORS) {
  fail(`expected ${VALIDATORS} keys, the server serves ${keys.length}`);
  for (const s of servers) await killAndWait(s.proc, "SIGTERM");
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: WINDOW }));

// Group i: validator i % V, its g-th group (g = floor(i / V)), kind by g % 4.
function makeGroup(i) {
  const v = i % VALIDATORS, g = Math.floor(i / VALIDATORS);
  const pk = keys[v];
  const kind = ["triple-vote", "surround", "triple-block", "double-vote"][g % 4];
  const s = 1000 + 10 * g, slot = 364032 * 32 + 1000 + g;
  let msgs;
  if (kind === "triple-vote") msgs = [1, 2, 3].map((k) => attestation(s, s + 1, 0x1000 * k + g));
  else if (kind === "double-vote") msgs = [1, 2].map((k) => attestation(s, s + 1, 0x1000 * k + g));
  else if (kind === "surround") msgs = [attestation(s, s + 5, 1), attestation(s + 1, s + 4, 1)];
  else msgs = [1, 2, 3].map((k) => block(slot, 0x1000 * k + g));
  // members to distinct processes, in a random assignment
  const procs = [0, 1, 2].sort(() => Math.random() - 0.5).slice(0, msgs.length);
  return { i, v, pk, kind, msgs, procs };
}

const TOTAL_GROUPS = VALIDATORS * GROUPS_PER_VALIDATOR;
const results = [];
const statusCount = {};
let requests = 0;
const t0 = performance.now();
let next = 0;
async function worker() {
  while (next < TOTAL_GROUPS) {
    const grp = makeGroup(next++);
    const out = new Array(grp.msgs.length);
    await Promise.all(grp.msgs.map((m, k) => sign(agents[grp.procs[k]], servers[grp.procs[k]].port, grp.pk, m.body)
      .then((r) => { out[k] = r; })));
    for (const r of out) statusCount[r.status] = (statusCount[r.status] || 0) + 1;
    requests += out.length;
    results.push({ grp, out });
  }
}
await Promise.all(Array.from({ length: WINDOW }, worker));
const secs = (performance.now() - t0) / 1000;
for (const a of agents) a.destroy();
for (const s of servers) await killAndWait(s.proc, "SIGTERM");

let signed = 0, refused = 0, twice = 0, none = 0, malformed = 0;
const byKind = {}, twiceList = [];
for (const r of results) {
  const n = r.out.filter((x) => x.status === 200).length;
  signed += n;
  refused += r.out.filter((x) => x.status === 412).length;
  for (const x of r.out)
    if (x.status === 200) {
      let sig = null;
      try { sig = JSON.parse(x.text).signature; } catch { /* counted below */ }
      if (!SIG.test(sig || "")) malformed++;
    }
  const k = (byKind[r.grp.kind] ||= { groups: 0, one: 0, none: 0, more: 0 });
  k.groups++;
  if (n > 1) { twice++; k.more++; twiceList.push(r); }
  else if (n === 1) k.one++;
  else { none++; k.none++; }
}
if (requests === VALIDATORS * PER_VALIDATOR) ok(`${requests} requests sent (${VALIDATORS} validators x ${PER_VALIDATOR})`);
else fail(`${requests} requests sent, expected ${VALIDATORS * PER_VALIDATOR}`);
if (twice === 0) ok(`${results.length} conflicting groups across ${PROCS} processes: never more than one signed`);
else {
  fail(`${twice} of ${results.length} conflicting groups had more than one request signed`);
  for (const r of twiceList.slice(0, 5))
    console.log(`  group ${r.grp.i} ${r.grp.kind} ${r.grp.pk}: ${JSON.stringify(r.out.map((x) => x.status))}`);
}
const other = Object.entries(statusCount).filter(([st]) => st !== "200" && st !== "412");
if (none === 0 && other.length === 0 && malformed === 0)
  ok(`each group had exactly one request signed, the others refused with 412`);
else fail(`${none} groups with nothing signed, ${malformed} malformed 200s; statuses ${JSON.stringify(statusCount)}`);

try {
  const rec = exportRecords(bin, config);
  const missing = [];
  for (const r of results)
    r.out.forEach((x, k) => {
      if (x.status !== 200) return;
      const why = missingRecord(rec, r.grp.pk, r.grp.msgs[k]);
      if (why) missing.push(`group ${r.grp.i} (${r.grp.kind}) ${r.grp.pk.slice(0, 12)}: ${why}`);
    });
  if (missing.length === 0) ok(`all ${signed} signatures have their record in the export (${rec.validators} validators)`);
  else fail(`${missing.length} of ${signed} signatures without their record:\n  ${missing.slice(0, 5).join("\n  ")}`);
} catch (e) { fail(`export: ${e.message}`); }

console.log(`by kind: ${JSON.stringify(byKind)}`);
console.log(`statuses: ${JSON.stringify(statusCount)}`);
console.log(`FIGURES backend=${process.env.CC_PG_RACE_BACKEND || "postgres"} processes=${PROCS} validators=${VALIDATORS} requests=${requests} ` +
  `groups=${results.length} signed=${signed} refused=${refused} conflicts_signed_twice=${twice} ` +
  `none_signed=${none} window=${WINDOW} seconds=${secs.toFixed(1)} rps=${(requests / secs).toFixed(0)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
