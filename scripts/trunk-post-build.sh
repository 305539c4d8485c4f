#!/usr/bin/env bash
# Trunk's post-build hook (Trunk.toml): a second build of the wasm module with relaxed SIMD
# (+simd128,+relaxed-simd: matrixmultiply's kernel then uses f32x4.relaxed_madd, a fused
# multiply-add where the CPU has one), next to the SIMD128 module Trunk built, with its own JS
# glue (the glue names the module's closure shims by index, which differ between builds):
# vae-webgpu-relaxed.js and vae-webgpu-relaxed_bg.wasm. www/boot.js imports that pair where the
# browser validates relaxed SIMD. Release builds only (a debug `trunk serve` gets the SIMD128
# module alone; boot.js falls back).
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
wasm-bindgen --target web --no-typescript --out-dir "$OUT/bindgen" --out-name vae-webgpu-relaxed \
  "$OUT/wasm32-unknown-unknown/release/vae_webgpu.wasm"
cp "$OUT/bindgen/vae-webgpu-relaxed.js" "$TRUNK_STAGING_DIR/"
wasm-opt -Oz --enable-simd --enable-relaxed-simd --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types \
  --enable-multivalue \
  -o "$TRUNK_STAGING_DIR/vae-webgpu-relaxed_bg.wasm" "$OUT/bindgen/vae-webgpu-relaxed_bg.wasm"
echo "trunk-post-build: vae-webgpu-relaxed.js and _bg.wasm ($(wc -c < "$TRUNK_STAGING_DIR/vae-webgpu-relaxed_bg.wasm") bytes)"
