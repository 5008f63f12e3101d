// Helpers for run.sh (no dependencies beyond Node; `drill` also loads the
// Lodestar packages installed under build/e2e/lodestar to compute roots).
//
//   node harness.mjs ports N                      N free loopback TCP ports
//   node harness.mjs spec2yaml SPEC.json OUT.yaml consensus config from /eth/v1/config/spec
//   node harness.mjs account REQS SIGNER_LOG...   reconcile proxy records with the signer's log
//   node harness.mjs shapes REQS EXPECTED         BLOCK_V2 shapes signed (ALTAIR/block, BELLATRIX/header)
//   node harness.mjs refusals REQS SINCE_MS SIGNER_LOG   judge refusals after a restart
//   node harness.mjs drill REQS SIGNER_URL LODESTAR_DIR  slashing drills (412s and a replay)
//   node harness.mjs exported REQS EXPORT.json    every signed block/attestation is in the export
//   node harness.mjs figures SIGNER_LOG...        "signatures=… p50_ms=… p99_ms=…"
//
// Check-style commands print "ok NAME" / "FAIL NAME" (details indented below)
// and exit 0; run.sh counts the lines.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [cmd, ...args] = process.argv.slice(2);

function jsonl(file) {
    if (!fs.existsSync(file)) return [];
    const out = [];
    for (const l of fs.readFileSync(file, "utf8").split("\n")) {
        if (!l.trim()) continue;
        try { out.push(JSON.parse(l)); } catch { /* not a JSON line (e.g. a libc message) */ }
    }
    return out;
}
const ok = (name, detail) => console.log(`ok ${name}${detail ? " - " + detail : ""}`);
function fail(name, detail, lines = []) {
    console.log(`FAIL ${name}${detail ? " - " + detail : ""}`);
    for (const l of lines.slice(0, 12)) console.log("  " + l);
}
const signRecords = (reqs) => reqs.filter((r) => r.method === "POST" && r.url.startsWith("/api/v1/eth2/sign/"));
const pubkeyOf = (r) => r.url.split("/").pop().toLowerCase();
const blockOf = (b) => b.beacon_block ? (b.beacon_block.block || b.beacon_block.block_header) : b.block;
const slotOfBlock = (b) => BigInt(blockOf(b).slot);
const rootOfBody = (b) => (b.signingRoot || b.signing_root || "").toLowerCase();
const countBy = (xs, f) => xs.reduce((m, x) => (m[f(x)] = (m[f(x)] || 0) + 1, m), {});
const fmtCounts = (m) => Object.keys(m).sort().map((k) => `${k}:${m[k]}`).join(",");

function percentile(sorted, p) {
    if (!sorted.length) return NaN;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
}

// Does `r` (a refused request) truly conflict with something signed before it?
function conflictOf(r, signedBefore) {
    const pk = pubkeyOf(r), b = r.body, root = rootOfBody(b);
    const mine = signedBefore.filter((s) => pubkeyOf(s) === pk && s.body.type === b.type);
    if (b.type === "BLOCK_V2" || b.type === "BLOCK") {
        const slot = slotOfBlock(b);
        const same = mine.find((s) => slotOfBlock(s.body) === slot && rootOfBody(s.body) !== root);
        return same ? `double proposal at slot ${slot}` : null;
    }
    if (b.type === "ATTESTATION") {
        const a = b.attestation, src = BigInt(a.source.epoch), tgt = BigInt(a.target.epoch);
        for (const s of mine) {
            const x = s.body.attestation, xs = BigInt(x.source.epoch), xt = BigInt(x.target.epoch);
            if (xt === tgt && rootOfBody(s.body) !== root) return `double vote on target ${tgt}`;
            if (xs < src && xt > tgt) return `surrounded by ${xs}->${xt}`;
            if (xs > src && xt < tgt) return `surrounds ${xs}->${xt}`;
        }
        return null;
    }
    return null;
}

