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
status=0
for target in template image_decode; do
  corpus="$work/${target%%_*}"
  echo "fuzzing $target for ${seconds}s"
  # The run's whole log is kept; on a finding its report and the reproducer (written to
  # build-fuzz/findings/, reproduce with: build-fuzz/fuzz/fuzz_TARGET FILE) are shown, not hidden.
  mkdir -p "$build/findings"
  if "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/findings/$target-" "$corpus" >"$work/$target.log" 2>&1; then
    tail -n 4 "$work/$target.log"
  else
    status=1
    echo "fuzz_$target FOUND A FAILURE:" >&2
    grep -v -e '^libpng error' -e '^Corrupt JPEG' -e 'OpenJPEG' -e '^$' -e '^#[0-9]' "$work/$target.log" | tail -n 60 >&2
  fi
done
exit "$status"
