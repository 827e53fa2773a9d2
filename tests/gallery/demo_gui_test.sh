#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Starts the GUI demo under Xvfb for a few frames with scripted keys (verify before enrolment, enrol,
# identify, verify), saves a screenshot and checks that frames were shown with the palm found, each
# action's result, and that the screenshot is a real picture. Skipped (77) where xvfb-run is missing.
set -u
demo=$1
check=$2
command -v xvfb-run >/dev/null 2>&1 || { echo "xvfb-run is not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
unset PALMVEIN_KEY_FILE
fail() { echo "FAIL: $*"; cat "$tmp/out" "$tmp/err"; exit 1; }
# Under the sanitizer build: the GUI toolkit's own process-lifetime allocations are not leaks of ours.
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan-gui.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

timeout 120 xvfb-run -a "$demo" --db "$tmp/gui.db" --frames 60 --press veiv --threshold 0 \
  --screenshot "$tmp/shot.png" >"$tmp/out" 2>"$tmp/err" || fail "palmvein-demo failed"
cat "$tmp/out"
grep -q "showed 60 frames" "$tmp/out" || fail "frame count"
palm=$(sed -n 's/.*palm found on \([0-9]*\).*/\1/p' "$tmp/out")
[ "${palm:-0}" -ge 10 ] || fail "palm found on only ${palm:-0} frames"
grep -q "result: Enrolled 'demo-user' left hand (3 templates) - press e to enrol the right hand too" "$tmp/out" || fail "enrolment"
grep -q "result: 'demo-user' is not enrolled: press e first" "$tmp/out" || fail "verification before enrolment"
grep -q "result: IDENTIFIED: 'demo-user'" "$tmp/out" || fail "identification"
grep -q "result: ACCEPTED as 'demo-user' - score .* >= threshold 0.000" "$tmp/out" || fail "verification"
grep -q "result: IDENTIFIED: 'demo-user' - score .* >= threshold 0.000" "$tmp/out" || fail "threshold beside the score"
"$check" "$tmp/shot.png" || fail "screenshot check"

# Operator flow: type an id in the window (n ... Enter), enrol the left hand, take the offered right
# hand (from its own sensor), then enrol again: asked, cancelled (x), asked, replaced (r); verify
# with both hands (b).
right='virtual:?palm=2&hand=R'
timeout 180 xvfb-run -a "$demo" --db "$tmp/gui2.db" --right-sensor "$right" --frames 150 --press $'nann-1\neeexerb' \
  --threshold 0 --screenshot "$tmp/shot2.png" >"$tmp/out" 2>"$tmp/err" || fail "palmvein-demo (operator flow) failed"
cat "$tmp/out"
grep -q "result: Identity is now 'ann-1'" "$tmp/out" || fail "typed id"
grep -q "result: Enrolled 'ann-1' left hand (3 templates) - press e to enrol the right hand too" "$tmp/out" || fail "left hand"
grep -q "result: Enrolled 'ann-1' right hand (3 templates)$" "$tmp/out" || fail "offered right hand"
grep -q "result: Enrolment cancelled: 'ann-1' (right hand) kept as it was" "$tmp/out" || fail "no replace without r"
grep -q "result: Re-enrolled 'ann-1' right hand (3 templates)" "$tmp/out" || fail "replace with r"
grep -q "result: ACCEPTED as 'ann-1' with both hands - L .*, R .*: score .* >= threshold 0.000" "$tmp/out" || fail "both hands (b)"
"$check" "$tmp/shot2.png" || fail "screenshot check (operator flow)"

# Without a display: one clear line that points to the headless demo, exit 2.
env -u DISPLAY -u WAYLAND_DISPLAY "$demo" --db "$tmp/gui.db" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "exit status without a display"
grep -q "palmvein demo --db" "$tmp/err" || fail "no-display message"
echo "demo gui test passed"
