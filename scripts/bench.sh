#!/usr/bin/env bash
# The benchmarks (figures only, nothing asserted; not part of scripts/test.sh):
#   1. native: vae-bench on the first wgpu adapter (lavapipe without a GPU): samples/s, useful
#      GFLOP/s and its % of the adapter's FMA peak (probe.wgsl), dispatches per step, CPU time
#      per step, each stage of a step on its own, every GEMM shape in both forms;
#   2. browser: tests/bench/run.mjs in headless Chromium (SwiftShader WebGPU without a GPU):
#      vae-webgpu against TensorFlow.js 4.22's wasm, webgl and webgpu backends on the same
#      MNIST batches, with ratios and the loss each reaches, then vae-webgpu's step stage by
#      stage against the adapter's FMA peak (Trainer.profileStep).
# Medians of RUNS runs (default 5) with min and max. Output: target/bench/{native,browser}.txt
# and target/bench/browser.json. Usage: scripts/bench.sh [native|browser|all]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
what="${1:-all}"
runs="${RUNS:-5}"
scripts/setup.sh --browser
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export PATH="$ROOT/node_modules/.bin:$PATH"
mkdir -p target/bench
if [ "$what" = native ] || [ "$what" = all ]; then
  echo "=== native: vae-bench ($runs runs) ==="
  cargo run --release --bin vae-bench -- --runs "$runs" --steps 100 | tee target/bench/native.txt
fi
if [ "$what" = browser ] || [ "$what" = all ]; then
  echo "=== browser: vae-webgpu vs TensorFlow.js ($runs runs) ==="
  trunk build --release
  node tests/bench/run.mjs --runs "$runs" --steps 20 --loss-steps 30 | tee target/bench/browser.txt
fi
