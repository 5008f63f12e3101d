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

# ---- the stores' decoders and the enclave's binary inputs (fuzz_key_record, fuzz_state_record, fuzz_auth,
# fuzz_eif, fuzz_cbor_nsm): hand-built items and images in the shapes the code writes (docs/testing.md).
import base64, struct, zlib


def b64(b):
    return base64.b64encode(b).decode()


def cbor(x):  # the subset the seeds need: uint, neg int, bytes, text, list, dict, bool, None
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    if x is None:
        return b"\xf6"
    if x is True or x is False:
        return b"\xf5" if x else b"\xf4"
    if isinstance(x, int):
        return head(0, x) if x >= 0 else head(1, -1 - x)
    if isinstance(x, bytes):
        return head(2, len(x)) + x
    if isinstance(x, str):
        return head(3, len(x.encode())) + x.encode()
    if isinstance(x, list):
        return head(4, len(x)) + b"".join(cbor(v) for v in x)
    return head(5, len(x)) + b"".join(cbor(k) + cbor(v) for k, v in x.items())


PK = bytes.fromhex("9612d7a727c9d0a22e185a1c768478dfe919cada9266988cb32359c11f2b7b27f4ae4040902382ae2910c15e2b420d07")
PKHEX = "0x" + PK.hex()


def key_item(status="active", origin="generated", extra=None):
    it = {"pk": {"S": PKHEX}, "status": {"S": status}, "status_shard": {"S": "%s#%02d" % (status, PK[47] % 16)},
          "sealed": {"B": b64(bytes([1]) + bytes(range(60)))}, "master_version": {"N": "1"},
          "origin": {"S": origin}, "created_at": {"S": "2026-11-26T00:00:00Z"}, "updated_at": {"S": "2026-11-26T00:00:01Z"}}
    it.update(extra or {})
    return json.dumps(it)


put("key_record", "generated.json", key_item(extra={"path": {"S": "m/12381/3600/0/0/0"},
                                                    "mnemonic_age": {"S": "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"}}))
put("key_record", "imported-inactive.json", key_item("inactive", "imported", {"master_version": {"N": "4294967295"}}))
put("key_record", "bad-shard.json", key_item(extra={"status_shard": {"S": "active#00"}}))


def shares(n):
    return {"L": [{"M": {"index": {"N": str(i + 1)}, "kms_key_arn": {"S": "arn:aws:kms:eu-west-1:111122223333:key/k%d" % i},
                         "blob": {"B": b64(bytes([i]) * 40)}}} for i in range(n)]}


def state_item(mode="kms", extra=None):
    it = {"pk": {"S": "STATE"}, "mode": {"S": mode}, "threshold": {"N": "2"}, "version": {"N": "1"},
          "check": {"B": b64(bytes(range(32)))}, "shares": shares(3),
          "created_at": {"S": "2026-11-26T00:00:00Z"}, "updated_at": {"S": "2026-11-26T00:00:00Z"}}
    it.update(extra or {})
    return it


def operator(i, name, kind=None):
    m = {"name": {"S": name}, "index": {"N": str(i)}, "registered": {"BOOL": kind is not None},
         "kind": {"S": kind or "none"}, "token_hash": {"B": b64(bytes([i]) * 32)}, "challenge": {"B": b64(bytes([i + 1]) * 32)}}
    if kind:
        m.update({"nonce": {"B": b64(bytes(12))}, "sealed": {"B": b64(bytes(48))}})
    if kind == "passphrase":
        m.update({"argon2_t": {"N": "3"}, "argon2_m_kib": {"N": "65536"}, "argon2_p": {"N": "1"}, "salt": {"B": b64(bytes(16))}})
    return {"M": m}


quorum = {"q_init_id": {"S": "0123456789abcdef0123456789abcdef"}, "q_revision": {"N": "2"}, "q_complete": {"BOOL": False},
          "q_threshold": {"N": "2"}, "q_argon2_t": {"N": "3"}, "q_argon2_m_kib": {"N": "65536"}, "q_argon2_p": {"N": "1"},
          "q_kms_check": {"B": b64(bytes(32))},
          "q_operators": {"L": [operator(1, "alice", "passphrase"), operator(2, "bob", "yubikey"), operator(3, "carol")]}}
pending = {"M": {"version": {"N": "2"}, "threshold": {"N": "2"}, "check": {"B": b64(bytes(32))}, "shares": shares(2),
                 "started_at": {"S": "2026-11-26T01:00:00Z"}, "to_mode": {"S": "kms"}}}
put("state_record", "kms.json", json.dumps(state_item()))
put("state_record", "quorum.json", json.dumps(state_item("quorum", quorum)))
put("state_record", "kms-pending.json", json.dumps(state_item(extra={"pending": pending, "revision": {"N": "3"}})))

