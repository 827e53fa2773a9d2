#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Bounded soak test of one gallery file shared by many processes (issue #11, docs/soak.md).

For --minutes, K reader threads each run `palmvein verify` and `palmvein identify` processes in a loop
against one gallery (an enrolled palm must be accepted and identified as itself; a palm that was never
enrolled must not be found), one writer thread runs `palmvein enroll` and `palmvein delete` processes,
and one long-lived process (gallery_soak_reader, tests/gallery/) loops the same reads in-process.
Probes come from the virtual sensor, so every decision is known in advance.

At the end: every id the writer enrolled and did not delete is listed and verifies, no deleted id is
listed, no process failed other than with the expected "no match" status, and the peak resident
memory of the short-lived processes and the resident memory of the long-lived one did not grow.
Prints a summary table; exits 1 on any failure. Python standard library only.

  scripts/soak.py --palmvein build/apps/palmvein \\
                  --reader build/tests/gallery/gallery_soak_reader --minutes 3
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BASE_PALM = 1           # base population: palms 1..N, ids base-<palm>, enrolled before the soak
WRITER_PALM = 100000    # the writer's palms: 100000 + n, ids w-<n>
STRANGER_PALM = 500000  # never enrolled: 500000 + reader * 1000 + a few
STRANGERS_PER_READER = 3
PROBE_START = 60        # probes are later captures than the enrolment's (which start at 0)
TIMEOUT_S = 120         # one command that takes longer than this is a hang, counted as an error
# Memory growth allowed between the first and the last fifth of the run (allocator noise, SQLite's
# page cache filling): the larger of 10 % and 8 MiB.
GROWTH_FRACTION = 0.10
GROWTH_KB = 8 * 1024


