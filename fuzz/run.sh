#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a bounded time.
#
#   fuzz/run.sh            build on stable and replay the seed corpus (CI)
#   fuzz/run.sh 60         also fuzz each target for 60 seconds
#
# With a nightly toolchain and cargo-fuzz installed (`cargo install
# cargo-fuzz`), the targets are built with coverage instrumentation and
# sanitizers, which is what finds new inputs:
#
#   cargo +nightly fuzz run parse fuzz/seeds/parse -- -max_total_time=60
#
# Without them, the stable build below still links libFuzzer and runs the
# targets: it replays inputs and mutates them, but without coverage feedback
# it explores far less. New inputs go to fuzz/corpus/<target> (gitignored);
# crashes to fuzz/artifacts/<target>. tests/fuzz_seeds.rs replays both.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-0}"
targets=(parse parse_eval)
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

cargo build --release
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  bin="$CARGO_TARGET_DIR/release/$t"
  if [ "$seconds" -gt 0 ]; then
    "$bin" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" "corpus/$t" "seeds/$t"
  else
    # -runs=0: execute every seed once, then stop.
    "$bin" -artifact_prefix="artifacts/$t/" -runs=0 "seeds/$t"
  fi
done
