// hcl_eval.mjs — renders the Terraform of terraform/ into concrete values
// without a terraform binary (CI has none): the files are parsed by
// @cdktf/hcl2json (HashiCorp's HCL parser compiled to wasm), and the
// expressions hcl2json leaves as "${...}" text are evaluated here.
//
// Only the subset our .tf files use is implemented; anything else THROWS
// (so a new construct makes the test fail instead of being skipped):
//   literals, strings with ${} interpolation, [..] / {..} constructors,
//   [for x in xs : f(x)], ?:, == != > < >= <= && || !, + - * /,
//   var.* local.* module.<m>.<output> data.aws_caller_identity.<n>.account_id
//   count.index, resource attributes (synthesised below), and the functions
//   merge concat lower upper length jsonencode join try one replace alltrue can
//   coalesce distinct tolist toset.
// Resource attributes cannot be known without AWS; they are synthesised from
// the resource's own arguments, as AWS would build them:
//   aws_iam_role.X.arn          arn:aws:iam::<account>:role/<name>
//   aws_dynamodb_table.X[i].arn arn:aws:dynamodb:<region>:<account>:table/<name>
//   aws_kms_key.X.arn           arn:aws:kms:<region>:<account>:key/<module path>
//   .name / .id                 the name argument
// A reference to a count'ed resource beyond its evaluated count throws (try() catches it).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

export async function loadHcl2json(toolsDir) {
  const require = createRequire(toolsDir + "/node_modules/");
  return require("@cdktf/hcl2json");
}

// ---------------------------------------------------------------- tokenizer
const PUNCT = ["==", "!=", ">=", "<=", "&&", "||", "=>", "...", "{", "}", "[", "]", "(", ")", ",", ".", ":", "?",
  "=", ">", "<", "!", "+", "-", "*", "/", "%"];

function tokenize(src) {
  const toks = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === "#" || (c === "/" && src[i + 1] === "/")) { while (i < src.length && src[i] !== "\n") i++; continue; }
    if (/[0-9]/.test(c)) {
      let j = i; while (j < src.length && /[0-9.]/.test(src[j])) j++;
      toks.push({ t: "num", v: Number(src.slice(i, j)) }); i = j; continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i; while (j < src.length && /[A-Za-z0-9_-]/.test(src[j])) j++;
      toks.push({ t: "id", v: src.slice(i, j) }); i = j; continue;
    }
    if (c === '"') { // template string: keep the raw text, parsed by parseTemplate
      let j = i + 1, depth = 0;
      while (j < src.length) {
        if (src[j] === "\\") { j += 2; continue; }
        if (src[j] === "$" && src[j + 1] === "{") { depth++; j += 2; continue; }
        if (depth > 0 && src[j] === "}") { depth--; j++; continue; }
        if (depth > 0 && src[j] === '"') { // nested string inside an interpolation
          j++; while (j < src.length && src[j] !== '"') { if (src[j] === "\\") j++; j++; } j++; continue;
        }
        if (depth === 0 && src[j] === '"') break;
        j++;
      }
      if (j >= src.length) throw new Error(`unterminated string in: ${src}`);
      toks.push({ t: "str", v: src.slice(i + 1, j) }); i = j + 1; continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (!p) throw new Error(`hcl_eval: unexpected character '${c}' in: ${src}`);
    toks.push({ t: "p", v: p }); i += p.length;
  }
  toks.push({ t: "eof" });
  return toks;
}

