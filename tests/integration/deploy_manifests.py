#!/usr/bin/env python3
# deploy_manifests.py (driven by deploy_manifests.sh): the Kubernetes manifests
# of deploy/ checked with real tools and against each other.
#  - `kubectl kustomize` renders base, overlays/standard and overlays/enclave;
#    the rendered objects are checked (probes, ports, routes, IRSA, enclave
#    resources, security context) and the rendered config.yaml is accepted by
#    the real binary's configuration loader;
#  - the Helm chart (no helm binary in CI) is rendered by a small renderer of
#    the Go-template subset our templates use (unknown syntax fails), and must
#    produce the same objects as kustomize for defaults and for enclave.enabled;
#  - the Dockerfiles are linted for what matters (non-root USER, pinned base,
#    no secrets, EXPOSE = config defaults 9000/9443/3000, HEALTHCHECK /upcheck).
import copy, hashlib, json, os, re, subprocess, sys
import yaml

top = os.environ["CC_TOP"]
kubectl = os.environ.get("KUBECTL", "kubectl")
cc_bin = os.environ.get("CC_BIN", "")
passed = failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - every failure is reported
        failed += 1
        print(f"FAIL {name}\n  {type(e).__name__}: {e}")


def need(cond, msg):
    if not cond:
        raise AssertionError(msg)


def kustomize(rel):
    r = subprocess.run([kubectl, "kustomize", os.path.join(top, rel)], capture_output=True, text=True, timeout=60)
    need(r.returncode == 0, f"kubectl kustomize {rel}: {r.stderr.strip()}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def by_kind(docs, kind):
    xs = [d for d in docs if d["kind"] == kind]
    need(len(xs) == 1, f"{len(xs)} objects of kind {kind}")
    return xs[0]


# ------------------------------------------------------------ Helm subset renderer
class Tmpl:
    ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)

    def __init__(self, chart_dir, values, release="containment-chamber"):
        self.dir, self.values, self.release = chart_dir, values, release
        self.defines = {}
        helpers = os.path.join(chart_dir, "templates", "_helpers.tpl")
        if os.path.exists(helpers):
            self.parse(open(helpers).read())  # collects defines

    def tokens(self, src):
        out, pos = [], 0
        for m in self.ACTION.finditer(src):
            text = src[pos:m.start()]
            if m.group(1):
                text = text.rstrip(" \t\n")
            if out and out[-1][0] == "act" and out[-1][2]:
                text = text.lstrip(" \t\n")
            out.append(("text", text, False))
            out.append(("act", m.group(2), bool(m.group(3))))
            pos = m.end()
        text = src[pos:]
        if out and out[-1][0] == "act" and out[-1][2]:
            text = text.lstrip(" \t\n")
        out.append(("text", text, False))
        return out

    def parse(self, src):
        toks = self.tokens(src)
        nodes, i = self.block(toks, 0, top=True)
        return nodes

    def block(self, toks, i, top=False):
        nodes = []
        while i < len(toks):
            kind, val, _ = toks[i]
            if kind == "text":
                nodes.append(("text", val))
                i += 1
                continue
            w = val.split(None, 1)
            if w[0] in ("end", "else"):
                return nodes, i
            if w[0] == "if":
                body, i = self.block(toks, i + 1)
                other = []
                if toks[i][1].strip() == "else":
                    other, i = self.block(toks, i + 1)
                need(toks[i][1].strip() == "end", "if without end")
                nodes.append(("if", w[1], body, other))
                i += 1
                continue
            if w[0] == "define":
                body, i = self.block(toks, i + 1)
                self.defines[json.loads(w[1])] = body
                i += 1
                continue
            nodes.append(("expr", val))
            i += 1
        need(top, "unterminated block")
        return nodes, i

    def lookup(self, path):
        need(path.startswith(".Values.") or path == ".Release.Name", f"unsupported reference {path}")
        if path == ".Release.Name":
            return self.release
        v = self.values
        for p in path[len(".Values."):].split("."):
            need(isinstance(v, dict) and p in v, f"no value {path}")
            v = v[p]
        return v

    def term(self, t, cur_file):
        t = t.strip()
        m = re.fullmatch(r'include\s+"([^"]+)"\s+\.', t)
        if m:
            return self.run(self.defines[m.group(1)], cur_file)
        m = re.fullmatch(r'include\s+\(print \$\.Template\.BasePath "/([^"]+)"\)\s+\.', t)
        if m:
            return self.render_file(m.group(1))
        if t.startswith('"'):
            return json.loads(t)
        return self.lookup(t)

    def expr(self, e, cur_file):
        parts = [p.strip() for p in e.split("|")]
        first = parts[0]
        if first.startswith("toYaml "):
            v = self.lookup(first[len("toYaml "):].strip())
            v = yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")
            if v == "{}" or v == "[]":
                pass
        else:
            v = self.term(first, cur_file)
        for f in parts[1:]:
            w = f.split()
            if w[0] == "nindent":
                n = int(w[1])
                v = "\n" + "\n".join((" " * n + line) if line else line for line in str(v).split("\n"))
            elif w[0] == "quote":
                v = json.dumps(str(v))
            elif w[0] == "sha256sum":
                v = hashlib.sha256(str(v).encode()).hexdigest()
            else:
                raise AssertionError(f"unsupported function {w[0]}")
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    def run(self, nodes, cur_file):
        out = []
        for n in nodes:
            if n[0] == "text":
                out.append(n[1])
            elif n[0] == "expr":
                out.append(self.expr(n[1], cur_file))
            else:
                cond = self.lookup(n[1].strip())
                out.append(self.run(n[2] if cond else n[3], cur_file))
        return "".join(out)

    def render_file(self, name):
        src = open(os.path.join(self.dir, "templates", name)).read()
        return self.run(self.parse(src), name)

    def render_all(self):
        docs = []
        for f in sorted(os.listdir(os.path.join(self.dir, "templates"))):
            if f.endswith(".yaml"):
                docs += [d for d in yaml.safe_load_all(self.render_file(f)) if d]
        return docs