RULE_KEY = PKHEX
auth_doc = {"policies": {
    "validators": {"rules": [{"effect": "allow", "scopes": ["sign", "public_keys"], "keys": [RULE_KEY.upper().replace("0X", "0x")],
                              "operations": ["BLOCK_V2", "ATTESTATION"]},
                             {"effect": "deny", "scopes": ["*"], "operations": ["VOLUNTARY_EXIT"]}]},
    "ops": {"rules": [{"effect": "allow", "scopes": ["*"]}, {"effect": "deny", "scopes": ["chamber_seal"], "keys": ["*"]}]}},
    "tokens": [{"id": "0123456789abcdef", "hash": "00" * 32, "root": False, "policies": ["validators", "ops"], "created_at": 1700000000, "expires_at": None},
               {"id": "fedcba9876543210", "hash": "11" * 32, "root": True, "policies": [], "created_at": 1700000000},
               {"id": "00000000000000aa", "hash": "22" * 32, "policies": ["validators", "gone"], "created_at": 1700000000, "expires_at": 1700000001},
               {"id": "00000000000000bb", "hash": "33" * 32, "policies": ["ops"], "created_at": 1700000000, "expires_at": 4000000000}]}
put("auth", "doc.json", json.dumps(auth_doc))
put("auth", "empty.json", "{}")
TOKEN = "cc-0123456789abcdef." + "ab" * 32
put("auth", "header-bearer.txt", "Bearer " + TOKEN)
put("auth", "header-basic.txt", "Basic " + b64(("user:" + TOKEN).encode()))


def eif(sections, version=4):
    hdr_len, body, offs, sizes, pos = 548, b"", [], [], 548
    for typ, data in sections:
        offs.append(pos)
        sizes.append(len(data))
        sec = struct.pack(">HHQ", typ, 0, len(data)) + data
        body += sec
        pos += len(sec)
    offs += [0] * (32 - len(offs))
    sizes += [0] * (32 - len(sizes))
    h = b".eif" + struct.pack(">HHQQHH", version, 0, 512 << 20, 2, 0, len(sections)) + struct.pack(">32Q", *offs) + \
        struct.pack(">32Q", *sizes) + struct.pack(">I", 0)
    crc = zlib.crc32(h)
    for typ, data in sections:
        crc = zlib.crc32(struct.pack(">HHQ", typ, 0, len(data)) + data, crc)
    return h + struct.pack(">I", crc & 0xffffffff) + body


basic = [(1, b"KERNEL" * 8), (2, b"console=ttyS0"), (3, b"RAMDISK1" * 4), (3, b"RAMDISK2" * 4)]
put("eif", "basic.eif", eif(basic))
put("eif", "metadata.eif", eif(basic + [(5, json.dumps({"ImageName": "cc", "ImageVersion": "1.0"}).encode())]))
put("eif", "bad-crc.eif", eif(basic)[:-1] + b"X")
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
import datetime
k = ec.generate_private_key(ec.SECP384R1())
name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "cc-fuzz")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(k.public_key()).serial_number(1)
        .not_valid_before(datetime.datetime(2026, 1, 1)).not_valid_after(datetime.datetime(2036, 1, 1)).sign(k, hashes.SHA384()))
pem = cert.public_bytes(serialization.Encoding.PEM)
pcrinfo = cbor({"register_index": 0, "register_value": bytes(48)})
sign1 = cbor([cbor({1: -35}), {}, pcrinfo, bytes(96)])
put("eif", "signed.eif", eif(basic + [(4, cbor([{"signing_certificate": list(pem), "signature": list(sign1)}]))]))

put("cbor_nsm", "describe.cbor", cbor({"DescribeNSM": {"version_major": 1, "version_minor": 0, "version_patch": 0,
                                                       "module_id": "i-0123456789abcdef0-enc0123456789abcdef", "max_pcrs": 32,
                                                       "locked_pcrs": [0, 1, 2, 3, 4], "digest": "SHA384"}}))
put("cbor_nsm", "attestation.cbor", cbor({"Attestation": {"document": sign1}}))
put("cbor_nsm", "random.cbor", cbor({"GetRandom": {"random": bytes(range(32))}}))
put("cbor_nsm", "random-short.cbor", cbor({"GetRandom": {"random": b"\x01\x02\x03"}}))
put("cbor_nsm", "error.cbor", cbor({"Error": "InvalidArgument"}))
put("cbor_nsm", "tagged-list.cbor", b"\xd8\x12" + cbor([1, -1, None, True]))
put("cbor_nsm", "float.cbor", b"\x82\xfb" + struct.pack(">d", 1.5) + b"\xf9\x3c\x00")