// ---------------------------------------------------------------- parser (AST)
function parseExpr(src) {
  const toks = tokenize(src);
  let k = 0;
  const peek = (o = 0) => toks[k + o];
  const isP = (v, o = 0) => peek(o).t === "p" && peek(o).v === v;
  const eat = (v) => { if (!isP(v)) throw new Error(`hcl_eval: expected '${v}' got ${JSON.stringify(peek())} in: ${src}`); k++; };

  function expr() { return ternary(); }
  function ternary() {
    const c = binary(0);
    if (isP("?")) { k++; const a = expr(); eat(":"); const b = expr(); return { k: "cond", c, a, b }; }
    return c;
  }
  const PREC = [["||"], ["&&"], ["==", "!="], [">", "<", ">=", "<="], ["+", "-"], ["*", "/", "%"]];
  function binary(level) {
    if (level === PREC.length) return unary();
    let l = binary(level + 1);
    while (peek().t === "p" && PREC[level].includes(peek().v)) {
      const op = toks[k++].v; const r = binary(level + 1); l = { k: "bin", op, l, r };
    }
    return l;
  }
  function unary() {
    if (isP("!")) { k++; return { k: "not", e: unary() }; }
    if (isP("-")) { k++; return { k: "neg", e: unary() }; }
    return postfix(primary());
  }
  function postfix(e) {
    for (;;) {
      if (isP(".") && peek(1).t === "id") { k++; e = { k: "attr", e, n: toks[k++].v }; continue; }
      if (isP("[") && !isP("for", 1)) {
        if (isP("*", 1)) { k += 2; eat("]"); e = { k: "splat", e }; continue; }
        k++; const i = expr(); eat("]"); e = { k: "idx", e, i }; continue;
      }
      return e;
    }
  }
  function primary() {
    const t = peek();
    if (t.t === "num") { k++; return { k: "lit", v: t.v }; }
    if (t.t === "str") { k++; return parseTemplate(t.v); }
    if (t.t === "id") {
      k++;
      if (t.v === "true" || t.v === "false") return { k: "lit", v: t.v === "true" };
      if (t.v === "null") return { k: "lit", v: null };
      if (isP("(")) {
        k++; const args = [];
        while (!isP(")")) { args.push(expr()); if (isP(",")) k++; else if (isP("...")) throw new Error("hcl_eval: ... expansion unsupported"); }
        eat(")");
        return { k: "call", f: t.v, args };
      }
      return { k: "ref", n: t.v };
    }
    if (isP("(")) { k++; const e = expr(); eat(")"); return e; }
    if (isP("[")) {
      k++;
      if (peek().t === "id" && peek().v === "for") {
        k++; const v = toks[k++].v; if (!(peek().t === "id" && peek().v === "in")) throw new Error("hcl_eval: for with key unsupported"); k++;
        const coll = expr(); eat(":"); const body = expr();
        let cond = null; if (peek().t === "id" && peek().v === "if") { k++; cond = expr(); }
        eat("]"); return { k: "for", v, coll, body, cond };
      }
      const items = [];
      while (!isP("]")) { items.push(expr()); if (isP(",")) k++; }
      eat("]"); return { k: "tuple", items };
    }
    if (isP("{")) {
      k++; const items = [];
      if (peek().t === "id" && peek().v === "for") throw new Error("hcl_eval: object for-expression unsupported");
      while (!isP("}")) {
        let key;
        if (peek().t === "id" && (isP("=", 1) || isP(":", 1))) key = { k: "lit", v: toks[k++].v };
        else key = expr();
        if (isP("=")) k++; else eat(":");
        const v = expr();
        items.push([key, v]);
        if (isP(",")) k++;
      }
      eat("}"); return { k: "obj", items };
    }
    throw new Error(`hcl_eval: unexpected ${JSON.stringify(t)} in: ${src}`);
  }
  const e = expr();
  if (peek().t !== "eof") throw new Error(`hcl_eval: trailing ${JSON.stringify(peek())} in: ${src}`);
  return e;
}

// A template (string contents): literal parts and ${expr} parts.
function parseTemplate(s) {
  const parts = [];
  let i = 0, lit = "";
  while (i < s.length) {
    if (s[i] === "\\") {
      const n = s[i + 1]; lit += n === "n" ? "\n" : n === "t" ? "\t" : n; i += 2; continue;
    }
    if (s.startsWith("$${", i)) { lit += "${"; i += 3; continue; }
    if (s.startsWith("%{", i)) throw new Error(`hcl_eval: template directives unsupported: ${s}`);
    if (s.startsWith("${", i)) {
      let j = i + 2, depth = 1, inStr = false;
      while (j < s.length && depth > 0) {
        if (inStr) { if (s[j] === "\\") j++; else if (s[j] === '"') inStr = false; }
        else if (s[j] === '"') inStr = true;
        else if (s[j] === "{") depth++;
        else if (s[j] === "}") depth--;
        j++;
      }
      if (lit) parts.push({ k: "lit", v: lit }); lit = "";
      parts.push(parseExpr(s.slice(i + 2, j - 1)));
      i = j; continue;
    }
    lit += s[i++];
  }
  if (lit || parts.length === 0) parts.push({ k: "lit", v: lit });
  if (parts.length === 1 && parts[0].k !== "lit") return parts[0]; // "${x}" is x itself, not a string
  return { k: "tmpl", parts };
}

