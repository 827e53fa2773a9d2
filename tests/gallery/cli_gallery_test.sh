#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of `palmvein enroll|verify|identify|list|delete` on the virtual sensor: exit codes
# (0 yes, 1 no, 2 error), JSON output, the default key location, wrong key and tampered rows.
# Decisions are tested with explicit thresholds so that they do not depend on the calibration.
set -u
pv=$1
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
unset PALMVEIN_KEY_FILE
db=$tmp/palms.db
alice='virtual:?palm=7&fps=0'
bob='virtual:?palm=8&fps=0'

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; exit 1; }
# expect STATUS COMMAND...: runs the command, checks its exit status.
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "expected exit $want, got $got: $*"
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); print($1)"; }

# Enrolment into a new database creates the key in the config folder and says so.
expect 0 "$pv" enroll --db "$db" --id alice --name Alice --hand L --sensor "$alice" -q
grep -q "created a new gallery key in '$tmp/config/palmvein/gallery.key'" "$tmp/err" || fail "no key notice"
[ "$(stat -c %a "$tmp/config/palmvein/gallery.key")" = 600 ] || fail "key file mode"
[ "$(stat -c %a "$tmp/config/palmvein")" = 700 ] || fail "key folder mode"
grep -q "enrolled 'alice' (hand L): 3 new template" "$tmp/out" || fail "enrol summary"
expect 0 "$pv" enroll --db "$db" --id bob --hand R --sensor "$bob" --json -q
[ "$(json 'd["templates_total"]')" = 3 ] || fail "bob json"
grep -q "created a new gallery key" "$tmp/err" && fail "a second key was created"

# Re-enrolment needs --replace; --add adds templates.
expect 2 "$pv" enroll --db "$db" --id alice --hand L --sensor "$alice" -q
grep -q "already enrolled; use --replace" "$tmp/err" || fail "already-enrolled message"
expect 0 "$pv" enroll --db "$db" --id alice --hand L --sensor "$alice&start=20" --samples 2 --add --json -q
[ "$(json 'd["templates_total"]')" = 5 ] || fail "add"
expect 0 "$pv" enroll --db "$db" --id alice --hand L --sensor "$alice&start=40" --replace --json -q
[ "$(json 'd["templates_total"]')" = 3 ] || fail "replace"
expect 2 "$pv" enroll --db "$db" --id carol --sensor "$alice" --add -q

# Verification: exit 0 accepted, 1 rejected; genuine scores above impostor scores.
expect 0 "$pv" verify --db "$db" --id alice --sensor "$alice&start=60" --threshold 0 --json
[ "$(json 'd["decision"]')" = accepted ] || fail "verify json"
genuine=$(json 'd["score"]')
expect 1 "$pv" verify --db "$db" --id alice --sensor "$alice&start=60" --threshold 1 -q
grep -q "^rejected: 'alice'" "$tmp/out" || fail "rejected line"
expect 0 "$pv" verify --db "$db" --id alice --sensor "$bob&start=60" --threshold 0 --json
impostor=$(json 'd["score"]')
python3 -c "import sys; sys.exit(0 if $genuine > $impostor else 1)" || fail "genuine $genuine <= impostor $impostor"
expect 0 "$pv" verify --db "$db" --id alice --sensor "$alice&start=60" --threshold "$impostor" -q
expect 1 "$pv" verify --db "$db" --id alice --sensor "$bob&start=60" --threshold "$genuine" -q
expect 0 "$pv" verify --db "$db" --id alice --sensor "$alice&start=60" --fmr 1e-3 -q
grep -q "FMR 1.0e-03" "$tmp/out" || fail "fmr in message"

# Identification: the right identity ranks first; exit 1 when nobody reaches the threshold.
expect 0 "$pv" identify --db "$db" --sensor "$bob&start=70" --threshold 0 --json
[ "$(json 'd["id"]')" = bob ] || fail "identify bob"
[ "$(json 'd["candidates"][0]["hand"]')" = R ] || fail "identify hand"
expect 1 "$pv" identify --db "$db" --sensor "$bob&start=70" --threshold 1 -q
grep -q "^not found" "$tmp/out" || fail "not found line"

# list
expect 0 "$pv" list --db "$db" --json
[ "$(json 'len(d)')" = 2 ] || fail "list json"
[ "$(json 'd[0]["name"]')" = Alice ] || fail "list name"
expect 0 "$pv" list --db "$db"
grep -q "^2 identities" "$tmp/out" || fail "list table"

