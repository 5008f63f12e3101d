// Driver of chamber_rotate_mode_quorum.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS; AWS_* set.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer } from "./slashing_msgs.mjs";

import {
  require, kms, blst, bin, work, ddbUrl, kmsUrl, NKEYS, ARGON2, passed, failed, ok, bad, expect, sleep, client, config, run, servers, start, stop, logText, api, status, waitFor, ddb, stateItem, itemOps, agent, epoch, signCheck, allSign, loadGen, op, register, submit, PASS, nextLogPath,
} from "../support/rotate_quorum_env.mjs";
// Key items' master_version by pubkey.
async function keyVers(table) {
  const out = {};
  const sc = await ddb("Scan", { TableName: table, ConsistentRead: true });
  for (const i of sc.Items || []) if (i.master_version) out[i.pk.S] = Number(i.master_version.N);
  return out;
}
// A signer with the test-only delay before each re-seal (so a SIGKILL lands inside the re-seal).
async function startSlow(cfg, ms = 500) {
  const log = nextLogPath();
  const n = await startServer(bin, cfg, log, [`--signer_state.rotation_test_delay_ms=${ms}`]);
  n.log = log; n.url = `http://127.0.0.1:${n.port}`;
  servers.add(n);
  return n;
}
const secrets = [...Object.values(PASS)];


