#!/usr/bin/env bash
# `make run`: starts containment-chamber on 127.0.0.1:9000 with a few demo
# keys (the well-known, INSECURE interop keys — never use them for real
# stake), filesystem keystores and SQLite anti-slashing, all under ./demo.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/build/containment-chamber"
demo="$top/demo"
mkdir -p "$demo"

if [ ! -d "$demo/keys" ]; then
    echo "demo: writing 4 INSECURE demo keystores (interop keys 0-3) to demo/keys"
    "$bin" keystore generate --out-dir "$demo/keys" --count 4 --interop --kdf pbkdf2 --light >/dev/null
fi
cat > "$demo/config.yaml" <<YAML
# Demo configuration written by 'make run'. See config.example.yaml for every key.
server:
  listen_address: 127.0.0.1
  listen_port: 9000
metrics:
  listen_address: 127.0.0.1
  listen_port: 3000
network: mainnet
key_sources:
  filesystem:
    paths: [$demo/keys]
anti_slashing:
  backend: sqlite
  path: $demo/slashing_protection.sqlite
YAML

pk=$(ls "$demo/keys"/*.yaml | head -n 1 | xargs -n1 basename | sed 's/\.yaml$//')
cat <<MSG

containment-chamber demo — INSECURE demo keys, for trying the API only.

  Point a validator client at it:
    Lighthouse:  --web3signer-url http://127.0.0.1:9000   (validator_definitions.yml type: web3signer)
    Teku:        --validators-external-signer-url=http://127.0.0.1:9000 --validators-external-signer-public-keys=external-signer
    Prysm:       --validators-external-signer-url=http://127.0.0.1:9000 --validators-external-signer-public-keys=http://127.0.0.1:9000/api/v1/eth2/publicKeys
    Nimbus:      --web3-signer-url=http://127.0.0.1:9000
    Lodestar:    --externalSigner.url http://127.0.0.1:9000 --externalSigner.fetch

  List the keys:
    curl -s http://127.0.0.1:9000/api/v1/eth2/publicKeys

  Sign a mainnet attestation (run it twice: the identical re-request is allowed):
    curl -s -X POST http://127.0.0.1:9000/api/v1/eth2/sign/$pk \\
      -H 'Content-Type: application/json' -H 'Accept: application/json' \\
      -d '{"type":"ATTESTATION","fork_info":{"fork":{"previous_version":"0x04000000","current_version":"0x05000000","epoch":"364032"},"genesis_validators_root":"0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"},"attestation":{"slot":"11999968","index":"0","beacon_block_root":"0x$(printf 'ab%.0s' $(seq 32))","source":{"epoch":"374998","root":"0x$(printf 'cd%.0s' $(seq 32))"},"target":{"epoch":"374999","root":"0x$(printf 'ef%.0s' $(seq 32))"}}}'

  Change the target root and send it again: 412, a double vote refused.
  Stop with Ctrl-C.

MSG
exec "$bin" server -c "$demo/config.yaml"
