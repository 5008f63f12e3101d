// eif_build.mjs — assembles a test EIF from the documented format (NOTES §8.1)
// and prints the measurements computed here, with node's crypto, independently
// of src/enclave/eif.c:
//   node eif_build.mjs OUT.eif [--ramdisks N] [--sign CERT.pem KEY.pem] [--metadata] [--corrupt-crc]
// stdout: {"PCR0":…, "PCR1":…, "PCR2":…, "PCR8":… (signed), "crc": n}
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const out = args[0];
let ramdisks = 2, signCert = null, signKey = null, corrupt = false, metadata = false;
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--ramdisks') ramdisks = Number(args[++i]);
  else if (args[i] === '--sign') { signCert = args[++i]; signKey = args[++i]; }
  else if (args[i] === '--corrupt-crc') corrupt = true;
  else if (args[i] === '--metadata') metadata = true;
  else throw new Error('unknown option ' + args[i]);
}

const sha384 = (b) => createHash('sha384').update(b).digest();
const extend = (data) => sha384(Buffer.concat([Buffer.alloc(48), sha384(data)])).toString('hex');

// CRC-32/IEEE (reflected, poly 0xEDB88320), table-driven.
const table = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (bufs) => { let c = 0xffffffff; for (const b of bufs) for (const x of b) c = table[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };

// Minimal CBOR encoder (definite lengths).
const head = (major, n) => {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
};
const cbor = (v) => {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') { const s = Buffer.from(v); return Buffer.concat([head(3, s.length), s]); }
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  const ks = Object.keys(v);
  return Buffer.concat([head(5, ks.length), ...ks.flatMap((k) => [cbor(k), cbor(v[k])])]);
};
const serdeBytes = (b) => [...b]; // serde_cbor writes Vec<u8> as an array of integers

const kernel = Buffer.from('test kernel image '.repeat(300));
const cmdline = Buffer.from('reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on root=/dev/ram0');
const rds = Array.from({ length: ramdisks }, (_, i) => Buffer.from(`ramdisk ${i} `.repeat(200 + 37 * i)));
const sections = [[1, kernel], [2, cmdline], ...rds.map((r) => [3, r])];

const pcr0 = extend(Buffer.concat([kernel, cmdline, ...rds]));
const pcr1 = extend(Buffer.concat([kernel, cmdline, rds[0]]));
const pcr2 = extend(Buffer.concat(rds.slice(1)));
const result = { PCR0: pcr0, PCR1: pcr1, PCR2: pcr2 };

if (signCert) {
  const { readFileSync } = await import('node:fs');
  const pem = readFileSync(signCert);
  const key = createPrivateKey(readFileSync(signKey));
  const prot = Buffer.from([0xa1, 0x01, 0x38, 0x22]); // {1: -35} (ES384)
  const payload = cbor({ register_index: 0, register_value: serdeBytes(Buffer.from(pcr0, 'hex')) });
  const tbs = cbor(['Signature1', prot, Buffer.alloc(0), payload]);
  const sig = sign('sha384', tbs, { key, dsaEncoding: 'ieee-p1363' });
  const cose = Buffer.concat([head(4, 4), cbor(prot), head(5, 0), cbor(payload), cbor(sig)]);
  sections.push([4, cbor([{ signing_certificate: serdeBytes(pem), signature: serdeBytes(cose) }])]);
  result.PCR8 = extend(new X509Certificate(pem).raw);
}
if (metadata)
  sections.push([5, Buffer.from(JSON.stringify({ ImageName: 'containment-chamber', ImageVersion: '0.1.0', BuildMetadata: { BuildTool: 'test' } }))]);

const header = Buffer.alloc(548);
header.write('.eif', 0, 'latin1');
header.writeUInt16BE(4, 4);
header.writeUInt16BE(0, 6);
header.writeBigUInt64BE(512n, 8);
header.writeBigUInt64BE(2n, 16);
header.writeUInt16BE(sections.length, 26);
const parts = [];
let pos = 548;
sections.forEach(([type, data], i) => {
  const sh = Buffer.alloc(12);
  sh.writeUInt16BE(type, 0);
  sh.writeBigUInt64BE(BigInt(data.length), 4);
  header.writeBigUInt64BE(BigInt(pos), 28 + 8 * i);
  header.writeBigUInt64BE(BigInt(data.length), 284 + 8 * i);
  parts.push(sh, data);
  pos += 12 + data.length;
});
let crc = crc32([header.subarray(0, 544), ...parts]);
if (corrupt) crc = (crc ^ 1) >>> 0;
header.writeUInt32BE(crc, 544);
writeFileSync(out, Buffer.concat([header, ...parts]));
result.crc = crc;
console.log(JSON.stringify(result));
