#!/usr/bin/env bash
# Trunk's post-build hook (Trunk.toml): a second build of the wasm module with relaxed SIMD
# (+simd128,+relaxed-simd: matrixmultiply's kernel then uses f32x4.relaxed_madd, a fused
# multiply-add where the CPU has one), next to the SIMD128 module Trunk built:
# vae-webgpu_bg.relaxed.wasm. www/boot.js loads it where the browser validates relaxed SIMD.
# The two modules share Trunk's JS glue; this checks that the glue wasm-bindgen writes for the
# relaxed build is the same file, so swapping the module is safe.
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
OUT="$ROOT/target/relaxed-simd"
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  cargo build --release --lib --target wasm32-unknown-unknown --target-dir "$OUT"
rm -rf "$OUT/bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$OUT/bindgen" --out-name vae-webgpu \
  "$OUT/wasm32-unknown-unknown/release/vae_webgpu.wasm"
if ! cmp -s "$OUT/bindgen/vae-webgpu.js" "$TRUNK_STAGING_DIR/vae-webgpu.js"; then
  echo "trunk-post-build: the relaxed build's JS glue differs from Trunk's; not shipping it" >&2
  diff "$OUT/bindgen/vae-webgpu.js" "$TRUNK_STAGING_DIR/vae-webgpu.js" | head -20 >&2
  exit 1
fi
wasm-opt -Oz --enable-simd --enable-relaxed-simd --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types \
  --enable-multivalue \
  -o "$TRUNK_STAGING_DIR/vae-webgpu_bg.relaxed.wasm" "$OUT/bindgen/vae-webgpu_bg.wasm"
echo "trunk-post-build: vae-webgpu_bg.relaxed.wasm ($(wc -c < "$TRUNK_STAGING_DIR/vae-webgpu_bg.relaxed.wasm") bytes)"
