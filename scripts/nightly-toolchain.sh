#!/usr/bin/env bash
# The pinned nightly Rust that builds the threads build of the wasm module (std rebuilt with
# atomics: `-Z build-std` needs a nightly and its rust-src; scripts/trunk-post-build.sh). Prints
# the toolchain's name for `cargo +NAME`. With --install, installs what is missing (the dated
# nightly, minimal profile, and rust-src: ~250 MB from static.rust-lang.org, once); without, exits
# 1 and says what to run when it is missing.
# The date is pinned: a nightly's unstable flags change; bump it here after checking the build.
set -euo pipefail
DATE=2026-05-19
PINNED="nightly-$DATE"

have_rust_src() { [[ -d "$(rustup run "$1" rustc --print sysroot)/lib/rustlib/src/rust/library" ]]; }

# A machine whose plain `nightly` is that date (its image may carry one) uses it as is.
pick() {
  if rustup run "$PINNED" rustc -V >/dev/null 2>&1; then
    echo "$PINNED"
  elif rustup run nightly rustc -V 2>/dev/null | grep -q "$DATE)"; then
    echo nightly
  fi
}

TC="$(pick)"
if [[ "${1:-}" == "--install" ]]; then
  if [[ -z "$TC" ]]; then
    echo "nightly-toolchain: rustup toolchain install $PINNED (the threads build)" >&2
    rustup toolchain install "$PINNED" --profile minimal --component rust-src >&2
    TC="$PINNED"
  fi
  if ! have_rust_src "$TC"; then
    echo "nightly-toolchain: rustup component add rust-src --toolchain $TC" >&2
    rustup component add rust-src --toolchain "$TC" >&2
  fi
elif [[ -z "$TC" ]] || ! have_rust_src "$TC"; then
  echo "nightly-toolchain: $PINNED with rust-src is missing; run scripts/setup.sh (or $0 --install)" >&2
  exit 1
fi
echo "$TC"
