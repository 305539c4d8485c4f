#!/usr/bin/env bash
# Trunk's post-build hook (Trunk.toml): two more builds of the wasm module next to the SIMD128
# one Trunk built, each with its own JS glue (the glue names the module's closure shims by
# index, which differ between builds); www/boot.js picks one at load:
# - relaxed SIMD (+simd128,+relaxed-simd: matrixmultiply's kernel then uses f32x4.relaxed_madd,
#   a fused multiply-add where the CPU has one): vae-webgpu-relaxed.js and _bg.wasm, where the
#   browser validates relaxed SIMD;
# - threads (+simd128,+atomics on a shared, imported memory; std rebuilt with atomics, which
#   needs the pinned nightly of scripts/nightly-toolchain.sh): vae-webgpu-threads.js and
#   _bg.wasm, where the page is cross-origin isolated; the CPU engine then splits its work over
#   Web Workers (www/cpu-worker.js, src/cpu/pool.rs). Same SIMD128 arithmetic as the plain
#   build, so the same run bit for bit.
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
# Beside cargo's other builds (CARGO_TARGET_DIR when set: a clone that shares a target/ reuses them).
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/relaxed-simd"
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

if ! NIGHTLY="$(scripts/nightly-toolchain.sh)"; then
  echo "trunk-post-build: no threads build (the pinned nightly is missing; scripts/setup.sh installs it): the page's CPU engine will run on one thread"
  exit 0
fi
OUT="$TARGET/threads"
# --max-memory: a shared memory must declare its maximum (2 GiB: the dataset, a model and the
# display buffers fit many times); the TLS exports are what wasm-bindgen's thread glue needs.
RUSTFLAGS="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
  -C link-arg=--shared-memory -C link-arg=--max-memory=2147483648 -C link-arg=--import-memory \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base" \
  cargo "+$NIGHTLY" build --release --lib --target wasm32-unknown-unknown \
  -Z build-std=panic_abort,std --target-dir "$OUT"
rm -rf "$OUT/bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$OUT/bindgen" --out-name vae-webgpu-threads \
  "$OUT/wasm32-unknown-unknown/release/vae_webgpu.wasm"
cp "$OUT/bindgen/vae-webgpu-threads.js" "$TRUNK_STAGING_DIR/"
wasm-opt -Oz --enable-simd --enable-threads --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types \
  --enable-multivalue \
  -o "$TRUNK_STAGING_DIR/vae-webgpu-threads_bg.wasm" "$OUT/bindgen/vae-webgpu-threads_bg.wasm"
echo "trunk-post-build: vae-webgpu-threads.js and _bg.wasm ($(wc -c < "$TRUNK_STAGING_DIR/vae-webgpu-threads_bg.wasm") bytes)"
