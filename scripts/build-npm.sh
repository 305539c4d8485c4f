#!/usr/bin/env bash
# Builds the npm package into pkg/ with wasm-pack (release, ES module for browsers), using
# binaryen's wasm-opt from node_modules (no download), then puts the npm README in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name vae_webgpu
cp npm/README.md pkg/README.md
cp npm/index.js npm/index.d.ts npm/trainer.js npm/spawn.js npm/host.js npm/worker.js pkg/
cp LICENSE-MIT LICENSE-APACHE pkg/
node scripts/npm-fields.mjs pkg/package.json
echo "build-npm: package ready in pkg/ ($(node -p "require('./pkg/package.json').name + '@' + require('./pkg/package.json').version"))"