def normalize(docs):
    """Objects keyed by kind, minus what legitimately differs (labels, generated names, checksums)."""
    out = {}
    for d in copy.deepcopy(docs):
        md = d.get("metadata", {})
        md.pop("labels", None)
        if d["kind"] == "ConfigMap":
            d["data"] = {k: yaml.safe_load(v) for k, v in d["data"].items()}
            md["name"] = "CONFIG"
        if d["kind"] == "Deployment":
            t = d["spec"]["template"]
            t["metadata"].pop("labels", None)
            t["metadata"].pop("annotations", None)
            d["spec"]["selector"] = "SELECTOR"
            for v in t["spec"]["volumes"]:
                if "configMap" in v:
                    v["configMap"]["name"] = "CONFIG"
            # strategic merge may order named list entries differently: compare them by name
            t["spec"]["volumes"].sort(key=lambda v: v["name"])
            for c in t["spec"]["containers"]:
                c["volumeMounts"].sort(key=lambda m: m["name"])
        if d["kind"] in ("Service",):
            d["spec"]["selector"] = "SELECTOR"
        if d["kind"] in ("PodDisruptionBudget", "ServiceMonitor"):
            d["spec"]["selector"] = "SELECTOR"
        if d["kind"] == "ServiceAccount" and not md.get("annotations"):
            md.pop("annotations", None)
        out[d["kind"]] = d
    return out


def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'helm' if k in a else 'kustomize'}"
            r = diff(a[k], b[k], f"{path}.{k}")
            if r:
                return r
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            r = diff(x, y, f"{path}[{i}]")
            if r:
                return r
        return None
    return None if a == b else f"{path}: helm {a!r} != kustomize {b!r}"


