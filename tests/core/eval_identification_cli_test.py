#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of `palmvein eval-identification` as a program (registered with ctest by tests/core/CMakeLists.txt).

  eval_identification_cli_test.py PALMVEIN
        makes a small synthetic two-hand set with `palmvein synth`, runs the open-set evaluation on it
        and checks the report's counts and internal consistency; then bad input: exit 2, one error
        message, no output written and an earlier report untouched.
"""
import csv, json, os, shutil, subprocess, sys, tempfile

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main(palmvein):
    tmp = tempfile.mkdtemp(prefix="palmvein_eval_id_cli_")
    try:
        data = os.path.join(tmp, "synth")
        rc, _, err = run([palmvein, "synth", "--palms", "12", "--samples", "4", "--hand", "both", "--out", data,
                          "--threads", "2"])
        check(rc == 0, "synth failed: %s" % err)
        manifest = os.path.join(data, "MANIFEST.csv")
        report, det, points = (os.path.join(tmp, n) for n in ("r.json", "d.png", "p.csv"))
        rc, out, err = run([palmvein, "eval-identification", "--manifest", manifest, "--two-hands", "subject",
                            "--report", report, "--det", det, "--points", points, "--threads", "2", "--seed", "3"])
        check(rc == 0, "two-hand run: exit %d: %s" % (rc, err))
        if rc == 0:
            with open(report) as f:
                j = json.load(f)
            check(j["persons"] == 12 and j["enrolled_persons"] == 6 and j["held_out_persons"] == 6, "person counts")
            check(j["gallery_templates"] == 6 * 2 * 2, "gallery = session 1 (2 of 4 samples) of 12 palms")
            for name in ("one_hand", "two_hands"):
                b = j[name]
                check(b["gallery_identities"] == 6, name + ": G")
                check(b["mated_probes"] == 6 * 2, name + ": mated probes = session 2 of enrolled persons")
                check(b["nonmated_probes"] == 6 * 4, name + ": non-mated = every sample of held-out persons")
                cmc = b["cmc"]
                check(all(a <= c for a, c in zip(cmc, cmc[1:])) and cmc[-1] == 1.0, name + ": CMC rises to 1")
                for k, f in b["fnir_at_fpir"].items():
                    check(f["fpir"] <= float(k) and f["fnir_list"] <= f["fnir"], name + ": FNIR@FPIR " + k)
                check(b["tail_model"] is not None, name + ": tail model fitted")
                for c in b.get("modelled", []):
                    check(0 <= c["fnir"] <= 1 and c["fnir"] <= c["fnir_exponential"] + 1e-12,
                          name + ": the fitted tail is no heavier than the exponential one at N=%g" % c["gallery"])
            check(j["two_hands"]["fusion"] == "min", "default fusion")
            check(set(j["fusion_comparison"]) == {"sum", "max", "min"}, "fusion comparison")
            with open(points) as f:
                rows = list(csv.DictReader(f))
            check({r["series"] for r in rows} == {"one_hand", "two_hands_min"}, "point series")
            with open(det, "rb") as f:
                check(f.read(8) == b"\x89PNG\r\n\x1a\n", "plot is a PNG")

        # Bad input: exit 2, the message names the problem, nothing written, an earlier report kept.
        with open(report, "w") as f:
            f.write("old")
        os.remove(det)

        def expect_error(args, needle, name):
            rc, _, err = run([palmvein, "eval-identification", "--report", report, "--det", det] + args)
            check(rc == 2, "%s: exit %d, expected 2" % (name, rc))
            check(needle in err, "%s: error should mention %r, got %r" % (name, needle, err))
            check(not os.path.exists(det), "%s: plot written" % name)
            with open(report) as f:
                check(f.read() == "old", "%s: earlier report changed" % name)
            check(not any(".tmp" in n for n in os.listdir(tmp)), "%s: temporary left" % name)

        expect_error(["--manifest", manifest, "--two-hands", "both"], "--two-hands", "bad --two-hands")
        expect_error(["--manifest", manifest, "--two-hands", "subject", "--fusion", "product"], "--fusion", "bad --fusion")
        expect_error(["--manifest", manifest, "--gallery-samples", "4"], "probe images", "no probes left")
        no_sessions = os.path.join(data, "NOSESSIONS.csv")
        with open(manifest) as f, open(no_sessions, "w") as g:
            for row in f:
                g.write(",".join(row.rstrip("\n").split(",")[:4] + [row.rstrip("\n").split(",")[-1]]) + "\n")
        expect_error(["--manifest", no_sessions], "no sessions", "gallery = session 1 without sessions")
        with open(manifest, "rb") as f:
            before = f.read()
        rc, _, err = run([palmvein, "eval-identification", "--manifest", manifest, "--report", manifest])
        check(rc == 2 and "--report" in err, "report over the manifest: exit %d, %r" % (rc, err))
        with open(manifest, "rb") as f:
            check(f.read() == before, "report over the manifest: manifest changed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
