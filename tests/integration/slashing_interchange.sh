#!/usr/bin/env bash
# The official EIP-3076 interchange test suite (eth-clients/slashing-protection-
# interchange-tests, 38 cases) through the command line:
#   $CC_BIN slashing import | check-block | check-attestation
# with a fresh database per case, bound to the case's genesis_validators_root.
# The backend comes from the environment: CC_SLASHING_BACKEND=sqlite (default)
# or dynamodb (a fresh table per case, created with `dynamodb create-tables`,
# on CC_DYNAMODB_ENDPOINT; AWS credentials from the environment) or postgres
# (a fresh database per case: CREATE DATABASE with psql on CC_PG_URL, a libpq URI
# of an administrative database whose role may create databases; the case's URL
# goes in a 0600 config file, never on a command line — slashing_postgres.sh).
#
# Expectations (NOTES §3): should_succeed_complete for an identical re-request
# (same signing root as a record imported with that root or signed earlier in
# the case), should_succeed (the minimal strategy) otherwise.  Where
# contains_slashable_data is set and the import is refused, the rest of the case
# is skipped.  wrong_genesis_validators_root's import must fail.
# Two more cases drive the command line itself: a malformed import imports
# nothing, and export -> import -> export gives the same file.
# Prints one line per case and closes with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CC_BIN=${CC_BIN:-$top/build/containment-chamber}
CC_VECTORS=${CC_VECTORS:-$(cd "$top/.." && pwd)/shared/vectors}
suite="$CC_VECTORS/eip3076/slashing-protection-interchange-tests/tests/generated"
if [ ! -x "$CC_BIN" ]; then echo "no binary at $CC_BIN"; echo "0 passed, 1 failed"; exit 1; fi
if [ ! -d "$suite" ]; then echo "no suite at $suite"; echo "0 passed, 1 failed"; exit 1; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

exec python3 - "$CC_BIN" "$suite" "$work" <<'PY'
import glob, json, os, subprocess, sys

binary, suite, work = sys.argv[1:4]
passed = failed = 0
BACKEND = os.environ.get("CC_SLASHING_BACKEND", "sqlite")

_dbs = {}
def db_args(name):
    """Flags selecting a fresh database called name (the same flags on every later call)."""
    if name in _dbs:
        return _dbs[name]
    if BACKEND == "sqlite":
        args = ["--backend", "sqlite", "--path", os.path.join(work, name + ".sqlite")]
    elif BACKEND == "dynamodb":
        cfg = os.path.join(work, name + ".yaml")
        table = "cc-" + "".join(c if c.isalnum() or c in "_.-" else "-" for c in name)[:200]
        open(cfg, "w").write("anti_slashing: {backend: dynamodb, table: %s}\n"
                             "aws: {region: us-east-1, endpoint_urls: {dynamodb: \"%s\"}}\n"
                             % (table, os.environ["CC_DYNAMODB_ENDPOINT"]))
        p = subprocess.run([binary, "dynamodb", "create-tables", "-c", cfg], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("dynamodb create-tables %s: %s" % (table, p.stderr.strip()[-500:]))
        args = ["-c", cfg]
    elif BACKEND == "postgres":
        import urllib.parse
        dbname = "cc_case_%d" % (len(_dbs) + 1)
        admin = os.environ["CC_PG_URL"]
        p = subprocess.run([os.environ.get("CC_PSQL", "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", admin,
                            "-c", 'DROP DATABASE IF EXISTS "%s"' % dbname, "-c", 'CREATE DATABASE "%s"' % dbname],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("postgres: CREATE DATABASE %s: %s" % (dbname, p.stderr.strip()[-500:]))
        u = urllib.parse.urlsplit(admin)
        url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))
        cfg = os.path.join(work, name + ".yaml")
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, ("anti_slashing: {backend: postgres, url: %s, pool_size: 1}\n" % json.dumps(url)).encode())
        os.close(fd)
        args = ["-c", cfg]
    else:
        raise SystemExit("CC_SLASHING_BACKEND=%s: unknown" % BACKEND)
    _dbs[name] = args
    return args

def run(args):
    p = subprocess.run([binary, "slashing"] + args, capture_output=True, text=True)
    return p.returncode, (p.stderr.strip().splitlines() or [""])[-1]

def norm(h):
    return h.lower()

