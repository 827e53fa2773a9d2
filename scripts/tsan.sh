#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the threaded parts of palmvein with ThreadSanitizer and runs their tests: the 1:N index and
# its thread pool, the capture pipeline (FrameStream, hotplug, the USB drivers' event threads), the
# gallery with concurrent readers and a writer, and the multi-threaded evaluation. Any data race,
# lock-order inversion or misuse of a mutex fails the run (halt_on_error). Races inside third-party
# libraries only are suppressed in scripts/tsan.supp, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-tsan
# Tests that start threads of their own or in the library. Everything else is single-threaded and
# is covered by scripts/sanitize.sh.
tests=(test_identification test_enrollment test_gallery_store test_gallery_concurrency
       test_virtual_sensor test_registry test_evaluation test_myid_usb test_uvc_usb)
# PALMVEIN_TSAN_APPS=1 adds the CLI: its capture pipeline (grab, assess and PNG-writer threads) and the
# short soak (scripts/soak.py: CLI readers and a writer on one gallery). It is off by default because
# the CLI under TSan takes about 7 more minutes to build on a 2-core machine.
apps=OFF
programs=()  # what the ctests above run besides test binaries
if [ "${PALMVEIN_TSAN_APPS:-0}" = "1" ]; then
  apps=ON
  tests+=(cli_capture_virtual cli_capture_unplug soak_short)
  programs+=(palmvein_cli gallery_soak_reader)
fi
# GCC 12 and clang 14 both work here; GCC is the compiler of the normal build. Benchmarks and
# fuzzers are not built.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPALMVEIN_TSAN=ON \
      -DPALMVEIN_BUILD_BENCHMARKS=OFF -DPALMVEIN_BUILD_FUZZERS=OFF -DPALMVEIN_BUILD_APPS=$apps >/dev/null
# test_myid_usb/test_uvc_usb are not build targets when umockdev is missing (they report "skipped").
all_targets=$(ninja -C "$build" -t targets all)
targets=("${programs[@]}")
for t in "${tests[@]}"; do
  if grep -q "^$t:" <<<"$all_targets"; then targets+=("$t"); fi
done
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/scripts/tsan.supp"
# The real-data tests repeat the synthetic ones on large sets: too slow under TSan, and they start
# no other threads.
export GTEST_FILTER="-*RealData*"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" -R "$regex"