# Ids and names with control characters or invalid UTF-8 are refused at enrolment (exit 2, one line,
# before any capture); one stored by an older gallery is printed escaped by list, never raw.
for bad in $'esc\e[31m' $'del\x7f' $'csi\xc2\x9b' $'bad\xff' $'tab\tx'; do
  expect 2 "$pv" enroll --db "$db" --id "$bad" --sensor "$alice" -q
  grep -q "identity id" "$tmp/err" || fail "bad id refused without the reason"
  expect 2 "$pv" enroll --db "$db" --id eve --name "$bad" --sensor "$alice" -q
  grep -q "display name" "$tmp/err" || fail "bad name refused without the reason"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "bad name: not one line"
  LC_ALL=C grep -q $'\e\|\x7f\|\xc2\x9b\|\xff' "$tmp/err" && fail "the error line repeats the raw bytes"
done
# A version-2 gallery (written as palmvein 0.1 did: no checks on names) whose identity names hold a
# terminal escape, a C1 control and invalid UTF-8; it is migrated on open with its key.
old_db=$tmp/old-names.db
python3 - "$old_db" "$tmp/config/palmvein/gallery.key" <<'PY'
import hashlib, os, sqlite3, sys
key = bytes.fromhex(open(sys.argv[2]).read().strip())
# crypto_kdf_derive_from_key(subkey 2, "pvgallry") and the key check value, as gallery_crypto.cpp makes them.
sub2 = hashlib.blake2b(b"", digest_size=32, key=key, salt=(2).to_bytes(8, "little") + bytes(8), person=b"pvgallry" + bytes(8)).digest()
dbid = os.urandom(16)
kcv = hashlib.blake2b(b"palmvein-gallery-key-check-v1" + dbid, digest_size=32, key=sub2).digest()
c = sqlite3.connect(sys.argv[1])
c.executescript("""
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE identities(entry INTEGER PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
  hand TEXT NOT NULL CHECK(hand IN ('L','R','U')), created INTEGER NOT NULL, updated INTEGER NOT NULL DEFAULT 0,
  algorithm INTEGER NOT NULL DEFAULT 0, UNIQUE(id, hand));
CREATE TABLE templates(row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  entry INTEGER NOT NULL REFERENCES identities(entry) ON DELETE CASCADE, nonce BLOB NOT NULL, ciphertext BLOB NOT NULL,
  created INTEGER NOT NULL DEFAULT 0);
CREATE INDEX templates_by_entry ON templates(entry);
PRAGMA user_version = 2;
""")
c.execute("INSERT INTO meta VALUES('database_id', ?)", (dbid,))
c.execute("INSERT INTO meta VALUES('key_check', ?)", (kcv,))
c.execute("INSERT INTO identities VALUES(1, 'eve', ?, 'L', 1600000000, 1600000000, 1)", ("Eve\x1b[2J\u009b31m",))
c.execute("INSERT INTO identities VALUES(2, CAST(x'6d616cff' AS TEXT), CAST(x'4d616c1b5d303b78079c' AS TEXT), 'R', 1600000000, 1600000000, 1)")
c.commit()
PY
expect 0 "$pv" list --db "$old_db"
LC_ALL=C grep -q $'\e\|\xc2\x9b\|\xff\|\x07\|\x9c' "$tmp/out" && fail "list printed a stored control character raw"
grep -qF 'Eve\x1b[2J\u009b31m' "$tmp/out" || fail "list did not escape the stored name"
grep -qF 'mal\xff' "$tmp/out" || fail "list did not escape invalid UTF-8 in a stored id"
expect 0 "$pv" list --db "$old_db" --json
LC_ALL=C grep -q $'\e\|\xc2\x9b\|\xff\|\x07\|\x9c' "$tmp/out" && fail "list --json printed a stored control character raw"
[ "$(json 'd[0]["name"]')" = "$(printf 'Eve\e[2J\xc2\x9b31m')" ] || fail "list --json: the name does not decode to what is stored"
[ "$(json 'len(d)')" = 2 ] || fail "list --json: invalid UTF-8 broke the output"

