#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a bounded time.
#
#   fuzz/run.sh            build and replay the seed corpus (CI)
#   fuzz/run.sh 60         also fuzz each target for 60 seconds
#
# With cargo-fuzz and a nightly toolchain, it uses `cargo +nightly fuzz`
# (which adds AddressSanitizer). Otherwise it builds on stable with the same
# coverage instrumentation cargo-fuzz uses (SanitizerCoverage via
# -Cpasses=sancov-module, all stable codegen flags), so libFuzzer is
# coverage-guided there too; only the sanitizer is missing, which for this
# crate (#![forbid(unsafe_code)]) matters little. `--target` keeps the
# instrumentation out of build scripts, which would not link with it.
#
# New inputs go to fuzz/corpus/<target> and crashes to
# fuzz/artifacts/<target> (both gitignored); tests/fuzz_seeds.rs replays both
# along with fuzz/seeds/<target> on `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-0}"
targets=(parse parse_eval differential inventory fleet_json)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

if command -v cargo-fuzz >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q nightly; then
  for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    cargo +nightly fuzz build "$t"
    if [ "$seconds" -gt 0 ]; then
      cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$seconds"
    else
      cargo +nightly fuzz run "$t" "seeds/$t" -- -runs=0
    fi
  done
  exit 0
fi

host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --target "$host"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  bin="$CARGO_TARGET_DIR/$host/release/$t"
  if [ "$seconds" -gt 0 ]; then
    "$bin" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" -max_len=4096 "corpus/$t" "seeds/$t"
  else
    # -runs=0: execute every seed once, then stop.
    "$bin" -artifact_prefix="artifacts/$t/" -runs=0 "seeds/$t"
  fi
done
