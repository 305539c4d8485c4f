#!/usr/bin/env bash
# The native trainer on a fresh machine: install what is missing, fetch MNIST, and train with the
# PyTorch reference's settings (PNGs and checkpoints in results/). Arguments go to vae-train.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh --native
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
exec cargo run --release --bin vae-train -- --data data/mnist --out results "$@"