// ---------------------------------------------------------------- values
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
function str(v) {
  if (v === null || v === undefined) throw new Error("hcl_eval: null in a string template");
  if (typeof v === "object") throw new Error(`hcl_eval: cannot interpolate ${JSON.stringify(v)}`);
  return String(v);
}
function deepEq(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

const FUNCS = {
  merge: (...a) => Object.assign({}, ...a.map((x) => { if (x !== null && !isObj(x)) throw new Error("merge: not an object"); return x || {}; })),
  concat: (...a) => a.flatMap((x) => { if (!Array.isArray(x)) throw new Error("concat: not a list"); return x; }),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  length: (x) => (typeof x === "string" ? x.length : Array.isArray(x) ? x.length : isObj(x) ? Object.keys(x).length : (() => { throw new Error("length: bad argument"); })()),
  jsonencode: (x) => JSON.stringify(x),
  join: (sep, xs) => xs.map(str).join(sep),
  one: (xs) => { if (xs.length > 1) throw new Error("one: more than one element"); return xs.length ? xs[0] : null; },
  replace: (s, a, b) => { if (a.length > 1 && a.startsWith("/") && a.endsWith("/")) return str(s).replace(new RegExp(a.slice(1, -1), "g"), b); return str(s).split(a).join(b); },
  alltrue: (xs) => xs.every((x) => x === true),
  coalesce: (...a) => { const v = a.find((x) => x !== null && x !== ""); if (v === undefined) throw new Error("coalesce: no non-null argument"); return v; },
  distinct: (xs) => xs.filter((x, i) => xs.findIndex((y) => deepEq(x, y)) === i),
  tolist: (xs) => xs,
  toset: (xs) => [...new Set(xs)].sort(),
};

// ---------------------------------------------------------------- evaluator
export function evaluate(ast, scope) {
  switch (ast.k) {
    case "lit": return ast.v;
    case "tmpl": return ast.parts.map((p) => str(evaluate(p, scope))).join("");
    case "tuple": return ast.items.map((e) => evaluate(e, scope));
    case "obj": {
      const o = {};
      for (const [kk, v] of ast.items) o[str(evaluate(kk, scope))] = evaluate(v, scope);
      return o;
    }
    case "cond": {
      const c = evaluate(ast.c, scope);
      if (typeof c !== "boolean") throw new Error("hcl_eval: condition is not a bool");
      return c ? evaluate(ast.a, scope) : evaluate(ast.b, scope);
    }
    case "not": return !evaluate(ast.e, scope);
    case "neg": return -evaluate(ast.e, scope);
    case "bin": {
      if (ast.op === "&&") return evaluate(ast.l, scope) && evaluate(ast.r, scope);
      if (ast.op === "||") return evaluate(ast.l, scope) || evaluate(ast.r, scope);
      const l = evaluate(ast.l, scope), r = evaluate(ast.r, scope);
      switch (ast.op) {
        case "==": return deepEq(l, r);
        case "!=": return !deepEq(l, r);
        case ">": return l > r; case "<": return l < r; case ">=": return l >= r; case "<=": return l <= r;
        case "+": return l + r; case "-": return l - r; case "*": return l * r; case "/": return l / r; case "%": return l % r;
      }
      throw new Error(`hcl_eval: operator ${ast.op}`);
    }
    case "for": {
      const coll = evaluate(ast.coll, scope);
      if (!Array.isArray(coll)) throw new Error("hcl_eval: for over a non-list");
      const out = [];
      for (const x of coll) {
        const inner = { ...scope, locals_for: { ...(scope.locals_for || {}), [ast.v]: x } };
        if (ast.cond && !evaluate(ast.cond, inner)) continue;
        out.push(evaluate(ast.body, inner));
      }
      return out;
    }
    case "call": {
      if (ast.f === "try") {
        for (const a of ast.args) { try { return evaluate(a, scope); } catch { /* next */ } }
        throw new Error("try: every argument failed");
      }
      if (ast.f === "can") { try { evaluate(ast.args[0], scope); return true; } catch { return false; } }
      const f = FUNCS[ast.f];
      if (!f) throw new Error(`hcl_eval: function ${ast.f}() unsupported`);
      return f(...ast.args.map((a) => evaluate(a, scope)));
    }
    case "ref": case "attr": case "idx": case "splat":
      return scope.resolve(ast, scope);
  }
  throw new Error(`hcl_eval: node ${ast.k}`);
}

// Flattens a reference AST into ["var","x"] / ["aws_iam_role","this",{i:0},"arn"] / {splat} steps.
function steps(ast, scope) {
  if (ast.k === "ref") return [ast.n];
  if (ast.k === "attr") return [...steps(ast.e, scope), ast.n];
  if (ast.k === "idx") return [...steps(ast.e, scope), { i: evaluate(ast.i, scope) }];
  if (ast.k === "splat") return [...steps(ast.e, scope), { splat: true }];
  throw new Error("hcl_eval: not a reference");
}

// A value from hcl2json's JSON: strings are templates; objects and arrays recurse.
export function evalJson(v, scope) {
  if (typeof v === "string") return evaluate(parseTemplate(v), scope);
  if (Array.isArray(v)) return v.map((x) => evalJson(x, scope));
  if (isObj(v)) { const o = {}; for (const [kk, x] of Object.entries(v)) o[kk] = evalJson(x, scope); return o; }
  return v;
}

// ---------------------------------------------------------------- modules
// Merges every *.tf of a directory as hcl2json renders them.
export async function loadDir(hcl, dir) {
  const m = { dir, variable: {}, locals: {}, module: {}, resource: {}, data: {}, output: {}, provider: {}, terraform: [] };
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".tf")).sort()) {
    const j = await hcl.parse(f, fs.readFileSync(path.join(dir, f), "utf8"));
    for (const [kind, body] of Object.entries(j)) {
      if (kind === "locals") for (const blk of body) Object.assign(m.locals, blk);
      else if (kind === "resource" || kind === "data")
        for (const [type, byName] of Object.entries(body)) for (const [n, blks] of Object.entries(byName)) m[kind][`${type}.${n}`] = blks[0];
      else if (kind === "terraform") m.terraform.push(...body);
      else if (m[kind] !== undefined) for (const [n, blks] of Object.entries(body)) m[kind][n] = Array.isArray(blks) ? blks[0] : blks;
      else throw new Error(`${dir}/${f}: unexpected top-level ${kind}`);
    }
  }
  return m;
}