try {
  const cfg = config("cc-state", "cc-keys");
  const ct = await run(["dynamodb", "create-tables", "-c", cfg]);
  if (ct.code !== 0) throw new Error(`create-tables: ${ct.out} ${ct.err}`);
  const arns = [];
  for (let i = 0; i < 3; i++) arns.push((await client.send(new kms.CreateKeyCommand({ Description: `mq ${i}` }))).KeyMetadata.Arn);

  // ---- set-up: KMS-only 2-of-3, 12 keys in the DynamoDB key table, two replicas a and b
  let a = await startSlow(cfg);
  const setup = await waitFor(() => (logText(a).match(/cc-setup-[0-9a-f]{32}/) || [])[0]);
  let r = await api(a, "POST", "/api/v1/chamber/init", { setup_token: setup, kms_key_arns: arns, kms_threshold: 2 });
  expect(r.status === 200 && r.json.state === "unsealed" && r.json.mode === "kms", "KMS-only chamber 2-of-3 initialised → unsealed", r.text);
  r = await api(a, "POST", "/api/v1/chamber/keys/generate", { count: NKEYS });
  const pks = r.status === 200 ? r.json.keys.map((k) => k.pubkey) : [];
  expect(pks.length === NKEYS, `${NKEYS} keys generated into the key table`, r.text);
  let b = await startSlow(cfg);
  let st = await waitFor(async () => { const y = await status(b); return y.state === "unsealed" ? y : null; });
  let left = [...await allSign(a, pks), ...await allSign(b, pks)];
  expect(st && left.length === 0, "replica b unseals with KMS; every key signs on a and b", left.join(","));
  const item0 = await stateItem();

  // ---- argument errors name the field; nothing changes
  r = await api(a, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum" });
  expect(r.status === 400 && /operators/.test(r.text), "rotate mode to quorum without operators → 400 naming operators", r.text);
  r = await api(a, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum", operators: ["dave", "erin"], operator_threshold: 3 });
  expect(r.status === 400 && /operator_threshold/.test(r.text), "… threshold above the operator count → 400 naming operator_threshold", r.text);
  r = await api(a, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum", operators: ["dave", "dave"], operator_threshold: 1, argon2: ARGON2 });
  expect(r.status === 400 && /operators\[1\]/.test(r.text), "… a name listed twice → 400 naming operators[1]", r.text);
  r = await api(a, "POST", "/api/v1/chamber/rotate/mode", { to: "sideways" });
  expect(r.status === 400 && /to/.test(r.text), "rotate mode to an unknown mode → 400 naming to", r.text);
  r = await op(a, ["rotate", "mode", "--to", "quorum"]);
  expect(r.code === 2 && /--operators/.test(r.err), "CLI rotate mode --to quorum without --operators → usage error", r.err);

  // ---- an aborted rotation (before the pending write) leaves nothing: gina registers, the replica dies
  r = await api(a, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum", operators: ["gina", "hank"], operator_threshold: 2, argon2: ARGON2 });
  const abortToks = r.json?.registration_tokens || {};
  secrets.push(...Object.values(abortToks));
  expect(r.status === 200 && /^cc-reg-[0-9a-f]{64}$/.test(abortToks.gina || "") && r.json.state === "awaiting_rotation" &&
    r.json.rotation?.quorum?.to_mode === "quorum", "rotate mode --to quorum (gina, hank) → 200 + tokens, awaiting_rotation", r.text);
  r = await register(a, abortToks.gina, PASS.gina);
  let it = await stateItem();
  expect(r.status === 200 && !it.pending && it.mode?.S === "kms" && it.revision?.N === item0.revision?.N,
    "gina registered: nothing written (no pending, mode kms, same revision)", r.text);
  r = await api(a, "POST", "/api/v1/chamber/rotate/quorum", { operators: ["x1"], operator_threshold: 1 });
  const rm = await api(a, "POST", "/api/v1/chamber/rotate/master", {});
  const rk = await api(a, "POST", "/api/v1/chamber/rotate/kms", { kms_key_arns: arns, kms_threshold: 2 });
  expect(r.status === 409 && rm.status === 409 && rk.status === 409 && !(await stateItem()).pending,
    "rotate quorum / master / kms while a rotation to quorum awaits registration → 409, nothing written", `${r.text} ${rm.text} ${rk.text}`);
  await stop(a);
  a = await startSlow(cfg);
  st = await waitFor(async () => { const y = await status(a); return y.state === "unsealed" ? y : null; });
  r = await register(a, abortToks.hank, "hank: aborted passphrase");
  it = await stateItem();
  left = await allSign(a, pks); // also waits for the key source's first load after the restart
  expect(st && st.mode === "kms" && r.status >= 400 && !it.pending && it.mode?.S === "kms" && it.version?.N === "1" && left.length === 0,
    "SIGKILL before the last registration: the table is untouched, a restart unseals with KMS and signs, the tokens are void", r.text);

  // ---- the rotation under load on both replicas
  let loadA = loadGen(a, pks);
  let loadB = loadGen(b, pks, 2);
  await sleep(1000);
  r = await op(a, ["rotate", "mode", "--to", "quorum", "--operators", "dave,erin,frank", "--operator-threshold", "2",
    "--argon2-iterations", "1", "--argon2-memory-kib", "8192", "--argon2-parallelism", "1"]);
  let out = r.code === 0 ? JSON.parse(r.out) : {};
  const toks = out.registration_tokens || {};
  secrets.push(...Object.values(toks));
  expect(r.code === 0 && ["dave", "erin", "frank"].every((n) => /^cc-reg-[0-9a-f]{64}$/.test(toks[n] || "")) &&
    out.state === "awaiting_rotation", "operator rotate mode --to quorum --operators dave,erin,frank --operator-threshold 2 → tokens", r.out + r.err);
  r = await register(a, toks.dave, PASS.dave);
  const r2 = await register(a, toks.dave, PASS.dave);
  const r3 = await register(b, toks.erin, PASS.erin);
  expect(r.status === 200 && r2.status === 409 && r3.status >= 400, "dave registers; his token is single-use (409); b does not know the rotation's tokens",
    `${r.status} ${r2.status} ${r3.status}`);
  r = await register(a, toks.erin, PASS.erin);
  it = await stateItem();
  expect(r.status === 200 && !it.pending && it.mode?.S === "kms" && it.version?.N === "1" && Object.values(await keyVers("cc-keys")).every((v) => v === 1),
    "two of three registered: still nothing written, every key at version 1", JSON.stringify(Object.keys(it)));
  r = await register(a, toks.frank, PASS.frank);
  it = await waitFor(async () => { const y = await stateItem(); return y.pending ? y : null; }, 10000) || {};
  const pm = it.pending?.M || {};
  expect(r.status === 200 && it.mode?.S === "kms" && pm.to_mode?.S === "quorum" && pm.version?.N === "2" && pm.next_wrapped?.B &&
    (pm.quorum?.M?.q_operators?.L || []).map((o) => o.M.name.S).join(",") === "dave,erin,frank" && pm.quorum.M.q_complete?.BOOL === true,
    "the last registration writes the pending entry: to_mode quorum, version 2, next_wrapped, the new operator set", JSON.stringify(pm).slice(0, 400));
  // replica b holds version 2 from next_wrapped (no KMS, no operators) before the first key moves
  const bLog = await waitFor(() => /holding the new master key/.test(logText(b)), 10000);
  expect(bLog, "replica b follows the pending entry (holds the new master from next_wrapped)", logText(b).slice(-600));
  // a key generated on a now is sealed under version 2: b must open it (it only can through next_wrapped)
  r = await api(a, "POST", "/api/v1/chamber/keys/generate", { count: 1 });
  const newPk = r.status === 200 ? r.json.keys[0].pubkey : "";
  await sleep(300);
  const nv = (await keyVers("cc-keys"))[newPk];
  left = newPk ? await allSign(b, [newPk], 15000) : ["none"];
  expect(nv === 2 && !!(await stateItem()).pending && left.length === 0,
    "a key generated during the pending phase is sealed under version 2 and signs on replica b", `${r.text.slice(0, 200)} v=${nv}`);
  if (newPk) pks.push(newPk);

  // SIGKILL the driver (a) in the middle of the re-seal
  const inReseal = await waitFor(async () => { const y = await status(a); return y.rotation?.phase === "reseal" && y.rotation.keys_done >= 3 ? y : null; }, 30000);
  loadA = await loadA.finish();
  await stop(a);
  let vers = await keyVers("cc-keys");
  it = await stateItem();
  expect(inReseal && it.pending && Object.values(vers).some((v) => v === 2) && Object.values(vers).some((v) => v === 1),
    `SIGKILL of the driver during the re-seal (${Object.values(vers).join("")}): pending kept, keys at both versions`, JSON.stringify(inReseal?.rotation));
  expect(loadA.total > 50 && !loadA.failed, `replica a until the kill: ${loadA.total} signing requests, ${loadA.failed || 0} failed`, loadA.failures.join(" | "));
  a = await startSlow(cfg);
  st = await waitFor(async () => { const y = await status(a); return y.state === "unsealed" || y.state === "awaiting_rotation" ? y : null; });
  const stillPending = !!(await stateItem()).pending;
  left = await allSign(a, pks);
  expect(st && st.mode === "kms" && stillPending && left.length === 0,
    "restart mid-rotation: KMS unseals master 1, next_wrapped gives 2, every key (both versions) signs", `${JSON.stringify(st)} ${left.join(",")}`);
  loadA = loadGen(a, pks);
  const fin = await waitFor(async () => { const y = await status(a); return y.mode === "quorum" && !y.rotation?.running && !y.rotation?.pending_version ? y : null; }, 90000);
  expect(fin && fin.version === 2 && (fin.state === "unsealed"), "the restarted replica resumes the rotation and promotes it: mode quorum, version 2, unsealed",
    JSON.stringify(fin || await status(a)).slice(0, 600));
  await sleep(1500);
  loadA = await loadA.finish();
  loadB = await loadB.finish();
  expect(loadA.total > 50 && !loadA.failed, `replica a after its restart, through the promotion: ${loadA.total} requests, ${loadA.failed || 0} failed`, loadA.failures.join(" | "));
  expect(loadB.total > 50 && !loadB.failed, `replica b through the whole rotation: ${loadB.total} requests, ${loadB.failed || 0} failed`, loadB.failures.join(" | "));
  st = await waitFor(async () => { const y = await status(b); return y.mode === "quorum" ? y : null; });
  left = await allSign(b, pks);
  expect(st && st.state === "unsealed" && left.length === 0, "replica b: mode quorum, still unsealed, every key signs", JSON.stringify(st));
  it = await stateItem();
  vers = await keyVers("cc-keys");
  expect(it.mode?.S === "quorum" && it.version?.N === "2" && !it.pending && !JSON.stringify(it).includes("next_wrapped") &&
    itemOps(it) === "dave,erin,frank" && it.q_complete?.BOOL === true && it.q_threshold?.N === "2" &&
    Object.keys(vers).length === NKEYS + 1 && Object.values(vers).every((v) => v === 2),
    "after the promotion: mode quorum, version 2, operators dave,erin,frank (2-of-3), no pending / next_wrapped, every key item at version 2",
    JSON.stringify(Object.keys(it)) + JSON.stringify(vers));

  // ---- restart: KMS alone no longer unseals; two of the NEW operators do
  await stop(b);
  await stop(a);
  a = await start(cfg);
  st = await waitFor(async () => { const y = await status(a); return y.state === "kms_unsealed" ? y : null; });
  let sg = await signCheck(a, pks[0]);
  expect(st && st.mode === "quorum" && sg.status === 503, "restart → kms_unsealed (KMS unwraps kms_part only); signing 503", `${JSON.stringify(st)} ${sg.status}`);
  r = await api(a, "POST", "/api/v1/chamber/unseal");
  await sleep(1500);
  sg = await signCheck(a, pks[1]);
  expect((await status(a)).state === "kms_unsealed" && sg.status === 503, "the KMS-only unseal (no operator) does not unseal any more", `${r.status} ${r.text}`.slice(0, 300));
  r = await submit(a, "gina", PASS.gina);
  expect(r.status === 404 || r.status === 403, "gina (the aborted rotation) is not an operator", `${r.status} ${r.text}`);
  r = await submit(a, "dave", PASS.dave);
  sg = await signCheck(a, pks[2]);
  expect(r.status === 200 && (await status(a)).state === "kms_unsealed" && sg.status === 503, "one operator (dave) is not enough: still 503", r.text);
  r = await submit(a, "erin", "erin: wrong passphrase!!");
  expect(r.status === 403, "a wrong passphrase for erin → 403", r.text);
  r = await submit(a, "erin", PASS.erin);
  left = await allSign(a, pks);
  expect(r.status === 200 && r.json?.state === "unsealed" && left.length === 0, "dave + erin unseal; every key signs", `${r.text} ${left.join(",")}`);
  b = await start(cfg);
  st = await waitFor(async () => { const y = await status(b); return y.state === "kms_unsealed" ? y : null; });
  await submit(b, "erin", PASS.erin);
  r = await submit(b, "frank", PASS.frank);
  left = await allSign(b, pks);
  expect(st && r.json?.state === "unsealed" && left.length === 0, "replica b restarted: kms_unsealed, erin + frank unseal, every key signs", r.text);
  r = await api(a, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum", operators: ["x1"], operator_threshold: 1 });
  expect(r.status === 409 && /mode/.test(r.text), "rotate mode --to quorum on a quorum chamber → 409 naming the mode", r.text);

  // ---- no secret in the logs or the table
  const logs = fs.readdirSync(work).filter((f) => f.startsWith("server.")).map((f) => fs.readFileSync(`${work}/${f}`, "utf8")).join("\n");
  const table = JSON.stringify(await stateItem());
  const leaked = secrets.filter((v) => v && (logs.includes(v) || table.includes(v)));
  expect(secrets.length >= 10 && leaked.length === 0, `no passphrase or registration token in the logs or the table (${secrets.length} checked)`,
    leaked.map((v) => v.slice(0, 10)).join(","));
} catch (e) {
  bad(`driver error: ${e.stack || e}`);
} finally {
  for (const s of [...servers]) await stop(s);
  agent.destroy();
  if (process.env.CC_KEEP_LOGS)
    for (const f of fs.readdirSync(work).filter((n) => n.startsWith("server."))) fs.copyFileSync(`${work}/${f}`, `${process.env.CC_KEEP_LOGS}/${f}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
