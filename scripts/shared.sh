#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds palmvein as shared libraries (-DBUILD_SHARED_LIBS=ON, warnings as errors) and runs the whole
# test suite against them, then checks that each library has a versioned SONAME and exports its
# API only, nothing of lib/src, drivers/src or palmvein_tools (issue #10). White-box tests link static *_internal twins (see lib/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-shared
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DPALMVEIN_WERROR=ON \
      -DPALMVEIN_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)"
for lib in lib/libpalmvein.so lib/gallery/libpalmvein_gallery.so drivers/libpalmvein_drivers.so; do
  soname=$(objdump -p "$build/$lib" | awk '/SONAME/ {print $2}')
  case "$soname" in
    lib*.so.[0-9]*) ;;
    *) echo "$lib: no versioned SONAME (got '$soname')" >&2; exit 1 ;;
  esac
  exported=$(nm -D --defined-only -C "$build/$lib" | grep -c ' [TW] palmvein::' || true)
  # Internals (lib/src, drivers/src) and the in-tree tools (palmvein_tools) are not part of the ABI.
  internal=$(nm -D --defined-only -C "$build/$lib" | grep -E ' [TWBDR] palmvein::(v1::)?(internal|detail|io|drivers|tools|testing)::' || true)
  if [ -n "$internal" ]; then
    echo "$lib exports internal symbols:" >&2; echo "$internal" | head -n 20 >&2; exit 1
  fi
  echo "$lib: SONAME $soname, $exported palmvein functions exported"
done
