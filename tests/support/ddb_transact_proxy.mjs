// ddb_transact_proxy.mjs — a test stand-in that adds TransactWriteItems to dynalite.
//
// dynalite 4.0.0 answers UnknownOperationException to TransactWriteItems
// (docs: NOTES §6.4), and the key table's writes are transactions (a key item
// plus the generation counter).  This proxy forwards every request to dynalite
// unchanged, except TransactWriteItems, which it runs itself:
//
//   - isolation: transactions take a write lock, every other request a read
//     lock, so no read or write interleaves with a transaction's steps;
//   - conditions: each action's ConditionExpression is evaluated against a
//     consistent GetItem of its item.  Only attribute_exists(x) and
//     attribute_not_exists(x) (with #names) are supported — all the key table
//     uses; anything else is a ValidationException, so a new condition cannot
//     pass unnoticed;
//   - all or nothing: any failed condition cancels the whole transaction with
//     TransactionCanceledException and CancellationReasons in action order,
//     as DynamoDB answers (nothing is written) — every second one without the
//     array, the message's "[None, ConditionalCheckFailed]" list alone, as AWS
//     documents for non-Java callers; otherwise the actions are
//     applied without conditions, under the lock;
//   - the same item twice is a ValidationException; ClientRequestToken makes
//     a repeat of the same request return the first answer (10 min).
// Not crash-atomic (a killed proxy mid-apply leaves a prefix): tests only.
//
// Usage: node ddb_transact_proxy.mjs <listen-port> <dynalite-url>
import http from 'node:http';

const [, , listenPort, upstream] = process.argv;
if (!listenPort || !upstream) {
  console.error('usage: ddb_transact_proxy.mjs <port> <dynalite-url>');
  process.exit(2);
}

// A readers-writer lock (writers are not starved: new readers queue behind a waiting writer).
let readers = 0, writer = false;
const waiting = [];
function pump() {
  while (waiting.length) {
    const w = waiting[0];
    if (w.write ? (writer || readers) : (writer)) break;
    waiting.shift();
    if (w.write) writer = true; else readers++;
    w.resolve();
    if (w.write) break;
  }
}
function lock(write) {
  return new Promise((resolve) => { waiting.push({ write, resolve }); pump(); });
}
function unlock(write) {
  if (write) writer = false; else readers--;
  pump();
}

async function forward(headers, body) {
  const h = { ...headers };
  delete h.host; delete h['content-length']; delete h.connection;
  const r = await fetch(upstream, { method: 'POST', headers: h, body });
  return { status: r.status, type: r.headers.get('content-type') || 'application/x-amz-json-1.0', body: await r.text() };
}

async function call(headers, op, req) {
  const r = await forward({ ...headers, 'x-amz-target': 'DynamoDB_20120810.' + op }, JSON.stringify(req));
  if (r.status !== 200) throw Object.assign(new Error(`${op}: ${r.body}`), { upstream: r });
  return JSON.parse(r.body);
}

const schemas = new Map();
async function keyOf(headers, table, item) {
  if (!schemas.has(table)) {
    const d = await call(headers, 'DescribeTable', { TableName: table });
    schemas.set(table, d.Table.KeySchema.map((k) => k.AttributeName));
  }
  const key = {};
  for (const n of schemas.get(table)) key[n] = item[n];
  return key;
}

function validation(message) {
  return { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message } };
}

