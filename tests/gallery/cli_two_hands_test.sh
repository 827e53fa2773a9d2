#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Both hands on the command line (issue #9): `palmvein enroll --hand both`, `verify`/`identify`
# with --left SRC --right SRC, on synthetic people of the virtual sensor (hand=L / hand=R are two palms
# of one person). Exit codes 0 yes, 1 no, 2 error; JSON fields; one transaction for both hands.
set -u
pv=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PALMVEIN_KEY_FILE=$tmp/k.key
db=$tmp/people.db
hand() { echo "virtual:?palm=$1&hand=$2&fps=0&start=${3:-0}"; }

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; exit 1; }
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got: $*"
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); print($1)"; }

# Both hands of a person in one command, with guidance per hand.
expect 0 "$pv" enroll --db "$db" --id ann --hand both --left "$(hand 11 L)" --right "$(hand 11 R)"
grep -q "left hand: present the left palm of 'ann'" "$tmp/err" || fail "left-hand guidance"
grep -q "right hand: present the right palm of 'ann'" "$tmp/err" || fail "right-hand guidance"
grep -q "enrolled 'ann' (hand L)" "$tmp/out" && grep -q "enrolled 'ann' (hand R)" "$tmp/out" || fail "enrol summary"
expect 0 "$pv" enroll --db "$db" --id ben --left "$(hand 12 L)" --right "$(hand 12 R)" --json -q
[ "$(json 'd["hand"]')" = both ] || fail "enrol json hand"
[ "$(json '[h["hand"] for h in d["hands"]]')" = "['L', 'R']" ] || fail "enrol json hands"
expect 0 "$pv" enroll --db "$db" --id cat --hand both --left "$(hand 13 L)" --right "$(hand 13 R)" -q
expect 0 "$pv" enroll --db "$db" --id dan --hand L --sensor "$(hand 14 L)" -q   # one hand only
expect 0 "$pv" list --db "$db" --json
[ "$(json 'len(d)')" = 7 ] || fail "7 (id, hand) entries"

# Already enrolled: refused before capture, and nothing of the second hand is written either.
expect 2 "$pv" enroll --db "$db" --id dan --hand both --left "$(hand 14 L)" --right "$(hand 14 R)" -q
grep -q "already enrolled" "$tmp/err" || fail "existing hand message"
expect 0 "$pv" list --db "$db" --json
[ "$(json 'len(d)')" = 7 ] || fail "a refused two-hand enrolment wrote something"
# The right hand fails (no palm): neither hand is stored.
expect 2 "$pv" enroll --db "$db" --id eve --hand both --left "$(hand 15 L)" --right 'virtual:?palm=15&empty=1&fps=0' --max-frames 5 -q
grep -q "right hand" "$tmp/err" || fail "failing hand named"
expect 0 "$pv" list --db "$db" --json
[ "$(json 'len([i for i in d if i["id"] == "eve"])')" = 0 ] || fail "half an enrolment left behind"
# The same palm presented as both hands is refused.
expect 2 "$pv" enroll --db "$db" --id eve --hand both --left "$(hand 15 L)" --right "$(hand 15 L 20)" -q
grep -q "same palm was presented twice" "$tmp/err" || fail "same palm twice"
# One --sensor for both hands: a virtual sensor never changes hands, so it stops with a reason.
expect 2 "$pv" enroll --db "$db" --id eve --hand both --sensor "$(hand 15 L)" --max-frames 8 -q
grep -q "still showed the left palm" "$tmp/err" || fail "no hand change"
# Usage errors.
expect 2 "$pv" enroll --db "$db" --id eve --hand both --left "$(hand 15 L)" -q
expect 2 "$pv" enroll --db "$db" --id eve --hand R --left "$(hand 15 L)" -q
expect 2 "$pv" enroll --db "$db" --id eve --hand both --sensor "$(hand 15 L)" --left "$(hand 15 L)" -q

# verify with both hands: fused (min) decision at the two-hand threshold.
expect 0 "$pv" verify --db "$db" --id ann --left "$(hand 11 L 40)" --right "$(hand 11 R 40)" --json
[ "$(json 'd["decision"]')" = accepted ] || fail "two-hand verify"
[ "$(json 'd["hand"]')" = both ] || fail "verify json hand"
[ "$(json 'd["score"] == min(d["left_score"], d["right_score"])')" = True ] || fail "fused score is the min"
[ "$(json 'd["fmr"]')" = 0.0001 ] || fail "fmr per person"
fused=$(json 'd["threshold"]')
expect 0 "$pv" verify --db "$db" --id ann --sensor "$(hand 11 L 40)" --json
[ "$(python3 -c "print($fused < $(json 'd["threshold"]'))")" = True ] || fail "the two-hand threshold is below the one-hand one"
expect 0 "$pv" verify --db "$db" --id ann --left "$(hand 11 L 40)" --right "$(hand 11 R 40)"
grep -q "^accepted: 'ann' (both hands: L .*, R .*) score .* >= threshold .* per person, min of the hands, each at 1.0e-02)" "$tmp/out" \
  || fail "verify text"
