#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""No palmvein command writes over one of its inputs (issue #11): extract, capture, augment,
synth-compare and the gallery commands refuse, before anything is written, an output that is an
input (also through a symbolic link or "./") or two outputs that are one file; a first enrolment
that fails leaves no gallery or key file behind.

  cli_output_guard_test.py PALMVEIN
"""
import hashlib, os, shutil, subprocess, sys, tempfile

palmvein = sys.argv[1]
failures = []
tmp = tempfile.mkdtemp(prefix="palmvein_output_guard_")


def digest_tree():
    h = {}
    for root, _, files in os.walk(tmp):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                with open(p, "rb") as fh:
                    h[os.path.relpath(p, tmp)] = hashlib.sha256(fh.read()).hexdigest()
    return h


def refused(args, needle, name):
    before = digest_tree()
    p = subprocess.run([palmvein] + args, capture_output=True, text=True, cwd=tmp)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    if p.returncode != 2 or len(lines) != 1 or needle not in p.stderr:
        failures.append("%s: exit %d, stderr %r" % (name, p.returncode, p.stderr))
    if digest_tree() != before:
        failures.append("%s: files changed by a refused run" % name)


try:
    subprocess.run([palmvein, "synth", "--out", "set", "--palms", "2", "--samples", "2"], check=True, cwd=tmp,
                   capture_output=True)
    os.symlink("set", os.path.join(tmp, "link"))
    img = "set/0001_L_01.png"
    refused(["extract", img, "-o", img], "is the input image", "extract over its image")
    refused(["extract", img, "-o", "link/0001_L_01.png"], "is the input image", "extract over its image via a link")
    refused(["extract", img, "-o", "t.pvt", "--roi-out", "./t.pvt"], "same file", "extract: two outputs one file")
    refused(["capture", "--sensor", "file:set", "--out", "set", "--count", "1"], "input", "capture into its replay folder")
    refused(["capture", "--sensor", "file:set/MANIFEST.csv", "--out", "link", "--count", "1"], "input",
            "capture into the replayed manifest's folder")
    refused(["augment", "--manifest", "set/MANIFEST.csv", "--out", "./set"], "input", "augment into its data set")
    refused(["synth-compare", img, "-o", "link/0001_L_01.png"], "is the input", "synth-compare over its input")
    refused(["enroll", "--db", "g.db", "--key-file", "./g.db", "--sensor", "virtual:?palm=1", "--id", "alice"],
            "different files", "gallery and key one file")
    if os.path.exists(os.path.join(tmp, "g.db")):
        failures.append("a refused first enrolment left a database behind")
    # A first enrolment that fails halfway (sensor unplugged after a frame) leaves no gallery, no key.
    for sensor in ("nosuch:", "virtual:?palm=1&fault=unplug&fault_after=1"):
        refused(["enroll", "--db", "g.db", "--key-file", "g.key", "--sensor", sensor, "--id", "bob", "-q"], "error",
                "failed first enrolment from " + sensor)
        left = [f for f in os.listdir(tmp) if f.startswith("g.")]
        if left:
            failures.append("a failed first enrolment from %s left %s" % (sensor, left))
finally:
    shutil.rmtree(tmp)

for f in failures:
    print("FAIL:", f)
print("ok" if not failures else "%d failures" % len(failures))
sys.exit(1 if failures else 0)
