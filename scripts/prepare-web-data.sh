#!/usr/bin/env bash
# Gzips the MNIST IDX files from data/mnist into www/data (served beside the page; the browser
# decompresses them with DecompressionStream). A no-op when they are there and up to date.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/data/mnist"
DEST="$ROOT/www/data"
mkdir -p "$DEST"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [[ -f "$SRC/$f" ]] || { echo "prepare-web-data: $SRC/$f missing; run scripts/fetch-mnist.sh" >&2; exit 1; }
  if [[ ! -f "$DEST/$f.gz" || "$SRC/$f" -nt "$DEST/$f.gz" ]]; then
    gzip -9 -n -c "$SRC/$f" > "$DEST/$f.gz.tmp"
    mv "$DEST/$f.gz.tmp" "$DEST/$f.gz"
  fi
done
echo "prepare-web-data: MNIST (gzip IDX) ready in $DEST"
