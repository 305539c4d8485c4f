#!/usr/bin/env bash
# The threads build of the wasm module (+simd128,+atomics on a shared, imported memory; std
# rebuilt with atomics, which needs the pinned nightly of scripts/nightly-toolchain.sh), with its
# own JS glue: writes DEST/vae-webgpu-threads.js and DEST/vae-webgpu-threads_bg.wasm. The CPU
# engine then splits its work over Web Workers (npm/cpu-worker.js, npm/threads.js,
# src/cpu/pool.rs). Same SIMD128 arithmetic as the plain build, so the same run bit for bit.
# Used by Trunk's post-build hook (the page) and by scripts/build-npm.sh (the package); both
# build into the same target directory, so the second finds the first's build.
# With `relaxed` as its second argument, the same with relaxed SIMD as well (the CPU engine's
# matrix products then use f32x4.relaxed_madd, a fused multiply-add where the CPU has one):
# DEST/vae-webgpu-threads-relaxed.js and _bg.wasm, which npm/threads.js loads where the browser
# validates relaxed SIMD (the page and the npm package ship both).
# Exits 3, saying so, when the pinned nightly is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:?usage: build-threads.sh DEST [relaxed]}"
NAME=vae-webgpu-threads
FEATURES=+simd128,+atomics,+bulk-memory,+mutable-globals
OPT_FEATURES=(--enable-simd --enable-threads)
if [[ "${2:-}" == relaxed ]]; then
  NAME=vae-webgpu-threads-relaxed
  FEATURES="$FEATURES,+relaxed-simd"
  OPT_FEATURES+=(--enable-relaxed-simd)
fi
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH" # wasm-opt (binaryen from npm)
if ! NIGHTLY="$(scripts/nightly-toolchain.sh)"; then
  exit 3
fi
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/${NAME#vae-webgpu-}"
# --max-memory: a shared memory must declare its maximum (2 GiB: the dataset, a model and the
# display buffers fit many times); the TLS exports are what wasm-bindgen's thread glue needs.
RUSTFLAGS="-C target-feature=$FEATURES \
  -C link-arg=--shared-memory -C link-arg=--max-memory=2147483648 -C link-arg=--import-memory \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base" \
  cargo "+$NIGHTLY" build --release --lib --target wasm32-unknown-unknown \
  -Z build-std=panic_abort,std --target-dir "$OUT"
rm -rf "$OUT/bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$OUT/bindgen" --out-name "$NAME" \
  "$OUT/wasm32-unknown-unknown/release/vae_webgpu.wasm"
mkdir -p "$DEST"
cp "$OUT/bindgen/$NAME.js" "$DEST/"
scripts/wasm-opt-cached.sh "$OUT/bindgen/${NAME}_bg.wasm" "$DEST/${NAME}_bg.wasm" \
  -Oz "${OPT_FEATURES[@]}" --enable-bulk-memory --enable-sign-ext \
  --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types \
  --enable-multivalue
echo "build-threads: $NAME.js and _bg.wasm in $DEST ($(wc -c < "$DEST/${NAME}_bg.wasm") bytes)"
