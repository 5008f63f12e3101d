// A recording HTTP proxy between the Lodestar validator client and the signer.
//
//   node proxy.mjs LISTEN_PORT UPSTREAM_PORT RECORD_FILE
//
// Forwards every request unchanged to 127.0.0.1:UPSTREAM_PORT (one fresh TCP
// connection per request, so a signer restart never meets a stale socket) and
// appends one JSON line per request to RECORD_FILE:
//   {t, ms, method, url, status, body, response}
// `body` is the parsed request JSON (null when absent), `response` the raw
// answer text, `ms` the round trip through the signer as seen from here.
// When the signer is down, the client gets 503 and the line has status 0.
// Prints "listening" on stdout once bound; exits on SIGTERM.
import http from "node:http";
import fs from "node:fs";

const [listenPort, upstreamPort, recordFile] = process.argv.slice(2);
const out = fs.createWriteStream(recordFile, { flags: "a" });

function record(obj) {
    out.write(JSON.stringify(obj) + "\n");
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const t = Date.now();
        const start = process.hrtime.bigint();
        let body = null;
        if (raw.length) {
            try { body = JSON.parse(raw.toString("utf8")); } catch { body = raw.toString("utf8"); }
        }
        const headers = { ...req.headers };
        delete headers.connection;
        headers.host = `127.0.0.1:${upstreamPort}`;
        const up = http.request({
            host: "127.0.0.1", port: Number(upstreamPort), method: req.method, path: req.url,
            headers, agent: false,
        }, (ur) => {
            const rc = [];
            ur.on("data", (c) => rc.push(c));
            ur.on("end", () => {
                const text = Buffer.concat(rc);
                const ms = Number(process.hrtime.bigint() - start) / 1e6;
                const h = { ...ur.headers };
                delete h.connection; delete h["keep-alive"]; delete h["transfer-encoding"];
                h["content-length"] = String(text.length);
                res.writeHead(ur.statusCode, h);
                res.end(text);
                record({ t, ms: Math.round(ms * 1000) / 1000, method: req.method, url: req.url,
                         status: ur.statusCode, body, response: text.toString("utf8") });
            });
            ur.on("error", (e) => fail(e));
        });
        let failed = false;
        function fail(e) {
            if (failed) return;
            failed = true;
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            if (!res.headersSent) {
                res.writeHead(503, { "content-type": "text/plain" });
                res.end("proxy: signer unavailable: " + e.code);
            } else {
                res.destroy();
            }
            record({ t, ms, method: req.method, url: req.url, status: 0, body, response: String(e.code || e) });
        }
        up.on("error", fail);
        up.setTimeout(30000, () => up.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
        up.end(raw);
    });
});
server.keepAliveTimeout = 60000;
server.listen(Number(listenPort), "127.0.0.1", () => console.log("listening"));
process.on("SIGTERM", () => { server.close(); out.end(() => process.exit(0)); setTimeout(() => process.exit(0), 1000); });