# ------------------------------------------------------------ checks
renders = {}
for ov in ("base", "overlays/standard", "overlays/enclave"):
    def r(ov=ov):
        renders[ov] = kustomize(f"deploy/kustomize/{ov}")
        kinds = sorted(d["kind"] for d in renders[ov])
        need(kinds == ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceMonitor"], kinds)
    check(f"kubectl kustomize deploy/kustomize/{ov} renders the six objects", r)


def container(docs):
    return by_kind(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def common_checks(ov):
    docs = renders[ov]
    dep = by_kind(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = container(docs)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    need(ports == {"http": 9000, "https": 9443, "metrics": 3000}, f"container ports {ports}")
    for probe, route in (("startupProbe", "/upcheck"), ("livenessProbe", "/upcheck"), ("readinessProbe", "/healthcheck")):
        g = c[probe]["httpGet"]
        need(g["path"] == route and g["port"] == "http", f"{probe}: {g}")
    svc = by_kind(docs, "Service")
    need({p["name"]: (p["port"], p["targetPort"]) for p in svc["spec"]["ports"]} ==
         {"http": (9000, "http"), "https": (9443, "https"), "metrics": (3000, "metrics")}, f"service ports {svc['spec']['ports']}")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    for kind, sel in (("Service", svc["spec"]["selector"]),
                      ("PodDisruptionBudget", by_kind(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]),
                      ("Deployment", dep["spec"]["selector"]["matchLabels"])):
        need(all(labels.get(k) == v for k, v in sel.items()) and sel, f"{kind} selector {sel} does not select the pod {labels}")
    sm = by_kind(docs, "ServiceMonitor")
    need(sm["spec"]["endpoints"][0]["port"] == "metrics" and sm["spec"]["endpoints"][0]["path"] == "/metrics", "ServiceMonitor endpoint")
    need(all(svc["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()), "ServiceMonitor does not select the Service")
    need(by_kind(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1, "PDB minAvailable")
    sa = by_kind(docs, "ServiceAccount")
    need(pod["serviceAccountName"] == sa["metadata"]["name"], "pod does not use the service account")
    need(pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001, "pod security context")
    need(c["securityContext"]["readOnlyRootFilesystem"] is True and c["securityContext"]["allowPrivilegeEscalation"] is False, "container security context")
    need({"secretRef": {"name": "containment-chamber-env", "optional": True}} in c["envFrom"], "secrets via env (envFrom secretRef)")
    vols = {v["name"]: v for v in pod["volumes"]}
    need(vols["keystores"]["secret"]["secretName"] == "containment-chamber-keystores", "keystore volume")
    cm = by_kind(docs, "ConfigMap")
    need(vols["config"]["configMap"]["name"] == cm["metadata"]["name"], "config volume does not name the generated ConfigMap")
    conf = yaml.safe_load(cm["data"]["config.yaml"])
    need(conf["server"]["listen_port"] == 9000 and conf["metrics"]["listen_port"] == 3000, "config ports differ from the container ports")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    need(conf["key_sources"]["filesystem"]["paths"] == [mounts["keystores"]], "key_sources.filesystem.paths is not the keystore mount")
    return docs


for ov in ("base", "overlays/standard", "overlays/enclave"):
    check(f"{ov}: probes /upcheck (startup, liveness) and /healthcheck (readiness) on port http=9000, ports, selectors, security, volumes",
          lambda ov=ov: common_checks(ov))


def irsa(ov):
    sa = by_kind(renders[ov], "ServiceAccount")
    arn = (sa["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn", "")
    need(re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", arn), f"IRSA annotation {arn!r}")


check("overlays/standard: service account has the IRSA annotation eks.amazonaws.com/role-arn", lambda: irsa("overlays/standard"))
check("overlays/enclave: service account has the IRSA annotation eks.amazonaws.com/role-arn", lambda: irsa("overlays/enclave"))


def enclave_checks():
    docs = renders["overlays/enclave"]
    pod = by_kind(docs, "Deployment")["spec"]["template"]["spec"]
    c = container(docs)
    for side in ("requests", "limits"):
        res = c["resources"][side]
        need(str(res.get("aws.ec2.nitro/nitro_enclaves")) == "1", f"{side}: nitro_enclaves device {res}")
        need(res.get("hugepages-2Mi") == "2Gi", f"{side}: hugepages {res}")
    need(pod["nodeSelector"] == {"aws-nitro-enclaves-k8s-dp": "enabled"}, f"nodeSelector {pod.get('nodeSelector')}")
    hp = [v for v in pod["volumes"] if v.get("emptyDir", {}).get("medium") == "HugePages"]
    need(hp and any(m["name"] == hp[0]["name"] for m in c["volumeMounts"]), "hugepages volume not mounted")
    std = container(renders["overlays/standard"])
    need("aws.ec2.nitro/nitro_enclaves" not in std["resources"]["requests"] and "nodeSelector" not in by_kind(renders["overlays/standard"], "Deployment")["spec"]["template"]["spec"], "standard overlay asks for enclave resources")


check("overlays/enclave: aws.ec2.nitro/nitro_enclaves device, hugepages-2Mi requests=limits, Nitro node selector, HugePages volume", enclave_checks)


def config_loads():
    need(cc_bin and os.access(cc_bin, os.X_OK), f"CC_BIN {cc_bin!r} is not executable")
    cm = by_kind(renders["overlays/standard"], "ConfigMap")
    path = os.path.join(os.environ["CC_WORK"], "config.yaml")
    open(path, "w").write(cm["data"]["config.yaml"])
    env = {"PATH": os.environ["PATH"], "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED": "true"}
    for extra, want_ok in (([], True), (["--bogus.key=1"], False)):
        # It gets past the configuration, then fails on the unreachable DynamoDB: stopped after 5 s.
        r = subprocess.run(["timeout", "5", cc_bin, "server", "-c", path, "--aws.endpoint_urls.dynamodb=http://127.0.0.1:9",
                            "--aws.endpoint_urls.kms=http://127.0.0.1:9", "--server.listen_address=127.0.0.1",
                            "--metrics.listen_address=127.0.0.1", *extra],
                           capture_output=True, text=True, timeout=30, env=env)
        log = r.stderr
        bad = re.search(r"unknown key|bad value|invalid", log)
        if want_ok:
            need('"msg":"network"' in log and not bad, f"the rendered config.yaml is refused: {log[:400]}")
        else:
            need(bad, "a bad key was not refused, so this check cannot tell")


check("the rendered config.yaml passes the signer's configuration loader (an unknown key does not)", config_loads)

# ------------------------------------------------------------ Helm vs kustomize
chart = os.path.join(top, "deploy/helm/containment-chamber")
values = yaml.safe_load(open(os.path.join(chart, "values.yaml")))


def helm_vs(ov, vals):
    helm = normalize(Tmpl(chart, vals).render_all())
    kust = normalize(renders[ov])
    need(sorted(helm) == sorted(kust), f"kinds: helm {sorted(helm)} kustomize {sorted(kust)}")
    for kind in sorted(helm):
        d = diff(helm[kind], kust[kind], kind)
        need(d is None, d)


check("Helm chart (default values) renders the same objects as deploy/kustomize/base", lambda: helm_vs("base", values))
irsa_vals = copy.deepcopy(values)
irsa_vals["serviceAccount"]["annotations"] = {"eks.amazonaws.com/role-arn": by_kind(renders.get("overlays/standard", []) or [{"kind": "ServiceAccount", "metadata": {"annotations": {}}}], "ServiceAccount")["metadata"]["annotations"].get("eks.amazonaws.com/role-arn")}
check("Helm chart with the IRSA annotation renders the same objects as overlays/standard", lambda: helm_vs("overlays/standard", irsa_vals))
enc_vals = copy.deepcopy(irsa_vals)
enc_vals["enclave"]["enabled"] = True
check("Helm chart with enclave.enabled renders the same objects as overlays/enclave", lambda: helm_vs("overlays/enclave", enc_vals))


def helm_detects_drift():
    v = copy.deepcopy(values)
    v["probes"]["readiness"]["path"] = "/upcheck"
    try:
        helm_vs("base", v)
    except AssertionError:
        return
    raise AssertionError("a changed readiness route was not noticed")


check("the Helm/kustomize comparison notices a drifted probe route (it can fail)", helm_detects_drift)

# ------------------------------------------------------------ yamllint
def yamllint():
    files = [os.path.join(chart, "Chart.yaml"), os.path.join(chart, "values.yaml")]
    for root, _, fs in os.walk(os.path.join(top, "deploy/kustomize")):
        files += [os.path.join(root, f) for f in fs if f.endswith(".yaml")]
    files.append(os.path.join(top, "deploy/enclave/config.yaml"))
    r = subprocess.run(["yamllint", "-s", "-c", os.path.join(top, "deploy/.yamllint"), *files], capture_output=True, text=True, timeout=60)
    need(r.returncode == 0, r.stdout + r.stderr)
    need(len(files) >= 12, f"only {len(files)} files linted")


check("yamllint (strict) on the chart's Chart.yaml/values.yaml, every kustomize file and the enclave config", yamllint)

# ------------------------------------------------------------ Dockerfiles
def dockerfile(name, want_healthcheck):
    text = open(os.path.join(top, name)).read()
    lines = [l for l in re.sub(r"\\\n", " ", text).split("\n") if l.strip() and not l.lstrip().startswith("#")]
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", "\n".join(lines), re.M))
    froms = [re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), l.split()[1]) for l in lines if l.startswith("FROM ")]
    need(len(froms) >= 2, f"{name}: not multi-stage ({froms})")
    for f in froms:
        need(re.search(r"@sha256:[0-9a-f]{64}$", f) or re.fullmatch(r"debian:\d+\.\d+(-slim)?", f),
             f"{name}: base {f} is not pinned by digest or exact point release")
    users = [l.split()[1] for l in lines if l.startswith("USER ")]
    need(users and not re.match(r"^(0|root)(:|$)", users[-1]), f"{name}: final USER {users}")
    expose = sorted(int(p) for l in lines if l.startswith("EXPOSE ") for p in l.split()[1:])
    ex = open(os.path.join(top, "config.example.yaml")).read()
    defaults = sorted(int(x) for x in re.findall(r"#\s*listen_port:\s*(\d+)", ex))
    need(expose == defaults == [3000, 9000, 9443], f"{name}: EXPOSE {expose} vs config defaults {defaults}")
    need(not re.search(r"(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|PASSWORD|TOKEN|PRIVATE KEY)\s*[=:]", text, re.I), f"{name}: looks like a secret")
    need(not re.search(r"^(ENV|ARG)\s+\S*(SECRET|PASSWORD|TOKEN)", "\n".join(lines), re.M | re.I), f"{name}: secret-like ENV/ARG")
    need(not re.search(r"^ADD\s+https?://", "\n".join(lines), re.M), f"{name}: ADD from a URL")
    if want_healthcheck:
        need(re.search(r"^HEALTHCHECK .*CMD .*127\.0\.0\.1:9000/upcheck", "\n".join(lines), re.M), f"{name}: HEALTHCHECK on /upcheck")


check("Dockerfile: multi-stage, pinned Debian base, non-root USER, EXPOSE 9000 9443 3000 = config defaults, no secrets, HEALTHCHECK /upcheck",
      lambda: dockerfile("Dockerfile", True))
check("Dockerfile.enclave: multi-stage, pinned Debian base, non-root USER, EXPOSE = config defaults, no secrets",
      lambda: dockerfile("Dockerfile.enclave", False))
def runtime_libraries(name):
    """Every shared library the built binary needs comes from a package the runtime stage installs."""
    binary = os.environ.get("CC_BIN", os.path.join(top, "build/containment-chamber"))
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    text = open(os.path.join(top, name)).read()
    runtime = re.sub(r"\\\n", " ", text.split("FROM ")[-1])  # the last stage
    missing = []
    for path in re.findall(r"=>\s+(/\S+)", out):
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        pkg = owner.stdout.split(":")[0].strip() if owner.returncode == 0 else "?"
        if pkg in ("libc6", "libgcc-s1", "libstdc++6", "?") or re.match(r"lib(a|ub|l|t)san\d", pkg):
            continue
        if not re.search(r"(^|\s)" + re.escape(pkg) + r"(\s|$)", runtime):
            missing.append(f"{os.path.basename(path)} ({pkg})")
    # Transitive libraries are pulled in by apt as dependencies: only direct ones must be listed.
    direct = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True, check=True).stdout
    needed = set(re.findall(r"NEEDED\s+(\S+)", direct))
    missing = [m for m in missing if m.split(" ")[0] in needed]
    need(not missing, f"{name}: the runtime stage does not install {missing}")


check("Dockerfile: the runtime stage installs the package of every library the binary links directly",
      lambda: runtime_libraries("Dockerfile"))
check("Dockerfile.enclave: the runtime stage installs the package of every library the binary links directly",
      lambda: runtime_libraries("Dockerfile.enclave"))
check(".dockerignore keeps build/ out of the build context", lambda: need("build" in open(os.path.join(top, ".dockerignore")).read().split(), ".dockerignore"))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
