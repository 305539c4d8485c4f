#!/usr/bin/env bash
# The one-thread relaxed-SIMD build of the wasm module (+simd128,+relaxed-simd: the CPU engine's
# matrix products use f32x4.relaxed_madd, a fused multiply-add where the CPU has one), with its
# own JS glue (the glue names the module's closure shims by index, which differ between builds):
# writes DEST/vae-webgpu-relaxed.js and DEST/vae-webgpu-relaxed_bg.wasm, which npm/threads.js
# loads where the browser validates relaxed SIMD. Used by Trunk's post-build hook (the page) and
# by scripts/build-npm.sh (the package); both build into the same target directory, so the
# second finds the first's build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:?usage: build-relaxed.sh DEST}"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH" # wasm-opt (binaryen from npm)
# Beside cargo's other builds (CARGO_TARGET_DIR when set: a clone that shares a target/ reuses them).
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/relaxed-simd"
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  cargo build --release --lib --target wasm32-unknown-unknown --target-dir "$OUT"
rm -rf "$OUT/bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$OUT/bindgen" --out-name vae-webgpu-relaxed \
  "$OUT/wasm32-unknown-unknown/release/vae_webgpu.wasm"
mkdir -p "$DEST"
cp "$OUT/bindgen/vae-webgpu-relaxed.js" "$DEST/"
scripts/wasm-opt-cached.sh "$OUT/bindgen/vae-webgpu-relaxed_bg.wasm" "$DEST/vae-webgpu-relaxed_bg.wasm" \
  -Oz --enable-simd --enable-relaxed-simd --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types \
  --enable-multivalue
echo "build-relaxed: vae-webgpu-relaxed.js and _bg.wasm in $DEST ($(wc -c < "$DEST/vae-webgpu-relaxed_bg.wasm") bytes)"
