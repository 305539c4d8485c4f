#!/usr/bin/env bash
# Every test: sets up what is missing, then formatting, clippy (native and wasm32), the wasm32
# build, the native test suite on wgpu (lavapipe when there is no GPU), and the full-MNIST epoch.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

step() { echo; echo "=== $* ==="; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native)"
cargo clippy --release --all-targets -- -D warnings
step "cargo clippy (wasm32-unknown-unknown)"
cargo clippy --release --target wasm32-unknown-unknown --all-targets -- -D warnings
step "cargo check --target wasm32-unknown-unknown"
cargo check --release --target wasm32-unknown-unknown
step "cargo test (native; GPU tests on the first adapter found)"
cargo test --release
step "full MNIST epoch (ignored by default)"
cargo test --release --test vae_step -- --ignored --nocapture