# Another person's hands, and ann's left with ben's right: rejected.
expect 1 "$pv" verify --db "$db" --id ann --left "$(hand 12 L 40)" --right "$(hand 12 R 40)" -q
expect 1 "$pv" verify --db "$db" --id ann --left "$(hand 11 L 40)" --right "$(hand 12 R 40)" -q
# One side only: that hand's one-hand decision.
expect 0 "$pv" verify --db "$db" --id ann --right "$(hand 11 R 40)" --json -q
[ "$(json 'd["hand"]')" = R ] || fail "one-side verify hand"
# A hand that is not enrolled is an error (dan has no right hand).
expect 2 "$pv" verify --db "$db" --id dan --left "$(hand 14 L 40)" --right "$(hand 14 R 40)" -q
grep -q "no right hand enrolled" "$tmp/err" || fail "missing hand message"
expect 2 "$pv" verify --db "$db" --id ann --left "$(hand 11 L 40)" --sensor "$(hand 11 L 40)" -q
expect 2 "$pv" verify --db "$db" --id ann --hand L --left "$(hand 11 L 40)" -q
# A rate whose square root the calibration cannot serve, before any capture.
expect 2 "$pv" verify --db "$db" --id ann --left "$(hand 11 L 40)" --right "$(hand 11 R 40)" --fmr 1e-15 -q
grep -q "per-hand rate" "$tmp/err" || fail "per-hand rate message"
# ... while a rate below one hand's reach is served by two.
expect 0 "$pv" verify --db "$db" --id ann --left "$(hand 11 L 40)" --right "$(hand 11 R 40)" --fmr 1e-9 -q
expect 2 "$pv" verify --db "$db" --id ann --sensor "$(hand 11 L 40)" --fmr 1e-9 -q

# identify with both hands: the pair is searched, persons with both hands are the candidates.
expect 0 "$pv" identify --db "$db" --left "$(hand 12 L 40)" --right "$(hand 12 R 40)" --top 5 --json
[ "$(json 'd["id"]')" = ben ] || fail "two-hand identify"
[ "$(json 'd["hands_searched"]')" = both ] || fail "hands_searched"
[ "$(json 'sorted(c["id"] for c in d["candidates"])')" = "['ann', 'ben', 'cat']" ] || fail "dan (one hand) is no candidate"
[ "$(json 'all(c["score"] == min(c["left_score"], c["right_score"]) for c in d["candidates"])')" = True ] || fail "fused candidates"
expect 0 "$pv" identify --db "$db" --left "$(hand 12 L 40)" --right "$(hand 12 R 40)"
grep -q "^found: 'ben' (both hands: L" "$tmp/out" || fail "identify text"
expect 1 "$pv" identify --db "$db" --left "$(hand 30 L)" --right "$(hand 30 R)" -q
# One side: that hand's gallery (dan's left hand is found).
expect 0 "$pv" identify --db "$db" --left "$(hand 14 L 40)" --json -q
[ "$(json 'd["id"]')" = dan ] || fail "one-side identify"
# Image files as sources.
expect 0 "$pv" capture --sensor "$(hand 13 L 40)" --count 1 --only-good --out "$tmp/l"
expect 0 "$pv" capture --sensor "$(hand 13 R 40)" --count 1 --only-good --out "$tmp/r"
expect 0 "$pv" identify --db "$db" --left "$(ls "$tmp"/l/*.png | head -1)" --right "$(ls "$tmp"/r/*.png | head -1)" --json -q
[ "$(json 'd["id"]')" = cat ] || fail "identify from image files"
expect 2 "$pv" identify --db "$db" --left "$tmp/absent.png" --right "$(hand 13 R 40)" -q
# The headless demo with both hands: every person enrolled with two palms, all answers correct.
expect 0 "$pv" demo --db "$tmp/demo.db" --people 3 --attempts 1 --two-hands --json
[ "$(json 'd["hands"]')" = both ] || fail "demo hands"
[ "$(json 'all(r["correct"] == r["attempts"] for r in d["rows"])')" = True ] || fail "demo: a wrong answer"
expect 0 "$pv" list --db "$tmp/demo.db" --json
[ "$(json 'sorted(i["hand"] for i in d)')" = "['L', 'L', 'L', 'R', 'R', 'R']" ] || fail "demo: both hands enrolled"
echo "cli two hands: ok"
