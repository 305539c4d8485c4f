#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, fetch MNIST, and train the VAE on the
# GPU (lavapipe when there is none) with the PyTorch reference's settings. Extra arguments go to
# vae-train, e.g. scripts/run.sh --epochs 1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
exec cargo run --release --bin vae-train -- --data data/mnist --out results "$@"
