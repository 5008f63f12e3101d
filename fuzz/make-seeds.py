#!/usr/bin/env python3
"""Regenerates the seed corpora fuzz/corpus/<target>/ from the repository's tests and
/work/shared (Lodestar bodies, the Web3Signer OpenAPI examples, EIP-2335 and EIP-3076
vectors).  Seeds are small files named by what they are; run from the repository top:

    python3 fuzz/make-seeds.py [SHARED_DIR]

Keystore seeds are re-encrypted with tiny KDF costs (scrypt n=16 r=1 p=1, pbkdf2 c=16) and the
password the harness uses ("testpassword"), so the fuzzer reaches the success path.
"""
import copy, glob, hashlib, json, os, sys, unicodedata

import yaml
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.getcwd()), "shared")
vec = os.path.join(shared, "vectors")
out = "fuzz/corpus"
MAINNET_GVR = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- sign_request: Lodestar devnet bodies (minimal preset) and the OpenAPI examples (mainnet GVR).
for i, line in enumerate(open(os.path.join(shared, "e2e-lodestar", "signing-bodies.jsonl"))):
    body = json.loads(line)["request"].get("body")
    if isinstance(body, dict):
        put("sign_request", "lodestar-%02d-%s.json" % (i, body.get("type", "x").lower()), json.dumps(body))

spec = yaml.safe_load(open(os.path.join(vec, "web3signer/openapi-specs/eth2/signing/paths/sign.yaml")))
def find_examples(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "examples" and isinstance(v, dict):
                for name, ex in v.items():
                    if isinstance(ex, dict) and isinstance(ex.get("value"), dict) and "type" in ex["value"]:
                        yield name, ex["value"]
            else:
                yield from find_examples(v)
    elif isinstance(node, list):
        for v in node:
            yield from find_examples(v)
for name, value in find_examples(spec):
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    put("sign_request", "openapi-%s.json" % slug, json.dumps(value))
    v = copy.deepcopy(value)  # the same body for mainnet: its GVR, no signingRoot (it would differ)
    if isinstance(v.get("fork_info"), dict):
        v["fork_info"]["genesis_validators_root"] = MAINNET_GVR
    v.pop("signingRoot", None)
    put("sign_request", "mainnet-%s.json" % slug, json.dumps(v))

# ---- hex: the shapes the wire carries (first byte of each seed steers the harness).
for name, s in [("root", "0x" + "ab" * 32), ("pubkey", "0x" + "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07"),
                ("noprefix", "deadBEEF"), ("empty", ""), ("odd", "0xabc"), ("u64max", "18446744073709551615"),
                ("u64over", "18446744073709551616"), ("zero", "0"), ("bitlist", "0x0f01"), ("bitvector", "0x07")]:
    put("hex", name, s)

# ---- keystore: small-cost re-encryptions of the EIP-2335 vector secret, plus the vectors themselves.
SECRET = bytes.fromhex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
PUBKEY = "9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07"
PASSWORD = b"testpassword"
def keystore(kdf, with_pubkey=True):
    salt = bytes(range(32))
    iv = bytes(range(16, 32))
    if kdf == "scrypt":
        dk = hashlib.scrypt(PASSWORD, salt=salt, n=16, r=1, p=1, dklen=32, maxmem=1 << 26)
        params = {"dklen": 32, "n": 16, "r": 1, "p": 1, "salt": salt.hex()}
    else:
        dk = hashlib.pbkdf2_hmac("sha256", PASSWORD, salt, 16, 32)
        params = {"dklen": 32, "c": 16, "prf": "hmac-sha256", "salt": salt.hex()}
    enc = Cipher(algorithms.AES(dk[:16]), modes.CTR(iv)).encryptor()
    ct = enc.update(SECRET) + enc.finalize()
    ks = {"crypto": {"kdf": {"function": kdf, "params": params, "message": ""},
                     "checksum": {"function": "sha256", "params": {}, "message": hashlib.sha256(dk[16:32] + ct).hexdigest()},
                     "cipher": {"function": "aes-128-ctr", "params": {"iv": iv.hex()}, "message": ct.hex()}},
          "path": "m/12381/60/0/0", "uuid": "1d85ae20-35c5-4611-98e8-aa14a633906f", "version": 4}
    if with_pubkey:
        ks["pubkey"] = PUBKEY
    return json.dumps(ks, indent=1)
put("keystore", "small-scrypt.json", keystore("scrypt"))
put("keystore", "small-pbkdf2.json", keystore("pbkdf2"))
put("keystore", "small-pbkdf2-nopubkey.json", keystore("pbkdf2", False))
for p in sorted(glob.glob(os.path.join(vec, "eip2333_2334_2335/chainsafe-bls-keystore/test/vectors/*.json")) +
                glob.glob(os.path.join(vec, "eip2333_2334_2335/web3signer/bls-keystore/src/test/resources/**/keystore/*.json"), recursive=True)):
    if os.path.getsize(p) < 8192:
        put("keystore", "vector-" + os.path.basename(p), open(p, "rb").read())

# ---- config: the shipped example (uncommented) and a few shapes from tests/config.
example = open("config.example.yaml").read()
put("config", "example-commented.yaml", example)
put("config", "example.yaml", "\n".join(l[2:] if l.startswith("# ") and ":" in l and not l.startswith("#  ") else l
                                         for l in example.splitlines()))
put("config", "nested.yaml", "server:\n  port: 9000\nnetwork: mainnet\nanti_slashing:\n  backend: sqlite\n  path: /tmp/x.sqlite\n"
                             "key_sources:\n  filesystem:\n    paths: [/a, /b]\n")
put("config", "devnet.yaml", "PRESET_BASE: minimal\nCONFIG_NAME: dev\nGENESIS_FORK_VERSION: 0x00000001\n"
                             "ALTAIR_FORK_VERSION: 0x01000001\nALTAIR_FORK_EPOCH: 0\nBELLATRIX_FORK_EPOCH: 18446744073709551615\n")
put("config", "dotted.yaml", "server.port: 9000\nlog.level: debug\n")

# ---- interchange: the EIP-3076 test suite's interchanges and the EIP's example.
for p in sorted(glob.glob(os.path.join(vec, "eip3076/slashing-protection-interchange-tests/tests/generated/*.json"))):
    case = json.load(open(p))
    for i, step in enumerate(case.get("steps", [])):
        if "interchange" in step:
            put("interchange", "%s-%d.json" % (os.path.basename(p)[:-5], i), json.dumps(step["interchange"], indent=1))

# ---- descriptor: Web3Signer key descriptors as tests/keys writes them.
put("descriptor", "raw.yaml", "type: \"file-raw\"\nkeyType: \"BLS\"\nprivateKey: \"0x25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866\"\n")
put("descriptor", "raw-noprefix.yaml", "type: file-raw\nprivateKey: 25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866\n")
put("descriptor", "keystore.yaml", "type: \"file-keystore\"\nkeyType: \"BLS\"\nkeystoreFile: \"/keys/k.json\"\nkeystorePasswordFile: \"k.pass\"\n")
put("descriptor", "flow.yaml", "{type: file-raw, privateKey: '0x01'}\n")
put("descriptor", "bad-keytype.yaml", "type: file-raw\nkeyType: SECP256K1\nprivateKey: 0x01\n")
