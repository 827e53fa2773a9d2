#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest consumer_core_component: installs the build tree into a temporary prefix, hides every pkg-config
# module (so SQLite, libsodium, libusb and libuvc look absent, as on a machine without their -dev
# packages), then: find_package(palmvein) of everything fails with a clear message, and
# tests/consumer/core (COMPONENTS core) configures, builds, runs and links none of them.
set -euo pipefail
build_dir="$1"; source_dir="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
mkdir -p "$work/no-pkgconfig"
export PKG_CONFIG_LIBDIR="$work/no-pkgconfig" PKG_CONFIG_PATH=""
pkg-config --exists sqlite3 && fail "sqlite3.pc is still visible: the test would prove nothing"

# Control: the whole package needs the hidden modules, and says which.
mkdir -p "$work/all"
cat >"$work/all/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(all LANGUAGES CXX)
find_package(palmvein REQUIRED COMPONENTS core gallery)
CMAKE
if cmake -S "$work/all" -B "$work/all-build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/all.log" 2>&1; then
  fail "COMPONENTS gallery configured without sqlite3/libsodium"
fi
grep -q "palmvein::gallery needs the pkg-config module sqlite3" "$work/all.log" || { cat "$work/all.log"; fail "no clear message"; }

cmake -S "$source_dir/core" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/core.log" 2>&1 ||
  { cat "$work/core.log"; fail "COMPONENTS core does not configure without the gallery's and drivers' packages"; }
cmake --build "$work/build" >/dev/null
export LD_LIBRARY_PATH="$work/prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"  # shared builds
"$work/build/core_consumer"
# Direct dependencies only (OpenCV's imgcodecs itself pulls libsqlite3 in through GDAL at run time).
if readelf -d "$work/build/core_consumer" | grep NEEDED | grep -E "libsqlite3|libsodium|libusb|libuvc|palmvein_(gallery|drivers)"; then
  fail "a core-only app links a gallery or driver dependency"
fi
echo "core component ok"
