#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan, see PALMVEIN_BUILD_FUZZERS in CMakeLists.txt)
# and runs each from its seed corpus (fuzz/corpus/<target>/; the template target also gets
# tests/core/golden/*.pvt).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]       short run, every target in turn (default 15; CI)
#   scripts/fuzz.sh --campaign [RUNS] [MAX_SECONDS] [TARGET...]
#                                              the campaign of docs/fuzzing.md: each target (default
#                                              all) in turn for RUNS executions (default 10000000) or
#                                              MAX_SECONDS (default 3600), whichever comes first, niced,
#                                              one at a time; corpora and logs in BUILD/campaign/.
# PALMVEIN_FUZZ_BUILD names the build folder (default build-fuzz).
# On a finding the run's report is printed and the reproducer is written to build-fuzz/findings/
# (reproduce with: build-fuzz/fuzz/fuzz_TARGET FILE); the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every fuzz target, once (fuzz/fuzz_<name>.cpp, seeds in fuzz/corpus/<name>/).
targets=(template image_decode manifest sensor_uri usb_frame gallery_row key_file)

campaign=0
if [ "${1:-}" = "--campaign" ]; then
  campaign=1
  runs="${2:-10000000}"
  max_seconds="${3:-3600}"
  if [ $# -gt 3 ]; then targets=("${@:4}"); fi
else
  seconds="${1:-15}"
fi
build="${PALMVEIN_FUZZ_BUILD:-build-fuzz}"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPALMVEIN_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
mkdir -p "$build/findings"

if [ "$campaign" = 1 ]; then
  work="$build/campaign"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

max_len() {  # TARGET: inputs of whole files get 64 KiB; text, key and USB-stream inputs need far less,
  # and longer inputs there only slow each execution (a 10 KB manifest runs at a third of the rate).
  case "$1" in
    template|image_decode|gallery_row) echo 65536 ;;
    *) echo 4096 ;;
  esac
}

seed_corpus() {  # TARGET DIR: copies the committed seeds into the run's corpus folder
  mkdir -p "$2"
  [ -d "fuzz/corpus/$1" ] && cp fuzz/corpus/"$1"/* "$2/"
  if [ "$1" = template ]; then cp tests/core/golden/*.pvt "$2/"; fi
  return 0
}

status=0
for target in "${targets[@]}"; do
  corpus="$work/$target"
  seed_corpus "$target" "$corpus"
  log="$work/$target.log"
  if [ "$campaign" = 1 ]; then
    echo "campaign: fuzz_$target for $runs runs or ${max_seconds}s"
    limits=(-runs="$runs" -max_total_time="$max_seconds")
    runner=(nice -n 10)
  else
    echo "fuzzing $target for ${seconds}s"
    limits=(-max_total_time="$seconds")
    runner=()
  fi
  # The run's whole log is kept; on a finding its report and the reproducer are shown, not hidden.
  start=$(date +%s)
  if "${runner[@]}" "$build/fuzz/fuzz_$target" "${limits[@]}" -max_len="$(max_len "$target")" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/findings/$target-" "$corpus" >"$log" 2>&1; then
    if [ "$campaign" = 1 ]; then
      echo "  wall $(( $(date +%s) - start ))s, corpus $(ls "$corpus" | wc -l) files"
      grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -n 1 || true
      grep -E '^stat::' "$log" || true
    else
      tail -n 4 "$log"
    fi
  else
    status=1
    echo "fuzz_$target FOUND A FAILURE:" >&2
    grep -v -e '^libpng error' -e '^Corrupt JPEG' -e 'OpenJPEG' -e '^$' -e '^#[0-9]' -e '^imdecode_' "$log" | tail -n 60 >&2
  fi
done
exit "$status"
