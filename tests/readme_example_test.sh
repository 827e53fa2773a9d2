#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest readme_example: runs docs/examples/compare_palms (the README's library program) on frames of
# the virtual sensor: two captures of one palm match, two palms do not, a frame without a hand gets
# guidance (exit 1), an unreadable file is an error (exit 2).
set -u
compare=$1
pv=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/out" "$tmp/err" 2>/dev/null; exit 1; }
capture() {  # capture URI DIR: one frame with a palm ROI
  "$pv" capture --sensor "$1" --count 1 --only-good --out "$2" >/dev/null 2>&1 || fail "capture $1"
  ls "$2"/*.png | head -1
}
a1=$(capture "virtual:?palm=3&start=0" "$tmp/a1")
a2=$(capture "virtual:?palm=3&start=50" "$tmp/a2")
b=$(capture "virtual:?palm=4&start=0" "$tmp/b")
"$pv" capture --sensor "virtual:?palm=3&empty=1" --count 1 --out "$tmp/none" >/dev/null 2>&1 || fail "capture empty"
none=$(ls "$tmp"/none/*.png | head -1)

"$compare" "$a1" "$a2" >"$tmp/out" 2>"$tmp/err"; [ $? -eq 0 ] || fail "same palm: exit status"
grep -q ": same palm (template [0-9]* bytes)" "$tmp/out" || fail "same palm not recognised"
"$compare" "$a1" "$b" >"$tmp/out" 2>"$tmp/err"; [ $? -eq 0 ] || fail "two palms: exit status"
grep -q ": different palms" "$tmp/out" || fail "two palms not told apart"
"$compare" "$a1" "$none" >"$tmp/out" 2>"$tmp/err"; [ $? -eq 1 ] || fail "no hand: exit status"
grep -q "^no usable palm: ." "$tmp/out" || fail "no guidance for a frame without a hand"
"$compare" "$a1" "$tmp/missing.png" >"$tmp/out" 2>"$tmp/err"; [ $? -eq 2 ] || fail "missing file: exit status"
grep -q "^compare_palms: " "$tmp/err" || fail "missing file: no error message"
"$compare" >"$tmp/out" 2>"$tmp/err"; [ $? -eq 2 ] || fail "usage: exit status"
echo "readme example passed"
