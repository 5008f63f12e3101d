// Driver of chamber_rotate_quorum.sh (see there).  Env: CC_BIN, CC_WORK, CC_TOOLS, CC_DDB, CC_KMS; AWS_* set.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { attestation, killAndWait, sign, startServer } from "./slashing_msgs.mjs";

import {
  require, kms, blst, bin, work, ddbUrl, kmsUrl, NKEYS, ARGON2, passed, failed, ok, bad, expect, sleep, client, config, run, servers, start, stop, logText, api, status, waitFor, ddb, stateItem, itemOps, agent, epoch, signCheck, allSign, loadGen, op, register, submit, PASS, nextLogPath,
} from "../support/rotate_quorum_env.mjs";
const secrets = [...Object.values(PASS)];

// A restart of a quorum chamber: kms_unsealed by itself.
async function restart(s, cfg, sig = "SIGKILL") {
  await stop(s, sig);
  const n = await start(cfg);
  const st = await waitFor(async () => { const x = await status(n); return x.state === "kms_unsealed" ? x : null; });
  return { s: n, kmsUnsealed: !!st };
}

try {
  const cfg = config("cc-state", "cc-keys");
  const ct = await run(["dynamodb", "create-tables", "-c", cfg]);
  if (ct.code !== 0) throw new Error(`create-tables: ${ct.out} ${ct.err}`);
  const arns = [];
  for (let i = 0; i < 3; i++) arns.push((await client.send(new kms.CreateKeyCommand({ Description: `rq ${i}` }))).KeyMetadata.Arn);

  // ---- set-up: 2-of-3 KMS + 2-of-3 operators (alice, bob, carol), 12 keys in the key table
  let s = await start(cfg);
  const setup = await waitFor(() => (logText(s).match(/cc-setup-[0-9a-f]{32}/) || [])[0]);
  let r = await api(s, "POST", "/api/v1/chamber/init", { setup_token: setup, kms_key_arns: arns, kms_threshold: 2,
    operators: ["alice", "bob", "carol"], operator_threshold: 2, argon2: ARGON2 });
  const oldToks = r.json?.registration_tokens || {};
  secrets.push(...Object.values(oldToks));
  for (const n of ["alice", "bob", "carol"]) r = await register(s, oldToks[n], PASS[n]);
  expect(r.status === 200 && r.json.state === "unsealed", "quorum chamber 2-of-3 KMS + 2-of-3 operators, all registered → unsealed", r.text);
  r = await api(s, "POST", "/api/v1/chamber/keys/generate", { count: NKEYS });
  const pks = r.status === 200 ? r.json.keys.map((k) => k.pubkey) : [];
  expect(pks.length === NKEYS, `${NKEYS} keys generated into the key table`, r.text);
  let left = await allSign(s, pks);
  expect(left.length === 0, "every key signs before the rotation", left.join(","));

  // ---- argument errors name the field; nothing changes
  r = await api(s, "POST", "/api/v1/chamber/rotate/quorum", { operators: ["dave", "erin"], operator_threshold: 3 });
  expect(r.status === 400 && /operator_threshold/.test(r.text), "rotate quorum with threshold > operators → 400 naming operator_threshold", r.text);
  r = await api(s, "POST", "/api/v1/chamber/rotate/quorum", { operators: ["dave", "dave"], operator_threshold: 1 });
  expect(r.status === 400 && /operators\[1\]/.test(r.text), "rotate quorum with a name listed twice → 400 naming operators[1]", r.text);
  r = await api(s, "POST", "/api/v1/chamber/rotate/quorum", {});
  expect(r.status === 400 && /operators/.test(r.text), "rotate quorum without operators → 400", r.text);
  const before = await stateItem();
  expect((await status(s)).state === "unsealed" && itemOps(before) === "alice,bob,carol", "… the chamber stays unsealed, the old set in the table");

  // A second replica, unsealed by two old operators before the rotation: it keeps signing and follows the switch.
  let b = await start(cfg);
  await waitFor(async () => (await status(b)).state === "kms_unsealed");
  await submit(b, "alice", PASS.alice);
  r = await submit(b, "carol", PASS.carol);
  left = await allSign(b, pks);
  expect(r.json?.state === "unsealed" && left.length === 0, "replica b unsealed by alice + carol, every key signs there", r.text);

  // ---- (i) rotate quorum under load, from the replica that ran init
  let x1;
  let load = loadGen(s, pks);
  let loadB = loadGen(b, pks, 2);
  await sleep(1000);
  const t0 = Date.now();
  r = await op(s, ["rotate", "quorum", "--operators", "dave,erin,frank", "--operator-threshold", "2"]);
  let out = r.code === 0 ? JSON.parse(r.out) : {};
  const newToks = out.registration_tokens || {};
  secrets.push(...Object.values(newToks));
  expect(r.code === 0 && ["dave", "erin", "frank"].every((n) => /^cc-reg-[0-9a-f]{64}$/.test(newToks[n] || "")) &&
    out.state === "awaiting_rotation" && out.rotation?.quorum?.active === true,
    "operator rotate quorum --operators dave,erin,frank --operator-threshold 2: 3 tokens, awaiting_rotation", r.out + r.err);
  let it = await stateItem();
  expect(itemOps(it) === "alice,bob,carol" && it.q_init_id?.S === before.q_init_id?.S && it.revision?.N === before.revision?.N,
    "nothing written at the start: the table still holds the old set", JSON.stringify(it.q_init_id));
  r = await register(s, newToks.dave, PASS.dave);
  expect(r.status === 200 && r.json.operator === "dave" && r.json.rotation?.quorum?.registered === 1, "dave registers (1 of 3)", r.text);
  r = await register(s, newToks.dave, "dave: another passphrase");
  expect(r.status === 409 && /already used/.test(r.text), "a new registration token cannot be reused (409)", r.text);
  r = await api(s, "POST", "/api/v1/chamber/rotate/kms", { kms_key_arns: arns, kms_threshold: 2 });
  expect(r.status === 409, "another rotation kind while it awaits registration → 409", r.text);
  r = await register(s, newToks.erin, PASS.erin);
  it = await stateItem();
  expect(r.status === 200 && itemOps(it) === "alice,bob,carol" && (await status(s)).state === "awaiting_rotation",
    "erin registers (2 of 3): the old set stays in the table until all have registered", r.text);
  r = await op(s, ["register", "--registration-token", "env:REG", "--passphrase", "env:PASS"], { REG: newToks.frank, PASS: PASS.frank });
  const rotMs = Date.now() - t0;
  out = r.code === 0 ? JSON.parse(r.out) : {};
  it = await stateItem();
  expect(r.code === 0 && out.state === "unsealed" && out.operators?.map((o) => o.name).join(",") === "dave,erin,frank" &&
    out.rotation?.quorum?.active === false && /^completed/.test(out.rotation?.quorum?.last_result || ""),
    `frank registers (CLI): the switch happens, state unsealed (${rotMs} ms)`, r.out + r.err);
  expect(itemOps(it) === "dave,erin,frank" && it.q_complete?.BOOL === true && it.q_init_id?.S !== before.q_init_id?.S &&
    Number(it.revision?.N || 0) === Number(before.revision?.N || 0) + 1 && it.version?.N === before.version?.N &&
    it.check?.B === before.check?.B && it.q_kms_check?.B === before.q_kms_check?.B && JSON.stringify(it.shares) === JSON.stringify(before.shares),
    "one write: q_* = the new set, revision + 1; same master version, check, KMS shares and kms_check", JSON.stringify(it).slice(0, 400));
  await sleep(1000);
  load = await load.finish();
  loadB = await loadB.finish();
  expect(load.total > 50 && !load.failed, `signing under load during rotate quorum: ${load.total} requests, ${load.failed || 0} failed`,
    load.failures.join(" | "));
  expect(loadB.total > 20 && !loadB.failed, `… and on replica b meanwhile: ${loadB.total} requests, ${loadB.failed || 0} failed`,
    loadB.failures.join(" | "));
  const bst = await waitFor(async () => { const y = await status(b); return y.operators?.map((o) => o.name).join(",") === "dave,erin,frank" ? y : null; });
  expect(bst && bst.state === "unsealed", "replica b follows the new set with its poll, stays unsealed", JSON.stringify(bst?.operators));
  r = await api(b, "POST", "/api/v1/chamber/seal");
  await waitFor(async () => (await status(b)).state === "kms_unsealed" || (await status(b)).state === "sealed");
  x1 = await submit(b, "carol", PASS.carol);
  expect(x1.status >= 400 && (await status(b)).state !== "unsealed", "replica b sealed: old operator carol refused there", x1.text);
  await submit(b, "erin", PASS.erin);
  r = await submit(b, "frank", PASS.frank);
  left = await allSign(b, pks);
  expect(r.json?.state === "unsealed" && left.length === 0, "… erin + frank unseal replica b, every key signs", r.text);
  await stop(b);
  left = await allSign(s, pks);
  expect(left.length === 0, "every key signs after the switch (same master key)", left.join(","));

  // ---- restart: old passphrases refused, new ones unseal
  let rs = await restart(s, cfg);
  s = rs.s;
  expect(rs.kmsUnsealed, "restart → kms_unsealed");
  x1 = await submit(s, "alice", PASS.alice);
  let x2 = await submit(s, "bob", PASS.bob);
  let st = await status(s);
  expect(x1.status >= 400 && x2.status >= 400 && /alice/.test(x1.text) && st.state === "kms_unsealed" && st.submissions === 0,
    "two OLD operators' passphrases (alice, bob) no longer unseal (refused)", `${x1.status} ${x1.text} / ${x2.status} ${x2.text}`);
  x1 = await submit(s, "dave", PASS.alice);
  st = await status(s);
  expect(x1.status === 403 && /wrong passphrase/.test(x1.text) && st.submissions === 0,
    "an old passphrase under a new operator's name: 403 wrong passphrase", x1.text);
  expect((await signCheck(s, pks[0])).status === 503, "still kms_unsealed: signing 503");
  x1 = await submit(s, "dave", PASS.dave);
  x2 = await submit(s, "erin", PASS.erin);
  expect(x1.status === 200 && x2.status === 200 && x2.json.state === "unsealed", "two NEW passphrases (dave, erin) unseal", `${x1.text} / ${x2.text}`);
  left = await allSign(s, pks);
  expect(left.length === 0, "every key signs after the restart", left.join(","));

  // ---- (ii) an aborted rotation (restart before all registered) leaves the current operators working
  load = loadGen(s, pks);
  await sleep(500);
  r = await api(s, "POST", "/api/v1/chamber/rotate/unseal", { operators: ["gina", "hank", "ivan"], operator_threshold: 2 });
  const abToks = r.json?.registration_tokens || {};
  secrets.push(...Object.values(abToks));
  expect(r.status === 200 && Object.keys(abToks).length === 3 && r.json.state === "awaiting_rotation",
    "rotate/unseal (alias) from a replica unsealed by operator submissions: 3 tokens", r.text);
  r = await register(s, abToks.gina, PASS.gina);
  expect(r.status === 200 && r.json.rotation?.quorum?.registered === 1, "gina registers (1 of 3)", r.text);
  await sleep(1500);
  load = await load.finish();
  expect(load.total > 20 && !load.failed, `signing under load while it awaits registration: ${load.total} requests, ${load.failed || 0} failed`,
    load.failures.join(" | "));
  rs = await restart(s, cfg, "SIGTERM"); // a clean shutdown with the rotation in memory (sanitized runs check its wipe/free)
  s = rs.s;
  it = await stateItem();
  expect(rs.kmsUnsealed && itemOps(it) === "dave,erin,frank", "restart (SIGTERM) before all registered → kms_unsealed, the table still holds dave,erin,frank");
  x1 = await submit(s, "gina", PASS.gina);
  expect(x1.status >= 400 && (await status(s)).state === "kms_unsealed", "the aborted rotation's operator (gina) does not unseal", x1.text);
  r = await register(s, abToks.hank, "hank: a passphrase too late");
  expect(r.status >= 400, "the aborted rotation's tokens are void after the restart", `${r.status} ${r.text}`);
  x1 = await submit(s, "erin", PASS.erin);
  x2 = await submit(s, "frank", PASS.frank);
  expect(x2.status === 200 && x2.json.state === "unsealed", "the current operators (erin, frank) still unseal", `${x1.text} / ${x2.text}`);
  left = await allSign(s, pks);
  expect(left.length === 0, "every key signs", left.join(","));

  // ---- (iii) a seal aborts a rotation in flight; nothing written
  r = await api(s, "POST", "/api/v1/chamber/rotate/quorum", { operators: ["gina", "hank"], operator_threshold: 2 });
  const sealToks = r.json?.registration_tokens || {};
  secrets.push(...Object.values(sealToks));
  expect(r.status === 200, "rotate quorum again", r.text);
  r = await api(s, "POST", "/api/v1/chamber/seal");
  st = await status(s);
  expect(r.status === 200 && st.state === "sealed" && st.rotation?.quorum?.active === false && /aborted/.test(st.rotation?.quorum?.last_result || ""),
    "a seal aborts it (status.rotation.quorum: aborted)", JSON.stringify(st.rotation));
  r = await register(s, sealToks.gina, PASS.gina);
  expect(r.status >= 400 && itemOps(await stateItem()) === "dave,erin,frank", "its tokens are void; the table unchanged", r.text);
  x1 = await submit(s, "dave", PASS.dave);
  x2 = await submit(s, "frank", PASS.frank);
  left = await allSign(s, pks); // the key source reloads within its refresh interval after an unseal
  expect(x2.status === 200 && x2.json.state === "unsealed" && left.length === 0, "dave + frank unseal after the seal, every key signs", `${x1.text} / ${x2.text}`);

  // ---- (v) rotate mode --to kms under load: a new master key, KMS-only; operators no longer unseal
  let keyVers = async (table) => {
    const out = {};
    const sc = await ddb("Scan", { TableName: table, ConsistentRead: true });
    for (const i of sc.Items || []) if (i.master_version) out[i.pk.S] = Number(i.master_version.N);
    return out;
  };
  r = await api(s, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum" });
  expect(r.status === 400 && /operators/.test(r.text), "rotate mode to quorum without operators → 400 naming operators", r.text);
  r = await api(s, "POST", "/api/v1/chamber/rotate/mode", { to: "quorum", operators: ["x1", "x2"], operator_threshold: 2 });
  expect(r.status === 409 && /mode/.test(r.text), "rotate mode to quorum on a quorum chamber → 409 naming the mode (chamber_rotate_mode_quorum.sh covers KMS-only → quorum)", r.text);
  // replica b: unsealed by operators, signing; replica w: left kms_unsealed (no submissions)
  b = await start(cfg);
  await waitFor(async () => (await status(b)).state === "kms_unsealed");
  await submit(b, "dave", PASS.dave);
  r = await submit(b, "erin", PASS.erin);
  left = await allSign(b, pks);
  expect(r.json?.state === "unsealed" && left.length === 0, "replica b unsealed by dave + erin, every key signs there", r.text);
  const w = await start(cfg);
  expect(await waitFor(async () => (await status(w)).state === "kms_unsealed"), "replica w waits at kms_unsealed");
  load = loadGen(s, pks);
  loadB = loadGen(b, pks, 2);
  await sleep(500);
  r = await op(s, ["rotate", "mode", "--to", "kms"]);
  out = r.code === 0 ? JSON.parse(r.out) : {};
  expect(r.code === 0 && /mode rotation/.test(out.message || ""), "operator rotate mode --to kms: started (202)", r.out + r.err);
  const fin = await waitFor(async () => { const y = await status(s); return y.mode === "kms" && y.rotation && !y.rotation.running && !y.rotation.pending_version ? y : null; }, 60000);
  await sleep(500);
  load = await load.finish();
  expect(fin && fin.version === 2 && fin.state === "unsealed", "the rotation completes: mode kms, master version 2", JSON.stringify(fin));
  loadB = await loadB.finish();
  expect(load.total > 50 && !load.failed, `signing under load during rotate mode: ${load.total} requests, ${load.failed || 0} failed`,
    load.failures.join(" | "));
  expect(loadB.total > 20 && !loadB.failed, `… and on replica b (following with KMS): ${loadB.total} requests, ${loadB.failed || 0} failed`,
    loadB.failures.join(" | "));
  st = await waitFor(async () => { const y = await status(b); return y.mode === "kms" && y.state === "unsealed" ? y : null; });
  left = await allSign(b, pks);
  expect(st && left.length === 0, "replica b: mode kms, unsealed, every key signs", JSON.stringify(await status(b)));
  st = await waitFor(async () => { const y = await status(w); return y.state === "unsealed" ? y : null; });
  left = await allSign(w, pks);
  expect(st && st.mode === "kms" && left.length === 0, "replica w (kms_unsealed throughout) unseals with KMS alone after the promotion; every key signs",
    JSON.stringify(await status(w)));
  await stop(b);
  await stop(w);
  it = await stateItem();
  let vers = await keyVers("cc-keys");
  expect(it.mode?.S === "kms" && !Object.keys(it).some((k) => k.startsWith("q_")) && !it.pending && it.version?.N === "2" &&
    Object.keys(vers).length === NKEYS && Object.values(vers).every((v) => v === 2),
    "state item: mode kms, no q_* attribute, no pending, version 2; every key item at version 2", JSON.stringify(Object.keys(it)));
  await stop(s);
  s = await start(cfg);
  st = await waitFor(async () => { const y = await status(s); return y.state === "unsealed" ? y : null; });
  expect(st && st.mode === "kms", "restart: KMS alone unseals (no operator)", JSON.stringify(await status(s)));
  x1 = await submit(s, "dave", PASS.dave);
  expect(x1.status === 409 && /not in operator-quorum mode/.test(x1.text), "an operator's passphrase no longer unseals (409: not in quorum mode)", x1.text);
  left = await allSign(s, pks);
  expect(left.length === 0, "every key signs after the mode rotation and a restart", left.join(","));
  r = await api(s, "POST", "/api/v1/chamber/rotate/mode", { to: "kms" });
  expect(r.status === 409, "rotate mode --to kms on a KMS-only chamber → 409", r.text);

  // ---- (vi) rotate mode killed during the re-seal: a restart needs the operators, resumes and completes
  const cfgC = config("cc-state-c", "cc-keys-c");
  await run(["dynamodb", "create-tables", "-c", cfgC]);
  let c = await start(cfgC);
  const setupC = await waitFor(() => (logText(c).match(/cc-setup-[0-9a-f]{32}/) || [])[0]);
  r = await api(c, "POST", "/api/v1/chamber/init", { setup_token: setupC, kms_key_arns: arns, kms_threshold: 2,
    operators: ["alice", "bob", "carol"], operator_threshold: 2, argon2: ARGON2 });
  const cToks = r.json?.registration_tokens || {};
  secrets.push(...Object.values(cToks));
  for (const n of ["alice", "bob", "carol"]) r = await register(c, cToks[n], PASS[n]);
  r = await api(c, "POST", "/api/v1/chamber/keys/generate", { count: 8 });
  const cpks = r.status === 200 ? r.json.keys.map((k) => k.pubkey) : [];
  await stop(c);
  const slow = async () => {
    const log = nextLogPath();
    const n = await startServer(bin, cfgC, log, ["--signer_state.rotation_test_delay_ms=400"]);
    n.log = log; n.url = `http://127.0.0.1:${n.port}`;
    servers.add(n);
    return n;
  };
  c = await slow();
  await waitFor(async () => (await status(c)).state === "kms_unsealed");
  await submit(c, "alice", PASS.alice);
  await submit(c, "bob", PASS.bob);
  r = await api(c, "POST", "/api/v1/chamber/rotate/mode", { to: "kms" });
  const inReseal = await waitFor(async () => { const y = await status(c); return y.rotation?.phase === "reseal" && y.rotation.keys_done >= 2 ? y : null; }, 30000);
  await stop(c);
  it = await stateItem("cc-state-c");
  vers = await keyVers("cc-keys-c");
  expect(r.status === 202 && inReseal && it.mode?.S === "quorum" && it.pending?.M?.to_mode?.S === "kms" &&
    Object.values(vers).some((v) => v === 2) && Object.values(vers).some((v) => v === 1),
    `SIGKILL during the re-seal (${JSON.stringify(vers)}): still mode quorum, pending to kms, keys at both versions`, r.text);
  c = await slow();
  st = await waitFor(async () => { const y = await status(c); return y.state === "kms_unsealed" ? y : null; });
  expect(st, "restart mid-rotation → kms_unsealed (the current master still needs the operators)", JSON.stringify(await status(c)));
  await submit(c, "alice", PASS.alice);
  x2 = await submit(c, "carol", PASS.carol);
  left = await allSign(c, cpks); // keys at v and at v+1: both must open once the pending master is held
  expect(left.length === 0, "after the operators' unseal every key signs (keys at both versions)", left.join(","));
  let cload = loadGen(c, cpks, 2);
  const cfin = await waitFor(async () => { const y = await status(c); return y.mode === "kms" && !y.rotation?.running && !y.rotation?.pending_version ? y : null; }, 60000);
  cload = await cload.finish();
  vers = await keyVers("cc-keys-c");
  expect(x2.status === 200 && cfin && cfin.version === 2 && Object.values(vers).every((v) => v === 2),
    "two operators unseal; the rotation resumes by itself and completes (mode kms, every key at version 2)", JSON.stringify(cfin?.rotation));
  expect(cload.total > 20 && !cload.failed, `signing during the resumed rotation: ${cload.total} requests, ${cload.failed || 0} failed`, cload.failures.join(" | "));
  await stop(c);
  c = await start(cfgC);
  st = await waitFor(async () => { const y = await status(c); return y.state === "unsealed" ? y : null; });
  left = await allSign(c, cpks);
  expect(st && left.length === 0, "restart: KMS alone unseals, every key signs", left.join(","));
  await stop(c);

  // ---- (iv) a KMS-only chamber refuses rotate quorum
  const cfg2 = config("cc-state-kms", "cc-keys-kms");
  await run(["dynamodb", "create-tables", "-c", cfg2]);
  const k = await start(cfg2);
  const setup2 = await waitFor(() => (logText(k).match(/cc-setup-[0-9a-f]{32}/) || [])[0]);
  r = await api(k, "POST", "/api/v1/chamber/init", { setup_token: setup2, kms_key_arns: arns, kms_threshold: 2 });
  r = await api(k, "POST", "/api/v1/chamber/rotate/quorum", { operators: ["dave", "erin"], operator_threshold: 2 });
  expect(r.status === 409 && /mode/.test(r.text) && (await status(k)).state === "unsealed", "a KMS-only chamber: rotate quorum → 409 naming the mode", r.text);
  await stop(k);

  // ---- no secret in the logs or the table
  const logs = fs.readdirSync(work).filter((f) => f.startsWith("server.")).map((f) => fs.readFileSync(`${work}/${f}`, "utf8")).join("\n");
  const table = JSON.stringify(await stateItem());
  const leaked = secrets.filter((v) => v && (logs.includes(v) || table.includes(v)));
  expect(secrets.length >= 16 && leaked.length === 0, `no passphrase or registration token in the logs or the table (${secrets.length} checked)`,
    leaked.map((v) => v.slice(0, 10)).join(","));
} catch (e) {
  bad(`driver error: ${e.stack || e}`);
} finally {
  for (const s of [...servers]) await stop(s);
  agent.destroy();
  if (process.env.CC_KEEP_LOGS) // debugging: keep the server logs (the work folder is removed at exit)
    for (const f of fs.readdirSync(work).filter((n) => n.startsWith("server."))) fs.copyFileSync(`${work}/${f}`, `${process.env.CC_KEEP_LOGS}/${f}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
