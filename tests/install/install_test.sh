#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest install_layout: `cmake --install` into a scratch prefix, then checks what a Debian user gets:
# the pkg-config files work (cflags/libs with PKG_CONFIG_PATH; the README's program and a gallery +
# drivers consumer build with nothing else and run), the man pages, the udev rules, the calibration
# and the docs are where GNUInstallDirs puts them, and the installed tool runs.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR CXX EXPECT_MAN(0/1) EXPECT_UDEV(0/1)
set -euo pipefail
build_dir=$1; source_dir=$2; cxx=$3; expect_man=$4; expect_udev=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

pcdir=$(dirname "$(find "$prefix" -name palmvein-core.pc | head -1)")
[ -f "$pcdir/palmvein-core.pc" ] || fail "no palmvein-core.pc installed"
case "$pcdir" in "$prefix"/lib*/pkgconfig) ;; *) fail "pkg-config files in $pcdir, not LIBDIR/pkgconfig" ;; esac
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH=$pcdir
modules=(palmvein-core palmvein-gallery palmvein-drivers)
for m in "${modules[@]}"; do
  pkg-config --exists --print-errors "$m" || fail "pkg-config cannot use $m.pc"
  [ "$(pkg-config --modversion "$m")" = "$(pkg-config --modversion palmvein-core)" ] || fail "$m: version"
done
# The paths point into the scratch prefix (the files are relocatable), not at the configured prefix.
[ "$(pkg-config --variable=includedir palmvein-core | xargs realpath)" = "$(realpath "$prefix/include")" ] ||
  fail "includedir is not the installed one: $(pkg-config --variable=includedir palmvein-core)"
[ -f "$(pkg-config --variable=includedir palmvein-core)/palmvein/palmvein.hpp" ] || fail "headers missing"

export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}  # for a shared build
# shellcheck disable=SC2046  # word splitting of pkg-config output is intended
"$cxx" -std=c++20 -o "$work/compare_palms" "$source_dir/docs/examples/compare_palms.cpp" \
  $(pkg-config --cflags --libs palmvein-core) || fail "the README program does not build with palmvein-core.pc"
# shellcheck disable=SC2046
"$cxx" -std=c++20 -o "$work/pc_consumer" "$source_dir/tests/install/pc_consumer.cpp" \
  $(pkg-config --cflags --libs palmvein-gallery palmvein-drivers) || fail "gallery + drivers consumer does not build"
"$work/pc_consumer" || fail "the pkg-config consumer failed"
status=0; "$work/compare_palms" >/dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "compare_palms without arguments: exit $status, not 2 (usage)"

# The installed tool, and the README program on two of its captures.
"$prefix/bin/palmvein" --version | grep -q "^palmvein " || fail "installed palmvein --version"
for s in 0 50; do
  "$prefix/bin/palmvein" capture --sensor "virtual:?palm=5&start=$s" --count 1 --only-good --out "$work/cap$s" >/dev/null 2>&1 ||
    fail "installed palmvein capture"
done
"$work/compare_palms" "$work"/cap0/*.png "$work"/cap50/*.png | grep -q "same palm" || fail "compare_palms on one palm"

if [ "$expect_man" = 1 ]; then
  for page in palmvein palmvein-demo; do
    f=$prefix/share/man/man1/$page.1
    [ -s "$f" ] || fail "man page $f missing"
    upper=$(echo "$page" | tr '[:lower:]' '[:upper:]')
    grep -q "^\.TH $upper \"1\"" "$f" || fail "$f is not a section-1 man page"
    grep -qF -- '\-\-help' "$f" || fail "$f does not document the options"
  done
fi
if [ "$expect_udev" = 1 ]; then
  rules=$prefix/lib/udev/rules.d/70-palmvein.rules
  [ -s "$rules" ] || fail "udev rules $rules missing"
  grep -q 'ATTRS{idVendor}==' "$rules" || fail "$rules has no device rule"
  cmp -s "$rules" <("$prefix/bin/palmvein" udev-rules) || fail "installed rules differ from 'palmvein udev-rules'"
fi
[ -s "$prefix/share/palmvein/models/score_calibration.csv" ] || fail "calibration table not installed"
for doc in README.md LICENSE docs/gallery.md docs/examples/compare_palms.cpp; do
  [ -s "$prefix/share/doc/palmvein/$doc" ] || fail "doc $doc not installed"
done
echo "install layout ok: $(cd "$prefix" && find . -type f | wc -l) files"
