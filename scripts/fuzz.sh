#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each briefly from a seed corpus.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPALMVEIN_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/template" "$work/image"
cp tests/core/golden/*.pvt "$work/template/" 2>/dev/null || true
cp fuzz/corpus/image/* "$work/image/"
for target in template image_decode; do
  corpus="$work/${target%%_*}"
  echo "fuzzing $target for ${seconds}s"
  "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
      -print_final_stats=1 "$corpus" 2>&1 | tail -n 4
done