const commands = {
    async ports([n]) {
        const servers = [];
        for (let i = 0; i < Number(n); i++) {
            const s = net.createServer();
            await new Promise((res) => s.listen(0, "127.0.0.1", res));
            servers.push(s);
        }
        console.log(servers.map((s) => s.address().port).join(" "));
        for (const s of servers) s.close();
    },

    // The signer reads PRESET_BASE, CONFIG_NAME, GENESIS_FORK_VERSION and the
    // <FORK>_FORK_VERSION / <FORK>_FORK_EPOCH pairs; the rest of the spec is copied too
    // (scalars only) so the file is a faithful consensus-spec config.
    async spec2yaml([specFile, out]) {
        const spec = JSON.parse(fs.readFileSync(specFile, "utf8")).data;
        const lines = ["# written by tests/e2e/lodestar/run.sh from GET /eth/v1/config/spec"];
        const preset = spec.PRESET_BASE || "minimal";
        lines.push(`PRESET_BASE: '${preset}'`);
        const want = (k) => k === "CONFIG_NAME" || k === "GENESIS_FORK_VERSION" || /_FORK_(VERSION|EPOCH)$/.test(k) ||
            k === "SECONDS_PER_SLOT" || k === "SLOTS_PER_EPOCH";
        for (const [k, v] of Object.entries(spec)) {
            if (k === "PRESET_BASE" || !want(k) || typeof v !== "string") continue;
            lines.push(/^0x/.test(v) || /^\d+$/.test(v) ? `${k}: ${v}` : `${k}: '${v}'`);
        }
        fs.writeFileSync(out, lines.join("\n") + "\n");
        console.log(`PRESET_BASE ${spec.PRESET_BASE ? "from the spec" : "missing from the spec, written as minimal"}: ${preset}`);
    },

    // Every request the VC made through the proxy, by type and status, against the
    // signer's "signed" lines.  A request cut by the restart drill (proxy status 0)
    // may or may not have been signed before the signer went down: those are slack.
    async account([reqFile, ...logs]) {
        const reqs = signRecords(jsonl(reqFile));
        const entries = logs.flatMap(jsonl);
        const signed = countBy(entries.filter((e) => e.msg === "signed"), (e) => e.type);
        const proxied = countBy(reqs.filter((r) => r.status === 200), (r) => r.body.type);
        const cut = countBy(reqs.filter((r) => r.status === 0), (r) => r.body && r.body.type);
        const bad = [];
        for (const t of new Set([...Object.keys(signed), ...Object.keys(proxied)])) {
            const s = signed[t] || 0, p = proxied[t] || 0, c = cut[t] || 0;
            if (s < p || s > p + c) bad.push(`${t}: signer logged ${s} signed, proxy saw ${p} answered 200 (+${c} cut by the drill)`);
        }
        const other = countBy(reqs.filter((r) => r.status !== 200 && r.status !== 0), (r) => `${r.body.type}/${r.status}`);
        if (!reqs.length) fail("signer_log_accounts_for_requests", "the proxy recorded no signing request");
        else if (bad.length) fail("signer_log_accounts_for_requests", "counts differ", bad);
        else ok("signer_log_accounts_for_requests", `${fmtCounts(signed)}${Object.keys(other).length ? " non-200 " + fmtCounts(other) : ""}`);
    },

    // The signer's /metrics (scraped with no traffic left) against the same process's log:
    // containment_signing_requests_total by operation and status equals its "signed" (200)
    // and "sign refused" (other statuses) lines, type by type.
    async metrics([metricsFile, logFile]) {
        const fromMetrics = {};
        for (const line of fs.readFileSync(metricsFile, "utf8").split("\n")) {
            const m = line.match(/^containment_signing_requests_total\{operation="([A-Z_0-9]+)",status="(\w+)"\} (\d+)$/);
            if (m) fromMetrics[`${m[1]}/${m[2]}`] = (fromMetrics[`${m[1]}/${m[2]}`] || 0) + Number(m[3]);
        }
        const entries = jsonl(logFile).filter((e) => e.msg === "signed" || e.msg === "sign refused");
        const fromLog = countBy(entries, (e) => `${!e.type || e.type === "unknown" ? "UNKNOWN" : e.type}/${e.status}`);
        const bad = [];
        for (const k of new Set([...Object.keys(fromMetrics), ...Object.keys(fromLog)]))
            if ((fromMetrics[k] || 0) !== (fromLog[k] || 0)) bad.push(`${k}: metrics ${fromMetrics[k] || 0}, log ${fromLog[k] || 0}`);
        if (!Object.keys(fromMetrics).length) fail("signer_metrics_account_for_requests", "no containment_signing_requests_total in /metrics");
        else if (bad.length) fail("signer_metrics_account_for_requests", "counts differ", bad);
        else ok("signer_metrics_account_for_requests", fmtCounts(fromMetrics));
    },

    // Which BLOCK_V2 shapes were signed (VERSION/block or VERSION/header); EXPECT is a
    // comma-separated list of shapes that must be among them.
    async shapes([reqFile, expect]) {
        const blocks = signRecords(jsonl(reqFile)).filter((r) => r.status === 200 && r.body.type === "BLOCK_V2");
        const m = countBy(blocks, (r) => `${r.body.beacon_block.version}/${r.body.beacon_block.block ? "block" : "header"}`);
        const missing = (expect || "").split(",").filter((x) => x && !m[x]);
        if (missing.length) fail("block_shapes_signed", `none signed of ${missing.join(",")}; signed ${fmtCounts(m)}`);
        else ok("block_shapes_signed", fmtCounts(m));
    },

    async refusals([reqFile, sinceMs, ...logs]) {
        const reqs = signRecords(jsonl(reqFile));
        const since = Number(sinceMs);
        const refusedLog = logs.flatMap(jsonl).filter((e) => e.msg === "sign refused");
        const refused = reqs.filter((r) => r.t >= since && r.status !== 200 && r.status !== 0);
        const signed = reqs.filter((r) => r.status === 200);
        const unjust = [];
        for (const r of refused) {
            const c = conflictOf(r, signed.filter((s) => s.t <= r.t));
            if (!c) unjust.push(`${r.body.type} ${pubkeyOf(r).slice(0, 12)}… ${r.status} ${r.response.slice(0, 200)} body=${JSON.stringify(r.body).slice(0, 400)}`);
        }
        if (unjust.length) fail("no_unjust_refusal_after_restart", `${unjust.length} refused without a conflict`, unjust);
        else ok("no_unjust_refusal_after_restart", `${refused.length} refused after the restart (all true conflicts), signer logged ${refusedLog.length} refusals`);
    },

    async drill([reqFile, signerUrl, lsDir]) {
        process.env.LODESTAR_PRESET = "minimal";
        const imp = (p) => import(pathToFileURL(path.join(lsDir, "node_modules", p)).href);
        const { ssz } = await imp("@lodestar/types/lib/index.js");
        const st = await imp("@lodestar/state-transition/lib/index.js");
        const params = await imp("@lodestar/params/lib/index.js");
        if (params.ACTIVE_PRESET !== "minimal") { fail("drill_setup", `Lodestar preset is ${params.ACTIVE_PRESET}`); return; }
        const hex = (u8) => "0x" + Buffer.from(u8).toString("hex");
        const unhex = (s) => Uint8Array.from(Buffer.from(s.replace(/^0x/, ""), "hex"));
        const SPE = BigInt(params.SLOTS_PER_EPOCH);
        function domainFor(body, domainType, epoch) {
            const f = body.fork_info.fork;
            const v = epoch < BigInt(f.epoch) ? f.previous_version : f.current_version;
            return st.computeDomain(domainType, unhex(v), unhex(body.fork_info.genesis_validators_root));
        }
        function attestationRoot(body) {
            const data = ssz.phase0.AttestationData.fromJson(body.attestation);
            return hex(st.computeSigningRoot(ssz.phase0.AttestationData, data,
                domainFor(body, params.DOMAIN_BEACON_ATTESTER, BigInt(body.attestation.target.epoch))));
        }
        function blockRoot(body) {
            const bb = body.beacon_block, slot = slotOfBlock(body);
            let type, value;
            if (bb.block_header) { type = ssz.phase0.BeaconBlockHeader; value = type.fromJson(bb.block_header); }
            else { type = ssz[bb.version.toLowerCase()].BeaconBlock; value = type.fromJson(bb.block); }
            return hex(st.computeSigningRoot(type, value, domainFor(body, params.DOMAIN_BEACON_PROPOSER, slot / SPE)));
        }
        async function sign(rec, body) {
            const r = await fetch(signerUrl + rec.url, {
                method: "POST", headers: { "content-type": "application/json", accept: "application/json" },
                body: JSON.stringify(body),
            });
            return { status: r.status, text: await r.text() };
        }
        const reqs = signRecords(jsonl(reqFile)).filter((r) => r.status === 200);
        const atts = reqs.filter((r) => r.body.type === "ATTESTATION");
        const blocks = reqs.filter((r) => r.body.type === "BLOCK_V2");
        // The roots we compute must be Lodestar's own, or the drills prove nothing.
        const mism = [...atts.slice(0, 50).filter((r) => attestationRoot(r.body) !== rootOfBody(r.body)),
                      ...blocks.slice(0, 50).filter((r) => blockRoot(r.body) !== rootOfBody(r.body))];
        if (!atts.length || !blocks.length) { fail("drill_setup", `recorded ${atts.length} attestations, ${blocks.length} blocks`); return; }
        if (mism.length) { fail("drill_setup", "recomputed signing roots differ from Lodestar's", mism.map((r) => JSON.stringify(r.body).slice(0, 300))); return; }

        // an attestation from the middle of the run, with source < target
        const mid = atts.filter((r) => BigInt(r.body.attestation.source.epoch) >= 1n);
        const att = (mid.length ? mid : atts)[Math.floor((mid.length ? mid : atts).length / 2)];
        const sigOf = (t) => { try { return JSON.parse(t).signature; } catch { return t.trim(); } };

        // 1. identical replay: a retry of what was signed is answered with the same signature
        {
            const r = await sign(att, att.body);
            const same = r.status === 200 && sigOf(r.text) === sigOf(att.response);
            if (same) ok("replay_identical_attestation", "200, same signature");
            else fail("replay_identical_attestation", `expected 200 with the recorded signature, got ${r.status} ${r.text.slice(0, 200)}`,
                [`body: ${JSON.stringify(att.body)}`]);
        }
        // 2. double vote: same target, different beacon_block_root (signing root recomputed)
        {
            const body = structuredClone(att.body);
            body.attestation.beacon_block_root = "0x" + "ab".repeat(32);
            body.signingRoot = attestationRoot(body);
            const r = await sign(att, body);
            if (r.status === 412) ok("double_vote_refused", `412 ${r.text.slice(0, 160)}`);
            else fail("double_vote_refused", `expected 412, got ${r.status} ${r.text.slice(0, 200)}`, [`body: ${JSON.stringify(body)}`]);
        }
        // 3. surround vote around the validator's latest attestation (source-1 -> target+1:
        //    target+1 was never signed, so only the surround rule can refuse it)
        {
            const mineAll = atts.filter((r) => pubkeyOf(r) === pubkeyOf(att));
            const last = mineAll.reduce((m, r) => BigInt(r.body.attestation.target.epoch) > BigInt(m.body.attestation.target.epoch) ? r : m);
            const body = structuredClone(last.body);
            const a = body.attestation;
            if (BigInt(a.source.epoch) >= 1n) {
                a.source.epoch = String(BigInt(a.source.epoch) - 1n);
                a.target.epoch = String(BigInt(a.target.epoch) + 1n);
                a.slot = String(BigInt(a.target.epoch) * SPE);
                body.signingRoot = attestationRoot(body);
                const r = await sign(last, body);
                if (r.status === 412) ok("surround_vote_refused", `412 ${r.text.slice(0, 160)}`);
                else fail("surround_vote_refused", `expected 412, got ${r.status} ${r.text.slice(0, 200)}`, [`body: ${JSON.stringify(body)}`]);
            } else {
                console.log("# surround_vote_refused skipped: the latest attestation has source epoch 0");
            }
        }
        // 4. an earlier-slot block of a proposer that has signed later ones, with another body
        {
            const maxSlot = {};
            for (const b of blocks) { const pk = pubkeyOf(b), s = slotOfBlock(b.body); if (!(pk in maxSlot) || s > maxSlot[pk]) maxSlot[pk] = s; }
            const earlier = blocks.filter((b) => slotOfBlock(b.body) < maxSlot[pubkeyOf(b)]);
            const blk = earlier.length ? earlier[Math.floor(earlier.length / 2)] : blocks[0];
            const body = structuredClone(blk.body);
            const bb = body.beacon_block;
            if (bb.block_header) bb.block_header.body_root = "0x" + "cd".repeat(32);
            else bb.block.body.graffiti = "0x" + Buffer.from("containment-chamber e2e drill").toString("hex").padEnd(64, "0");
            body.signingRoot = blockRoot(body);
            const r = await sign(blk, body);
            const what = `slot ${slotOfBlock(body)} (proposer's latest ${maxSlot[pubkeyOf(blk)]})`;
            if (r.status === 412) ok("double_proposal_refused", `${what}: 412 ${r.text.slice(0, 140)}`);
            else fail("double_proposal_refused", `${what}: expected 412, got ${r.status} ${r.text.slice(0, 200)}`, [`body: ${JSON.stringify(body).slice(0, 3000)}`]);
        }
    },

    async exported([reqFile, exportFile]) {
        const reqs = signRecords(jsonl(reqFile)).filter((r) => r.status === 200);
        let ex;
        try { ex = JSON.parse(fs.readFileSync(exportFile, "utf8")); }
        catch (e) { fail("anti_slashing_records_every_signature", `cannot read the export: ${e.message}`); return; }
        const byPk = {};
        for (const d of ex.data || []) byPk[d.pubkey.toLowerCase()] = d;
        const missing = [], wrongRoot = [];
        let nb = 0, na = 0;
        for (const r of reqs) {
            const b = r.body, pk = pubkeyOf(r), d = byPk[pk] || { signed_blocks: [], signed_attestations: [] };
            if (b.type === "BLOCK_V2") {
                nb++;
                const slot = String(slotOfBlock(b));
                const e = (d.signed_blocks || []).find((x) => String(x.slot) === slot);
                if (!e) missing.push(`block ${pk.slice(0, 12)}… slot ${slot}`);
                else if (e.signing_root && e.signing_root.toLowerCase() !== rootOfBody(b)) wrongRoot.push(`block ${pk.slice(0, 12)}… slot ${slot}: ${e.signing_root} != ${rootOfBody(b)}`);
            } else if (b.type === "ATTESTATION") {
                na++;
                const a = b.attestation;
                const e = (d.signed_attestations || []).find((x) => String(x.source_epoch) === a.source.epoch && String(x.target_epoch) === a.target.epoch);
                if (!e) missing.push(`attestation ${pk.slice(0, 12)}… ${a.source.epoch}->${a.target.epoch}`);
                else if (e.signing_root && e.signing_root.toLowerCase() !== rootOfBody(b)) wrongRoot.push(`attestation ${pk.slice(0, 12)}… ${a.source.epoch}->${a.target.epoch}: ${e.signing_root} != ${rootOfBody(b)}`);
            }
        }
        const gvrNote = ex.metadata ? `gvr ${String(ex.metadata.genesis_validators_root).slice(0, 10)}…` : "no metadata";
        if (!nb || !na) fail("anti_slashing_records_every_signature", `nothing to check: ${nb} blocks, ${na} attestations signed`);
        else if (missing.length || wrongRoot.length) fail("anti_slashing_records_every_signature", `${missing.length} missing, ${wrongRoot.length} with another root, of ${nb} blocks + ${na} attestations`, [...missing, ...wrongRoot]);
        else ok("anti_slashing_records_every_signature", `${nb} blocks + ${na} attestations, all in the export with their signing roots (${gvrNote})`);
    },

    async figures(logs) {
        const entries = logs.flatMap(jsonl).filter((e) => e.msg === "signed");
        const ms = entries.map((e) => Number(e.duration_ms)).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
        const f = (x) => Number.isFinite(x) ? x.toFixed(3) : "nan";
        console.log(`signatures=${fmtCounts(countBy(entries, (e) => e.type))} p50_ms=${f(percentile(ms, 50))} p99_ms=${f(percentile(ms, 99))}`);
    },
};

if (!commands[cmd]) { console.error(`unknown command ${cmd}`); process.exit(2); }
await commands[cmd](args);
