#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of `palmvein eval` as a program (registered with ctest by tests/core/CMakeLists.txt).

  eval_cli_test.py errors PALMVEIN            bad input: exit 2, one error line, no output written
  eval_cli_test.py data PALMVEIN DATA EVALSCORES SET
        runs the evaluation on DATA/SET and checks that its report agrees exactly with
        shared/tools/evalscores.py on the score file it wrote; exit 77 when the data is absent.
"""
import json, os, shutil, subprocess, sys, tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def errors(palmvein):
    tmp = tempfile.mkdtemp(prefix="palmvein_eval_cli_")
    try:
        out = [os.path.join(tmp, n) for n in ("s.csv", "r.json", "d.png")]

        def expect_error(args, needle, name):
            rc, _, err = run([palmvein, "eval"] + args)
            check(rc == 2, "%s: exit %d, expected 2" % (name, rc))
            lines = [l for l in err.splitlines() if l.strip()]
            check(lines and needle in err, "%s: error should mention %r, got %r" % (name, needle, err))
            check(not os.path.exists(out[2]), "%s: DET plot written" % name)
            check(not any(f.endswith(".tmp") or ".tmp" in f for f in os.listdir(tmp)), "%s: temporary left" % name)

        std = ["--scores", out[0], "--report", out[1], "--det", out[2]]
        # A report from an earlier run must survive a failed run untouched.
        with open(out[1], "w") as f:
            f.write("old")
        expect_error(["--manifest", os.path.join(tmp, "none.csv")] + std, "none.csv", "missing manifest")
        check(not os.path.exists(out[0]), "missing manifest: scores written")
        with open(out[1]) as f:
            check(f.read() == "old", "missing manifest: earlier report changed")
        os.remove(out[1])

        m = os.path.join(tmp, "MANIFEST.csv")
        with open(m, "w") as f:
            f.write("path,subject,hand\na.png,1,L\n")
        expect_error(["--manifest", m] + std, "missing column 'kind'", "missing column")

        with open(os.path.join(tmp, "junk.png"), "wb") as f:
            f.write(b"\x89PNG not really")
        with open(m, "w") as f:
            f.write("path,subject,hand,kind\njunk.png,1,L,roi\njunk2.png,1,L,roi\nother.png,2,L,roi\n")
        expect_error(["--manifest", m, "--threads", "1"] + std, "junk.png", "corrupt image")
        with open(m, "w") as f:
            f.write("path,subject,hand,kind\nmissing.png,1,L,roi\nmissing2.png,2,L,roi\n")
        expect_error(["--manifest", m] + std, "missing.png", "unreadable image")

        expect_error(["--manifest", m, "--bogus"] + std, "bogus", "unknown option")
        expect_error(["--manifest", m, "--report", out[1]], "scores", "missing --scores")
        expect_error(["--manifest", m, "--scores", os.path.join(tmp, "no/dir/s.csv"), "--report", out[1]],
                     "does not exist", "output folder missing")
        expect_error(["--manifest", m, "--threads", "0"] + std, "threads", "bad thread count")
        check(not os.path.exists(out[0]) and not os.path.exists(out[1]), "outputs written by a failed run")

        # No output may be an input (an image of the manifest, the manifest itself, through a symbolic
        # link or "./"), nor two outputs one file: refused before anything is written.
        with open(os.path.join(tmp, "img.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nimage bytes")
        with open(m, "w") as f:
            f.write("path,subject,hand,kind\nimg.png,1,L,roi\nimg2.png,2,L,roi\n")
        os.symlink(tmp, os.path.join(tmp, "link"))
        img = os.path.join(tmp, "img.png")
        expect_error(["--manifest", m, "--scores", img, "--report", out[1]], "input image", "scores over an image")
        expect_error(["--manifest", m, "--scores", out[0], "--report", os.path.join(tmp, "link", "MANIFEST.csv")],
                     "input manifest", "report over the manifest via a link")
        expect_error(["--manifest", m, "--scores", out[0], "--report", os.path.join(tmp, ".", "s.csv")],
                     "same file", "two outputs one file")
        with open(img, "rb") as f:
            check(f.read() == b"\x89PNG\r\n\x1a\nimage bytes", "an input image was changed")
        check(not os.path.exists(out[0]) and not os.path.exists(out[1]), "outputs written by a refused run")
    finally:
        shutil.rmtree(tmp)


def data(palmvein, data_dir, evalscores, name):
    data_dir = os.environ.get("PALMVEIN_DATA_DIR") or data_dir
    manifest = os.path.join(data_dir, name, "MANIFEST.csv")
    if not os.path.exists(manifest) or not os.path.exists(evalscores):
        print("skipped: %s or %s absent" % (manifest, evalscores))
        return 77
    tmp = tempfile.mkdtemp(prefix="palmvein_eval_cli_")
    try:
        s, r, d = (os.path.join(tmp, n) for n in ("scores.csv", "report.json", "det.png"))
        rc, out, err = run([palmvein, "eval", "--manifest", manifest, "--scores", s, "--report", r, "--det", d,
                            "--threads", "2"])
        print(out, err)
        check(rc == 0, "eval exit %d" % rc)
        if rc != 0:
            return 1
        rep = json.load(open(r))
        with open(d, "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", "DET plot is not a PNG")
        with open(s) as f:
            check(f.readline().strip() == "a,b,score", "score header")
            rows = sum(1 for _ in f)
        n = rep["images"]
        check(rows == n * (n - 1) // 2, "score rows %d for %d images" % (rows, n))
        for key in ("images", "fta", "genuine_pairs", "impostor_pairs", "eer", "fnmr_at_fmr", "fnmr_at_fmr_reliable",
                    "extract_ms_median", "match_us_median", "template_bytes", "rank1_accuracy", "cross_session",
                    "builtin_calibration"):
            check(key in rep, "report lacks %s" % key)
        p = subprocess.run([sys.executable, evalscores, s, "--manifest", manifest, "--json"], capture_output=True,
                           text=True)
        check(p.returncode == 0, "evalscores.py failed: " + p.stderr)
        py = json.loads(p.stdout)
        check(py["genuine"] == rep["genuine_pairs"] and py["impostor"] == rep["impostor_pairs"], "pair counts")
        check(py["eer"] == rep["eer"], "EER %r vs evalscores %r" % (rep["eer"], py["eer"]))
        check(py["eer_threshold"] == rep["eer_threshold"], "EER threshold")
        for key, pykey in (("0.01", "0.01"), ("0.001", "0.001"), ("0.0001", "0.0001"), ("0.00001", "1e-05")):
            check(py["fnmr@fmr=" + pykey] == rep["fnmr_at_fmr"][key],
                  "FNMR@FMR=%s %r vs evalscores %r" % (key, rep["fnmr_at_fmr"][key], py["fnmr@fmr=" + pykey]))
            check(py["fnmr@fmr=%s_reliable" % pykey] == rep["fnmr_at_fmr_reliable"][key], "reliable flag " + key)
        check(abs(py["dprime"] - rep["dprime"]) <= 1e-9 * py["dprime"], "d'")
        return 1 if failures else 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    if sys.argv[1] == "errors":
        errors(sys.argv[2])
        sys.exit(1 if failures else 0)
    sys.exit(data(*sys.argv[2:6]))
