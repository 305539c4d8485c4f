#!/usr/bin/env bash
# The benchmarks (figures only, nothing asserted; not part of scripts/test.sh):
#   1. native: vae-bench on the first wgpu adapter (lavapipe without a GPU): samples/s, useful
#      GFLOP/s and its % of the adapter's FMA peak (probe.wgsl), dispatches per step, CPU time
#      per step, each stage of a step on its own, every GEMM shape in every form the adapter runs;
#      then the PyTorch reference VAE on the CPU with as many threads as cores
#      (tests/bench/pytorch_vae.py, torch from PyPI in the local venv target/bench/torch-venv,
#      ≈4 GB with its CUDA wheels, installed on first use; NO_TORCH=1 skips it), and the ratio;
#   2. browser: tests/bench/run.mjs in headless Chromium (SwiftShader WebGPU without a GPU):
#      vae-webgpu's WebGPU and CPU engines against TensorFlow.js 4.22's wasm, webgl and webgpu
#      backends and jax-js 0.1.25's wasm and webgpu devices on the same MNIST batches, in
#      alternating rounds, cross-origin isolated (the peers' wasm may use threads), with ratios
#      and the loss each reaches, then each vae-webgpu engine's step stage by stage against its
#      multiply-add peak (Trainer.profileStep).
# Medians of RUNS runs (default 5) with min and max. Output: target/bench/{native,browser}.txt
# target/bench/pytorch.json and target/bench/browser.json. Usage: scripts/bench.sh [native|browser|all]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
what="${1:-all}"
runs="${RUNS:-5}"
TORCH=2.15.0 # the PyTorch the README's native comparison was measured with
scripts/setup.sh --browser
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export PATH="$ROOT/node_modules/.bin:$PATH"
mkdir -p target/bench
if [ "$what" = native ] || [ "$what" = all ]; then
  echo "=== native: vae-bench ($runs runs) ==="
  cargo run --release --bin vae-bench -- --runs "$runs" --steps 100 | tee target/bench/native.txt
  if [ "${NO_TORCH:-0}" != 1 ]; then
    venv=target/bench/torch-venv
    if ! "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
      echo "installing torch $TORCH into $venv (PyPI's Linux wheel: ≈4 GB with its CUDA libraries)"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --progress-bar off "torch==$TORCH" numpy
    fi
    echo "=== native: PyTorch on the CPU ($runs runs, $(nproc) threads) ==="
    "$venv/bin/python" tests/bench/pytorch_vae.py --runs "$runs" --steps 100 --threads "$(nproc)" \
      --json target/bench/pytorch.json | tee target/bench/pytorch.txt
    ours=$(sed -n 's/^| training samples\/s[^|]*| \([0-9.]*\) |.*/\1/p' target/bench/native.txt)
    theirs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["median"])' target/bench/pytorch.json)
    python3 -c 'import sys; o, t = map(float, sys.argv[1:]); print(f"vae-webgpu native {o:.0f} samples/s ÷ PyTorch CPU {t:.0f} samples/s = {o / t:.2f}×")' \
      "$ours" "$theirs" | tee -a target/bench/pytorch.txt
  fi
fi
if [ "$what" = browser ] || [ "$what" = all ]; then
  echo "=== browser: vae-webgpu vs TensorFlow.js ($runs runs) ==="
  trunk build --release
  node tests/bench/run.mjs --runs "$runs" --steps 20 --loss-steps 30 | tee target/bench/browser.txt
fi