for path in sorted(glob.glob(os.path.join(suite, "*.json"))):
    case = json.load(open(path))
    name = case["name"]
    common = db_args(name) + ["--genesis-validators-root", case["genesis_validators_root"]]
    problems, skipped = [], False
    signed_blocks, signed_atts = set(), set()   # (pubkey, slot|target, root) known with a root
    for i, step in enumerate(case["steps"]):
        f = os.path.join(work, "%s.%d.json" % (name, i))
        json.dump(step["interchange"], open(f, "w"))
        rc, msg = run(["import", "--file", f] + common)
        if not step["should_succeed"]:
            if rc == 0:
                problems.append("step %d: import succeeded, should fail" % i)
            break
        if rc != 0:
            if step["contains_slashable_data"]:
                skipped = True
                break
            problems.append("step %d: import failed (rc %d): %s" % (i, rc, msg))
            break
        for v in step["interchange"]["data"]:
            pk = norm(v["pubkey"])
            for b in v["signed_blocks"]:
                if "signing_root" in b:
                    signed_blocks.add((pk, int(b["slot"]), norm(b["signing_root"])))
            for a in v["signed_attestations"]:
                if "signing_root" in a:
                    signed_atts.add((pk, int(a["target_epoch"]), norm(a["signing_root"])))
        for j, b in enumerate(step["blocks"]):
            key = (norm(b["pubkey"]), int(b["slot"]), norm(b["signing_root"]))
            want = b["should_succeed_complete"] if key in signed_blocks else b["should_succeed"]
            rc, msg = run(["check-block", "--pubkey", b["pubkey"], "--slot", b["slot"],
                           "--signing-root", b["signing_root"]] + common)
            if rc not in (0, 3):
                problems.append("step %d block %d: error rc %d: %s" % (i, j, rc, msg))
            elif (rc == 0) != want:
                problems.append("step %d block %d (slot %s): %s, expected %s%s" % (
                    i, j, b["slot"], "allowed" if rc == 0 else "refused",
                    "allowed" if want else "refused", "" if rc == 0 else " (" + msg + ")"))
            if rc == 0:
                signed_blocks.add(key)
        for j, a in enumerate(step["attestations"]):
            key = (norm(a["pubkey"]), int(a["target_epoch"]), norm(a["signing_root"]))
            want = a["should_succeed_complete"] if key in signed_atts else a["should_succeed"]
            rc, msg = run(["check-attestation", "--pubkey", a["pubkey"], "--source-epoch", a["source_epoch"],
                           "--target-epoch", a["target_epoch"], "--signing-root", a["signing_root"]] + common)
            if rc not in (0, 3):
                problems.append("step %d attestation %d: error rc %d: %s" % (i, j, rc, msg))
            elif (rc == 0) != want:
                problems.append("step %d attestation %d (%s,%s): %s, expected %s%s" % (
                    i, j, a["source_epoch"], a["target_epoch"], "allowed" if rc == 0 else "refused",
                    "allowed" if want else "refused", "" if rc == 0 else " (" + msg + ")"))
            if rc == 0:
                signed_atts.add(key)
    if problems:
        failed += 1
        print("FAIL %s" % name)
        for p in problems:
            print("  " + p)
    else:
        passed += 1
        print("ok   %s%s" % (name, " (slashable import refused; rest skipped)" if skipped else ""))
    sys.stdout.flush()

# The command line itself: a malformed file imports nothing; export -> import round trip.
def cli_case(name, fn):
    global passed, failed
    problems = fn()
    if problems:
        failed += 1
        print("FAIL %s" % name)
        for p in problems:
            print("  " + p)
    else:
        passed += 1
        print("ok   %s" % name)

GVR = "0x" + "11" * 32
PK = "0x" + "a1" * 48
ROOT = "0x" + "22" * 32

def malformed_import():
    common = db_args("cli_malformed") + ["--genesis-validators-root", GVR]
    f = os.path.join(work, "cli_malformed.json")
    json.dump({"metadata": {"interchange_format_version": "5", "genesis_validators_root": GVR},
               "data": [{"pubkey": PK, "signed_blocks": [{"slot": "100"}], "signed_attestations": []},
                        {"pubkey": PK, "signed_blocks": [], "signed_attestations": [{"source_epoch": "1", "target_epoch": "x"}]}]},
              open(f, "w"))
    out = []
    rc, msg = run(["import", "--file", f] + common)
    if rc == 0 or "data[1].signed_attestations[0].target_epoch" not in msg:
        out.append("import of a malformed file: rc %d, message %r" % (rc, msg))
    rc, msg = run(["check-block", "--pubkey", PK, "--slot", "50", "--signing-root", ROOT] + common)
    if rc != 0:
        out.append("block 50 refused after a failed import (something was imported): %s" % msg)
    return out

def export_round_trip():
    c1 = db_args("cli_rt1") + ["--genesis-validators-root", GVR]
    c2 = db_args("cli_rt2") + ["--genesis-validators-root", GVR]
    out = []
    for args in (["check-block", "--pubkey", PK, "--slot", "7", "--signing-root", ROOT],
                 ["check-attestation", "--pubkey", PK, "--source-epoch", "3", "--target-epoch", "4", "--signing-root", ROOT]):
        rc, msg = run(args + c1)
        if rc != 0:
            out.append("%s: rc %d %s" % (args[0], rc, msg))
    f1, f2 = os.path.join(work, "cli_rt1.json"), os.path.join(work, "cli_rt2.json")
    p = subprocess.run([binary, "slashing", "export", "--file", "-"] + c1, capture_output=True, text=True)
    open(f1, "w").write(p.stdout)
    rc, msg = run(["import", "--file", f1] + c2)
    if rc != 0:
        out.append("import of the export: rc %d %s" % (rc, msg))
    rc, msg = run(["export", "--file", f2] + c2)
    if rc != 0 or json.load(open(f1)) != json.load(open(f2)):
        out.append("second export differs from the first")
    rc, msg = run(["check-block", "--pubkey", PK, "--slot", "7", "--signing-root", "0x" + "33" * 32] + c2)
    if rc != 3:
        out.append("double block after round trip: rc %d, expected 3" % rc)
    rc, msg = run(["import", "--file", f1] + db_args("cli_rt2") + ["--genesis-validators-root", "0x" + "44" * 32])
    if rc == 0:
        out.append("import into a database bound to another root succeeded")
    return out

cli_case("cli_malformed_import_imports_nothing", malformed_import)
cli_case("cli_export_import_round_trip", export_round_trip)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