def sensor(palm, start=PROBE_START):
    return f"virtual:?palm={palm}&fps=0&start={start}"


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = args.work or tempfile.mkdtemp(prefix="palmvein-soak-")
        os.makedirs(self.work, exist_ok=True)
        self.db = os.path.join(self.work, "soak.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.remove(self.db + suffix)
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.work, "config"))
        self.env.pop("PALMVEIN_KEY_FILE", None)
        self.key_file = os.path.join(self.work, "config", "palmvein", "gallery.key")
        self.lock = threading.Lock()
        self.counts = {}     # kind -> operations
        self.failures = []   # one line each
        self.rss = {}        # kind -> [(seconds since start, peak RSS KiB)]
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    # One command; returns (exit status, stdout). Peak RSS comes from wait4's rusage.
    def run(self, kind, argv):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen([self.args.palmvein] + argv, stdout=out, stderr=err, env=self.env)
            timer = threading.Timer(TIMEOUT_S, p.kill)
            timer.start()
            _, status, usage = os.wait4(p.pid, 0)
            timer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.rss.setdefault(kind, []).append((time.monotonic() - self.t0, usage.ru_maxrss))
        return p.returncode, stdout, stderr

    def fail(self, what):
        with self.lock:
            self.failures.append(f"{time.monotonic() - self.t0:7.1f}s {what}")

    def expect(self, kind, argv, want):
        status, stdout, stderr = self.run(kind, argv)
        if status != want:
            self.fail(f"{kind}: exit {status}, expected {want}: palmvein {' '.join(argv)}: {stderr.strip()[-300:]}")
            return None
        return stdout

    def enroll(self, kind, ident, palm):
        return self.expect(kind, ["enroll", "--db", self.db, "--id", ident, "--hand", "L", "--sensor", sensor(palm, 0),
                                  "-q", "--json"], 0) is not None

    # verify + identify of an enrolled palm, identify of a stranger; forever until stopped.
    def reader(self, k):
        base = [BASE_PALM + i for i in range(self.args.base)]
        i = 0
        while not self.stop.is_set():
            palm = base[(i * self.args.readers + k) % len(base)]
            ident = f"base-{palm}"
            self.expect("verify", ["verify", "--db", self.db, "--id", ident, "--sensor", sensor(palm), "-q"], 0)
            out = self.expect("identify", ["identify", "--db", self.db, "--sensor", sensor(palm), "--json", "-q"], 0)
            if out is not None and json.loads(out)["id"] != ident:
                self.fail(f"identify: {ident} was identified as {json.loads(out)['id']}")
            stranger = STRANGER_PALM + k * 1000 + i % STRANGERS_PER_READER
            self.expect("identify-stranger", ["identify", "--db", self.db, "--sensor", sensor(stranger), "-q"], 1)
            i += 1

    # Enrols new ids and deletes random older ones, keeping at most --writer-live of them.
    def writer(self):
        rng = random.Random(self.args.seed)
        n = 0
        while not self.stop.is_set():
            ident, palm = f"w-{n}", WRITER_PALM + n
            n += 1
            if self.enroll("enroll", ident, palm):
                with self.lock:
                    self.live[ident] = palm
            while len(self.live) > self.args.writer_live:
                victim = rng.choice(sorted(self.live))
                if self.expect("delete", ["delete", "--db", self.db, "--id", victim], 0) is not None:
                    with self.lock:
                        del self.live[victim]
                        self.deleted.add(victim)
                else:
                    break

    def sample_long_reader(self, proc):
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            with self.lock:
                                self.rss.setdefault("long-lived RSS", []).append(
                                    (time.monotonic() - self.t0, int(line.split()[1])))
            except OSError:
                pass
            time.sleep(1)

    def soak(self):
        a = self.args
        seconds = a.seconds if a.seconds is not None else a.minutes * 60
        self.live, self.deleted = {}, set()
        # The base population, enrolled before anyone reads.
        for i in range(a.base):
            if not self.enroll("enroll-base", f"base-{BASE_PALM + i}", BASE_PALM + i):
                return
        self.t0 = time.monotonic()
        long_reader = subprocess.Popen(
            [a.reader, "--db", self.db, "--key-file", self.key_file, "--palms", f"{BASE_PALM}-{BASE_PALM + a.base - 1}",
             "--stranger", str(STRANGER_PALM + 999), "--seconds", str(seconds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threads = [threading.Thread(target=self.reader, args=(k,)) for k in range(a.readers)]
        threads.append(threading.Thread(target=self.writer))
        threads.append(threading.Thread(target=self.sample_long_reader, args=(long_reader,)))
        for t in threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in threads:
            t.join()
        out, err = long_reader.communicate(timeout=TIMEOUT_S + seconds)
        self.elapsed = time.monotonic() - self.t0
        self.long = None
        if long_reader.returncode != 0:
            self.fail(f"gallery_soak_reader: exit {long_reader.returncode}: {err.strip()[-500:]}")
        try:
            self.long = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.fail(f"gallery_soak_reader printed no summary: {out!r}")

        # The end state: exactly the base ids and the writer's live ids; each live one verifies.
        out = self.expect("list", ["list", "--db", self.db, "--json"], 0)
        listed = {e["id"] for e in json.loads(out)} if out is not None else set()
        expected = {f"base-{BASE_PALM + i}" for i in range(a.base)} | set(self.live)
        self.lost = sorted(expected - listed)
        self.resurrected = sorted(listed & self.deleted)
        self.unknown = sorted(listed - expected - self.deleted)
        for ident in self.lost:
            self.fail(f"lost enrolment: {ident} was enrolled and not deleted but is not listed")
        for ident in self.resurrected:
            self.fail(f"deleted id still listed: {ident}")
        for ident in self.unknown:
            self.fail(f"listed id nobody enrolled: {ident}")
        for ident, palm in sorted(self.live.items()):
            self.expect("verify-final", ["verify", "--db", self.db, "--id", ident, "--sensor", sensor(palm), "-q"], 0)

    # Median peak RSS of the first and the last fifth of the run, per kind of process.
    def growth(self):
        rows = []
        # The first quarter of the run is warm-up (caches, the long-lived reader's first rounds, one
        # malloc arena per search thread); the long-lived reader measures itself from there too.
        a = self.args
        warm_up = (a.seconds if a.seconds is not None else a.minutes * 60) / 4
        for kind, samples in sorted(self.rss.items()):
            samples = [s for s in samples if s[0] >= warm_up]
            if len(samples) < 10:
                continue
            fifth = max(1, len(samples) // 5)
            first = statistics.median(r for _, r in samples[:fifth])
            last = statistics.median(r for _, r in samples[-fifth:])
            allowed = max(first * GROWTH_FRACTION, GROWTH_KB)
            rows.append((kind, len(samples), first, last, max(r for _, r in samples), last - first <= allowed))
        if self.long:
            first, last = self.long["rss_start_kb"], self.long["rss_end_kb"]
            rows.append(("long-lived (own report)", self.long["rounds"], first, last, self.long["hwm_end_kb"],
                         last - first <= max(first * GROWTH_FRACTION, GROWTH_KB)))
        for kind, _, first, last, _, ok in rows:
            if not ok and not self.args.no_memory_check:
                self.fail(f"memory grew: {kind} from {first:.0f} KiB to {last:.0f} KiB")
        return rows

    def report(self):
        a = self.args
        rows = self.growth()
        print(f"palmvein soak: {self.elapsed:.0f} s, {a.readers} reader threads + 1 writer + 1 long-lived reader, "
              f"{a.base} base ids, at most {a.writer_live} writer ids, gallery {self.db}")
        print()
        print("| operation | count |")
        print("|---|---:|")
        for kind in ("verify", "identify", "identify-stranger", "enroll", "delete", "verify-final", "enroll-base", "list"):
            print(f"| {kind} | {self.counts.get(kind, 0)} |")
        if self.long:
            print(f"| long-lived verify / identify / identify-stranger | {self.long['verify']} / {self.long['identify']} / "
                  f"{self.long['identify_stranger']} |")
        print()
        long_bad = (self.long["wrong"] + self.long["errors"]) if self.long else 0
        print(f"errors and wrong decisions: {len(self.failures)} (long-lived reader: {long_bad}); "
              f"writer ids live at the end: {len(self.live)}, deleted: {len(self.deleted)}; "
              f"lost enrolments: {len(self.lost)}; deleted but listed: {len(self.resurrected)}")
        print()
        print("| process | samples | RSS first fifth (KiB) | RSS last fifth (KiB) | max (KiB) | grows |")
        print("|---|---:|---:|---:|---:|---|")
        for kind, n, first, last, peak, ok in rows:
            print(f"| {kind} | {n} | {first:.0f} | {last:.0f} | {peak:.0f} | {'no' if ok else 'YES'} |")
        print("(short-lived processes: median peak RSS from wait4; long-lived: VmRSS every second, and its own "
              "report after the first and the last round)")
        if self.failures:
            print()
            print(f"FAILED: {len(self.failures)} problem(s):")
            for f in self.failures[:50]:
                print("  " + f)
        print()
        print("soak: " + ("FAIL" if self.failures else "ok"))
        return 1 if self.failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--palmvein", default="build/apps/palmvein", help="the palmvein CLI")
    p.add_argument("--reader", default="build/tests/gallery/gallery_soak_reader", help="the long-lived reader")
    p.add_argument("--minutes", type=float, default=3, help="how long readers and writer run (default 3)")
    p.add_argument("--seconds", type=float, help="the same in seconds (overrides --minutes)")
    p.add_argument("--readers", type=int, default=3, help="reader threads, each running one CLI process at a time")
    p.add_argument("--base", type=int, default=8, help="ids enrolled before the soak starts")
    p.add_argument("--writer-live", type=int, default=8, help="the writer deletes down to this many of its ids")
    p.add_argument("--seed", type=int, default=1, help="which of its ids the writer deletes")
    p.add_argument("--work", help="folder for the gallery and its key (default: a new temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--no-memory-check", action="store_true",
                   help="report memory but do not fail on growth (sanitizer builds: ASan's quarantine holds freed memory)")
    a = p.parse_args()
    for tool in (a.palmvein, a.reader):
        if not os.access(tool, os.X_OK):
            p.error(f"not an executable: {tool} (build first, or pass --palmvein/--reader)")
    if a.readers < 1 or a.base < 1 or a.writer_live < 0:
        p.error("--readers and --base must be >= 1, --writer-live >= 0")
    s = Soak(a)
    try:
        s.soak()
        if not hasattr(s, "elapsed"):  # the base enrolment failed
            print("\n".join(s.failures))
            return 1
        return s.report()
    finally:
        if not a.keep and not a.work:
            shutil.rmtree(s.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