// Evaluates a supported condition on item (undefined when absent): true, false, or a string error.
function evaluate(cond, names, item) {
  const m = /^\s*(attribute_exists|attribute_not_exists)\s*\(\s*([#A-Za-z0-9_]+)\s*\)\s*$/.exec(cond);
  if (!m) return `test stand-in: unsupported ConditionExpression ${cond}`;
  const name = m[2].startsWith('#') ? (names || {})[m[2]] : m[2];
  if (!name) return `test stand-in: ${m[2]} is not in ExpressionAttributeNames`;
  const has = item !== undefined && Object.prototype.hasOwnProperty.call(item, name);
  return m[1] === 'attribute_exists' ? has : !has;
}

const tokens = new Map(); // ClientRequestToken → {body, answer, at}
let cancellations = 0; // cancelled transactions answered so far

async function transact(headers, text) {
  const req = JSON.parse(text);
  const items = req.TransactItems;
  if (!Array.isArray(items) || items.length < 1 || items.length > 100)
    return validation('TransactItems must hold 1 to 100 actions');
  const token = req.ClientRequestToken;
  if (token && tokens.has(token)) {
    const t = tokens.get(token);
    if (t.body !== text) return { status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException', message: 'token reused with another request' } };
    return t.answer;
  }
  const steps = [];
  for (const a of items) {
    const kind = Object.keys(a)[0];
    const p = a[kind];
    if (!['Put', 'Update', 'Delete', 'ConditionCheck'].includes(kind) || !p || !p.TableName)
      return validation(`unsupported transaction action ${kind}`);
    const key = kind === 'Put' ? await keyOf(headers, p.TableName, p.Item) : p.Key;
    const id = p.TableName + '\u0000' + JSON.stringify(key);
    if (steps.some((s) => s.id === id))
      return validation('Transaction request cannot include multiple operations on one item');
    steps.push({ kind, p, key, id });
  }
  await lock(true);
  try {
    const reasons = [];
    let cancelled = false;
    for (const s of steps) {
      if (!s.p.ConditionExpression) { reasons.push({ Code: 'None' }); continue; }
      const got = await call(headers, 'GetItem', { TableName: s.p.TableName, Key: s.key, ConsistentRead: true });
      const ok = evaluate(s.p.ConditionExpression, s.p.ExpressionAttributeNames, got.Item);
      if (typeof ok === 'string') return validation(ok);
      if (ok) reasons.push({ Code: 'None' });
      else { reasons.push({ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }); cancelled = true; }
    }
    let answer;
    if (cancelled) {
      answer = { status: 400, body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        // AWS documents the array as set only for its Java SDK: every other
        // cancellation carries the message alone, so both parsings are exercised.
        ...((++cancellations % 2) ? { CancellationReasons: reasons } : {}) } };
    } else {
      for (const s of steps) {
        const p = s.p;
        if (s.kind === 'Put') await call(headers, 'PutItem', { TableName: p.TableName, Item: p.Item });
        else if (s.kind === 'Delete') await call(headers, 'DeleteItem', { TableName: p.TableName, Key: p.Key });
        else if (s.kind === 'Update') {
          const u = { TableName: p.TableName, Key: p.Key, UpdateExpression: p.UpdateExpression };
          if (p.ExpressionAttributeNames) {
            // only the names the update uses (DynamoDB refuses unused ones)
            const used = Object.fromEntries(Object.entries(p.ExpressionAttributeNames).filter(([k]) => p.UpdateExpression.includes(k)));
            if (Object.keys(used).length) u.ExpressionAttributeNames = used;
          }
          if (p.ExpressionAttributeValues) u.ExpressionAttributeValues = p.ExpressionAttributeValues;
          await call(headers, 'UpdateItem', u);
        }
      }
      answer = { status: 200, body: {} };
    }
    if (token) tokens.set(token, { body: text, answer, at: Date.now() });
    for (const [k, v] of tokens) if (Date.now() - v.at > 600000) tokens.delete(k);
    return answer;
  } finally {
    unlock(true);
  }
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] || '');
    try {
      if (target === 'DynamoDB_20120810.TransactWriteItems') {
        const a = await transact(req.headers, body);
        const text = JSON.stringify(a.body);
        res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      await lock(false);
      let r;
      try { r = await forward(req.headers, body); } finally { unlock(false); }
      res.writeHead(r.status, { 'content-type': r.type, 'content-length': Buffer.byteLength(r.body) });
      res.end(r.body);
    } catch (e) {
      const u = e.upstream;
      const text = u ? u.body : JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(e) });
      res.writeHead(u ? u.status : 500, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
  });
}).listen(Number(listenPort), '127.0.0.1', () => console.log(`ddb-transact-proxy on ${listenPort} → ${upstream}`));
