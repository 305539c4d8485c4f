#!/usr/bin/env bash
# wasm-opt with a cache: `wasm-opt-cached.sh IN OUT FLAGS...` writes OUT as `wasm-opt FLAGS IN`
# would, but when the same input was optimized before with the same flags and the same wasm-opt,
# it copies that result instead (≈ 20 s saved per module on this 2-core machine). The page's
# three modules are optimized here (scripts/trunk-post-build.sh, scripts/build-threads.sh), so a
# change to the page's HTML, CSS or JS under `trunk serve --release` rebuilds in seconds, and a
# second clone sharing the target directory (tests/e2e/fresh.test.mjs) optimizes nothing again.
# The cache is CARGO_TARGET_DIR (or target/)/wasm-opt-cache; the 12 newest results are kept.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IN="${1:?usage: wasm-opt-cached.sh IN OUT FLAGS...}"
OUT="${2:?usage: wasm-opt-cached.sh IN OUT FLAGS...}"
shift 2
export PATH="$ROOT/node_modules/.bin:$PATH" # binaryen from npm (package.json)
CACHE="${CARGO_TARGET_DIR:-$ROOT/target}/wasm-opt-cache"
mkdir -p "$CACHE"
KEY="$({ wasm-opt --version; printf '%s\n' "$@"; sha256sum < "$IN"; } | sha256sum | cut -c1-40)"
HIT="$CACHE/$KEY.wasm"
if [[ -s "$HIT" ]]; then
  cp "$HIT" "$OUT.tmp"
  touch "$HIT"
  echo "wasm-opt-cached: $(basename "$OUT") unchanged input, optimized copy reused"
else
  wasm-opt "$@" -o "$OUT.tmp" "$IN"
  # A name of its own per process: two builds filling the same entry never mix their bytes.
  cp "$OUT.tmp" "$HIT.$$.tmp" && mv "$HIT.$$.tmp" "$HIT"
  # Keep the 12 newest results.
  ls -t "$CACHE"/*.wasm 2>/dev/null | tail -n +13 | xargs -r rm -f
fi
mv "$OUT.tmp" "$OUT"
