#!/usr/bin/env bash
# Builds the npm package into pkg/ with wasm-pack (release, ES module for browsers), using
# binaryen's wasm-opt from node_modules (no download), the JS API of npm/ beside it and the
# other builds npm/threads.js chooses from (relaxed SIMD: scripts/build-relaxed.sh; threads,
# SIMD128 and relaxed: scripts/build-threads.sh), then puts the npm README in place.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name vae_webgpu
cp npm/README.md pkg/README.md
cp npm/index.js npm/index.d.ts npm/trainer.js npm/spawn.js npm/host.js npm/worker.js npm/threads.js \
  npm/cpu-worker.js npm/cpu-worker-relaxed.js npm/cpu-thread.js pkg/
scripts/build-relaxed.sh pkg
# The threads builds beside it (worker.js loads one where the page is cross-origin isolated).
rc=0
scripts/build-threads.sh pkg && scripts/build-threads.sh pkg relaxed || rc=$?
if [[ $rc == 3 ]]; then
  echo "build-npm: the threads build needs the pinned nightly Rust; run scripts/setup.sh" >&2
fi
[[ $rc == 0 ]] || exit "$rc"
cp LICENSE-MIT LICENSE-APACHE pkg/
node scripts/npm-fields.mjs pkg/package.json
echo "build-npm: package ready in pkg/ ($(node -p "require('./pkg/package.json').name + '@' + require('./pkg/package.json').version"))"