// An evaluated module instance: inputs are concrete values, env = {account, region, path}.
export function instance(mod, inputs, env, loadChild) {
  // Inputs may be thunks (module arguments, evaluated on first use like Terraform's graph
  // would, so module A -> module B -> module A references through different attributes resolve).
  const vars = {};
  for (const [n, decl] of Object.entries(mod.variable)) {
    if (n in inputs) {
      const x = inputs[n];
      if (typeof x === "function") {
        let memo, done = false, busy = false;
        Object.defineProperty(vars, n, { enumerable: true, get: () => {
          if (done) return memo;
          if (busy) throw new Error(`${mod.dir}: cycle through var.${n}`);
          busy = true; try { memo = x(); done = true; } finally { busy = false; }
          return memo;
        } });
      } else vars[n] = x;
    } else if ("default" in decl) vars[n] = decl.default;
    else throw new Error(`${mod.dir}: variable ${n} has no value`);
  }
  for (const n of Object.keys(inputs)) if (!(n in mod.variable)) throw new Error(`${mod.dir}: no variable ${n}`);
  const localCache = {}, childCache = {};
  const self = { mod, vars, env };
  const scopeFor = (extra = {}) => ({ resolve, ...extra });
  function resolve(ast, scope) {
    const s = steps(ast, scope);
    const [head, ...rest] = s;
    let v;
    if (scope.locals_for && head in scope.locals_for) return walk(scope.locals_for[head], rest);
    if (head === "var") { if (!(rest[0] in vars)) throw new Error(`unknown var.${rest[0]}`); v = vars[rest[0]]; return walk(v, rest.slice(1)); }
    if (head === "local") return walk(local(rest[0]), rest.slice(1));
    if (head === "count") { if (scope.count === undefined) throw new Error("count.index outside count"); return scope.count; }
    if (head === "module") return walk(child(rest[0]), rest.slice(1));
    if (head === "data") {
      const key = `${rest[0]}.${rest[1]}`;
      if (!(key in mod.data)) throw new Error(`${mod.dir}: no data ${key}`);
      if (rest[0] === "aws_caller_identity" && rest[2] === "account_id") return env.account;
      throw new Error(`hcl_eval: data ${key}.${rest[2]} unsupported`);
    }
    const key = `${head}.${rest[0]}`;
    if (key in mod.resource) return walk(resourceValue(key), rest.slice(1));
    throw new Error(`${mod.dir}: unresolved reference ${s.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(".")}`);
  }
  function walk(v, rest) {
    for (let n = 0; n < rest.length; n++) {
      const st = rest[n];
      if (typeof st === "string") { if (!isObj(v) || !(st in v)) throw new Error(`no attribute ${st}`); v = v[st]; }
      else if (st.splat) { // xs[*].a.b: the rest of the traversal applies to every element
        const xs = Array.isArray(v) ? v : v === null ? [] : [v];
        return xs.map((x) => walk(x, rest.slice(n + 1)));
      }
      else if (Array.isArray(v) && v.length && isObj(v[0]) && typeof st.i === "string") throw new Error("bad index");
      else { if (!Array.isArray(v) || st.i >= v.length) throw new Error(`index ${st.i} out of range`); v = v[st.i]; }
    }
    // a splat followed by attributes maps over the list
    return v;
  }
  function local(n) {
    if (n in localCache) return localCache[n];
    if (!(n in mod.locals)) throw new Error(`${mod.dir}: no local.${n}`);
    return (localCache[n] = evalJson(mod.locals[n], scopeFor()));
  }
  function attrOf(blk, name, count) { return evalJson(blk[name], scopeFor({ count })); }
  function resourceValue(key) {
    const blk = mod.resource[key];
    const [type] = key.split(".");
    const one = (i) => {
      const name = blk.name !== undefined ? attrOf(blk, "name", i) : undefined;
      const o = { name, id: name };
      if (type === "aws_iam_role") o.arn = `arn:aws:iam::${env.account}:role/${name}`;
      else if (type === "aws_dynamodb_table") o.arn = `arn:aws:dynamodb:${env.region}:${env.account}:table/${name}`;
      else if (type === "aws_kms_key") { o.key_id = `${env.path}`; o.arn = `arn:aws:kms:${env.region}:${env.account}:key/${env.path}`; }
      else if (type === "aws_iam_instance_profile") o.arn = `arn:aws:iam::${env.account}:instance-profile/${name}`;
      for (const a of Object.keys(blk)) if (!(a in o) && a !== "count" && a !== "lifecycle" && a !== "depends_on")
        Object.defineProperty(o, a, { enumerable: true, get: () => attrOf(blk, a, i) });
      return o;
    };
    if (blk.count !== undefined) {
      const n = evalJson(blk.count, scopeFor());
      return Array.from({ length: n }, (_, i) => one(i));
    }
    return one(undefined);
  }
  function child(name) {
    if (name in childCache) return childCache[name];
    const call = mod.module[name];
    if (!call) throw new Error(`${mod.dir}: no module ${name}`);
    const childMod = loadChild(path.resolve(mod.dir, call.source));
    let providerAlias = null;
    if (call.providers) {
      const p = JSON.stringify(call.providers).match(/aws\.([A-Za-z0-9_]+)/);
      providerAlias = p ? p[1] : null;
    }
    const childEnv = { ...env, ...(providerAlias ? env.providers[providerAlias] : {}) };
    const mk = (i) => {
      const inputs = {};
      for (const [a, x] of Object.entries(call)) {
        if (["source", "providers", "count", "for_each", "depends_on", "version"].includes(a)) continue;
        inputs[a] = () => evalJson(x, scopeFor({ count: i }));
      }
      return instance(childMod, inputs, { ...childEnv, path: `${env.path}/${name}${i === undefined ? "" : `[${i}]`}` }, loadChild);
    };
    let inst;
    if (call.count !== undefined) {
      const n = evalJson(call.count, scopeFor());
      inst = Array.from({ length: n }, (_, i) => mk(i).outputs());
    } else inst = mk(undefined).outputs();
    return (childCache[name] = inst);
  }
  self.local = local;
  self.resource = resourceValue;
  self.child = child;
  self.outputs = () => new Proxy({}, {
    has: (_, n) => n in mod.output,
    get: (_, n) => { if (!(n in mod.output)) throw new Error(`${mod.dir}: no output ${n}`); return evalJson(mod.output[n].value, scopeFor()); },
  });
  self.instanceOf = (name, i) => { // the child instance object itself (for its resources)
    const call = mod.module[name];
    const childMod = loadChild(path.resolve(mod.dir, call.source));
    let providerAlias = null;
    if (call.providers) { const p = JSON.stringify(call.providers).match(/aws\.([A-Za-z0-9_]+)/); providerAlias = p ? p[1] : null; }
    const inputs = {};
    for (const [a, x] of Object.entries(call)) {
      if (["source", "providers", "count", "for_each", "depends_on", "version"].includes(a)) continue;
      inputs[a] = () => evalJson(x, scopeFor({ count: i }));
    }
    return instance(childMod, inputs, { ...env, ...(providerAlias ? env.providers[providerAlias] : {}), path: `${env.path}/${name}` }, loadChild);
  };
  return self;
}