# Errors: one clear line, exit 2.
expect 2 "$pv" verify --db "$db" --id carol --sensor "$alice"
grep -q "not enrolled" "$tmp/err" || fail "not enrolled message"
expect 2 "$pv" verify --db "$db" --id alice
grep -q "either --sensor URI or image files" "$tmp/err" || fail "no input message"
# --fmr outside the calibrated range (or not a rate at all) is refused by the library's one check, with
# one line, before any capture; also when --threshold overrides it.
for bad in 7 nan inf -inf 0 1 -0.5 1e-9; do
  for cmd in "verify --id alice --sensor $alice" "identify --sensor $alice" "verify --id alice --threshold 0.5 --sensor $alice"; do
    # shellcheck disable=SC2086
    expect 2 "$pv" $cmd --db "$db" --fmr "$bad"
    grep -q "outside the calibrated range" "$tmp/err" || fail "--fmr $bad: message ($cmd)"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "--fmr $bad: not one line ($cmd)"
  done
  expect 2 "$pv" match "$tmp/none-a.pvt" "$tmp/none-b.pvt" --fmr "$bad"
  grep -q "outside the calibrated range" "$tmp/err" || fail "match --fmr $bad: message"
  expect 2 "$pv" demo --db "$tmp/demo-fmr.db" --fmr "$bad"
  grep -q "outside the calibrated range" "$tmp/err" || fail "demo --fmr $bad: message"
done
[ -e "$tmp/demo-fmr.db" ] && fail "demo wrote a gallery despite a bad --fmr"
expect 2 "$pv" verify --db "$tmp/absent.db" --id alice --sensor "$alice"
expect 2 "$pv" verify --db "$db" --id alice --sensor 'virtual:?palm=7&empty=1&fps=0' --max-frames 5 -q
grep -q "no usable palm in 5 frame" "$tmp/err" || fail "no palm message"
expect 2 "$pv" enroll --db "$db" --id dave --sensor 'virtual:?palm=9&empty=1&fps=0' --max-frames 8 -q
grep -q "gave up after 8 frames with 0 of 3 good samples" "$tmp/err" || fail "give-up message"
expect 2 "$pv" enroll --db "$db" --id dave --hand X --sensor "$alice"

# Wrong key: detected at open, never a match.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/other.key"
chmod 600 "$tmp/other.key"
expect 2 "$pv" verify --db "$db" --id alice --sensor "$alice&start=60" --threshold 0 --key-file "$tmp/other.key"
grep -q "wrong key" "$tmp/err" || fail "wrong-key message"
PALMVEIN_KEY_FILE="$tmp/other.key" expect 2 "$pv" list --db "$db"
# A key file with anything besides 64 hex digits and one newline: one clear line, exit 2.
{ cat "$tmp/config/palmvein/gallery.key"; echo "extra"; } >"$tmp/trailing.key"
chmod 600 "$tmp/trailing.key"
expect 2 "$pv" list --db "$db" --key-file "$tmp/trailing.key"
grep -q "expected exactly 64 hexadecimal digits, optionally followed by one newline" "$tmp/err" || fail "key format message"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "key format: not one line"
head -c 63 "$tmp/config/palmvein/gallery.key" >"$tmp/short.key"
chmod 600 "$tmp/short.key"
expect 2 "$pv" list --db "$db" --key-file "$tmp/short.key"
grep -q "the file has 63 bytes" "$tmp/err" || fail "short key message"

# Tampered row: an error (exit 2), never a match.
cp "$db" "$tmp/tampered.db"
python3 - "$tmp/tampered.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE templates SET ciphertext = substr(ciphertext, 1, 5) "
          "|| CASE WHEN substr(ciphertext, 6, 1) = x'00' THEN x'01' ELSE x'00' END || substr(ciphertext, 7) "
          "WHERE row_id = (SELECT min(row_id) FROM templates)")
c.commit()
PY
expect 2 "$pv" identify --db "$tmp/tampered.db" --sensor "$alice&start=60" --threshold 0
grep -q "failed authentication" "$tmp/err" || fail "tamper message"

# Commands that only read open the gallery read-only. A foreign SQLite file is refused and left exactly
# as it was (earlier, `list` switched it to WAL before refusing it).
python3 - "$tmp/foreign.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE people(name TEXT)")
c.execute("INSERT INTO people VALUES('x')")
c.commit()
PY
sum_before=$(sha256sum <"$tmp/foreign.db")
expect 2 "$pv" list --db "$tmp/foreign.db"
grep -q "not a palmvein gallery" "$tmp/err" || fail "foreign file message"
expect 2 "$pv" verify --db "$tmp/foreign.db" --id alice --sensor "$alice"
expect 2 "$pv" identify --db "$tmp/foreign.db" --sensor "$alice"
expect 2 "$pv" delete --db "$tmp/foreign.db" --id alice
[ "$(sha256sum <"$tmp/foreign.db")" = "$sum_before" ] || fail "a refused foreign SQLite file was modified"
[ -e "$tmp/foreign.db-wal" ] || [ -e "$tmp/foreign.db-shm" ] && fail "a refused foreign SQLite file got a WAL"
# A read-only gallery (file 0444 in a read-only folder) still serves list, verify and identify. Root
# ignores permission bits, so as root the commands run as 'nobody' (skipped without setpriv).
as_reader=()
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    as_reader=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
  else
    as_reader=(skip)
  fi
