#!/usr/bin/env bash
# Fuzzes the parsers a user can reach (IDX raw and gzip, datasets, checkpoints, configs) with
# cargo fuzz (libFuzzer + AddressSanitizer), each target for a bounded time:
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
# Seeds live in fuzz/corpus/<target>/seed-*; inputs the fuzzer finds are kept beside them (not
# committed). A crash is saved under fuzz/artifacts/<target>/ and the script fails: copy it to
# fuzz/corpus/<target>/regression-<name> so tests/fuzz_corpus.rs replays it on every cargo test.
# cargo fuzz needs nightly features: a nightly toolchain is used when rustup has one, otherwise
# the stable one with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx idx_gzip dataset checkpoint config)

if ! cargo fuzz --version 2>/dev/null | grep -q '0.13.2'; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi

for t in "${targets[@]}"; do
  echo "== fuzz $t for ${secs}s (seeds: $(ls fuzz/corpus/"$t"/seed-* | wc -l))"
  # -rss_limit_mb / -malloc_limit_mb: any single allocation or total past these is a finding.
  cargo "${toolchain[@]}" fuzz run "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
    -print_final_stats=1 2>&1 | grep -E '^(#[0-9]+: |stat::|==|SUMMARY|Done|INFO: (Loaded|seed corpus))|panicked|ERROR' | tail -n 12
  echo "   corpus now $(ls fuzz/corpus/"$t" | wc -l) inputs"
done
