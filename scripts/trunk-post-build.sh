#!/usr/bin/env bash
# Trunk's post-build hook (Trunk.toml): wasm-opt on the SIMD128 module Trunk built, and three more
# builds of the wasm module next to it, each with its own JS glue (the glue names the module's
# closure shims by index, which differ between builds); npm/threads.js (through www/boot.js)
# picks one at load:
# - relaxed SIMD (scripts/build-relaxed.sh: the CPU engine's matrix products use
#   f32x4.relaxed_madd, a fused multiply-add where the CPU has one): vae-webgpu-relaxed.js and
#   _bg.wasm, where the browser validates relaxed SIMD;
# - threads (scripts/build-threads.sh): vae-webgpu-threads.js and _bg.wasm, where the page is
#   cross-origin isolated; the CPU engine then splits its work over Web Workers; and the same
#   with relaxed SIMD, vae-webgpu-threads-relaxed.js and _bg.wasm, where both hold.
# Release builds only (a debug `trunk serve` gets the SIMD128 module alone; boot.js falls back).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH" # wasm-opt (binaryen from npm)
if [[ "${TRUNK_PROFILE:-}" != "release" ]]; then
  echo "trunk-post-build: ${TRUNK_PROFILE:-debug} build, no relaxed-SIMD module"
  exit 0
fi
: "${TRUNK_STAGING_DIR:?run by trunk, as the post_build hook of Trunk.toml}"
# The SIMD128 module Trunk built is optimized here rather than by Trunk (www/index.html says
# data-wasm-opt="0"), through the same cache as the other two.
scripts/wasm-opt-cached.sh "$TRUNK_STAGING_DIR/vae-webgpu_bg.wasm" "$TRUNK_STAGING_DIR/vae-webgpu_bg.wasm" \
  -Oz --enable-simd --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue
echo "trunk-post-build: vae-webgpu_bg.wasm ($(wc -c < "$TRUNK_STAGING_DIR/vae-webgpu_bg.wasm") bytes)"

scripts/build-relaxed.sh "$TRUNK_STAGING_DIR"

rc=0
scripts/build-threads.sh "$TRUNK_STAGING_DIR" && scripts/build-threads.sh "$TRUNK_STAGING_DIR" relaxed || rc=$?
if [[ $rc == 3 ]]; then
  echo "trunk-post-build: no threads build (the pinned nightly is missing; scripts/setup.sh installs it): the page's CPU engine will run on one thread"
elif [[ $rc != 0 ]]; then
  exit "$rc"
fi