fi
if [ "${as_reader[0]:-}" != skip ] && "${as_reader[@]}" test -x "$pv" 2>/dev/null; then
  ro=$tmp/ro
  mkdir "$ro"
  cp "$db" "$ro/g.db"
  cp "$tmp/config/palmvein/gallery.key" "$ro/k.key"
  [ "$(id -u)" = 0 ] && chown nobody "$ro/k.key"
  chmod 600 "$ro/k.key"
  chmod 444 "$ro/g.db"
  chmod 555 "$ro"
  chmod 755 "$tmp"
  sum_before=$(sha256sum <"$ro/g.db")
  expect 0 "${as_reader[@]}" "$pv" list --db "$ro/g.db" --key-file "$ro/k.key" --json
  [ "$(json 'len(d)')" = 2 ] || fail "read-only list"
  expect 0 "${as_reader[@]}" "$pv" verify --db "$ro/g.db" --key-file "$ro/k.key" --id bob --sensor "$bob&start=60" --threshold 0 -q
  expect 0 "${as_reader[@]}" "$pv" identify --db "$ro/g.db" --key-file "$ro/k.key" --sensor "$bob&start=70" --threshold 0 --json
  [ "$(json 'd["id"]')" = bob ] || fail "read-only identify"
  expect 2 "${as_reader[@]}" "$pv" delete --db "$ro/g.db" --key-file "$ro/k.key" --id bob
  [ "$(sha256sum <"$ro/g.db")" = "$sum_before" ] || fail "a read-only gallery was modified"
  chmod 755 "$ro"
  chmod 700 "$tmp"
else
  echo "note: cannot run as a non-root user here; read-only gallery part skipped"
fi

# Image files instead of a sensor (written by `palmvein synth`).
# Some synthetic poses fail the ROI stage, as real captures do: enrolment and identification take
# the next image then.
if "$pv" synth --palms 1 --samples 16 --out "$tmp/synth" --first 11 >/dev/null 2>&1; then
  mapfile -t imgs < <(find "$tmp/synth" -name '*.png' | sort)
  expect 0 "$pv" enroll --db "$db" --id erin --samples 2 "${imgs[@]:0:12}" -q
  expect 0 "$pv" identify --db "$db" --threshold 0 --json "${imgs[@]}"
  [ "$(json 'd["id"]')" = erin ] || fail "identify from an image file"
else
  echo "note: palmvein synth unavailable; image-file part skipped"
fi

# delete: 0 deleted, 1 nothing to delete. Alice's rows are saved first (as an attacker without the key
# could) and put back afterwards: the deleted palm must not verify again.
python3 - "$db" "$tmp/saved.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("ATTACH ? AS s", (sys.argv[2],))
c.execute("CREATE TABLE s.i AS SELECT * FROM identities WHERE id = 'alice'")
c.execute("CREATE TABLE s.t AS SELECT * FROM templates WHERE entry IN (SELECT entry FROM identities WHERE id = 'alice')")
c.commit()
PY
expect 0 "$pv" delete --db "$db" --id alice
expect 1 "$pv" delete --db "$db" --id alice
expect 2 "$pv" verify --db "$db" --id alice --sensor "$alice"
cp "$db" "$tmp/resurrected.db"
python3 - "$tmp/resurrected.db" "$tmp/saved.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("ATTACH ? AS s", (sys.argv[2],))
c.execute("INSERT INTO identities SELECT * FROM s.i")
c.execute("INSERT INTO templates SELECT * FROM s.t")
c.commit()
PY
expect 2 "$pv" verify --db "$tmp/resurrected.db" --id alice --sensor "$alice&start=60" --threshold 0
grep -q "failed authentication" "$tmp/err" || fail "resurrected identity: verify message"
expect 2 "$pv" identify --db "$tmp/resurrected.db" --sensor "$alice&start=60" --threshold 0
grep -q "failed authentication" "$tmp/err" || fail "resurrected identity: identify message"
expect 2 "$pv" list --db "$tmp/resurrected.db" --json
[ -s "$tmp/out" ] && fail "list printed something for a tampered gallery"
expect 0 "$pv" list --db "$db" --json
echo "cli gallery test passed"
