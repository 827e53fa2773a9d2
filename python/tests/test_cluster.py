# SPDX-License-Identifier: Apache-2.0
"""palmvein.cluster on a real Dask cluster: `dask scheduler` and `dask worker` processes on loopback."""
import os
import signal
import subprocess
import sys
import time

import pytest

import palmvein
from conftest import capture_templates

distributed = pytest.importorskip("distributed")
from palmvein import cluster  # noqa: E402


class DaskProcesses:
    """A scheduler and worker processes (no nanny: a killed worker stays dead)."""

    def __init__(self, folder, workers: int):
        self.folder = folder
        self.scheduler_file = str(folder / "scheduler.json")
        self.env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="5s")
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", self.scheduler_file],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(self.scheduler_file):
            assert time.time() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        self.workers = []
        for _ in range(workers):
            self.add_worker()
        self.client = distributed.Client(scheduler_file=self.scheduler_file, timeout=60)
        self.wait_for_workers(workers)

    def add_worker(self):
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", self.scheduler_file,
             "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def wait_for_workers(self, n):
        self.client.wait_for_workers(n, timeout=120)
        deadline = time.time() + 30  # the client's cached view follows the scheduler's
        while len(self.client.scheduler_info()["workers"]) != n:
            assert time.time() < deadline
            time.sleep(0.1)

    def pid_of(self, address):
        return self.client.run(os.getpid, workers=[address])[address]

    def close(self):
        self.client.close()
        for p in self.workers + [self.scheduler]:
            p.kill()
            p.wait()


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """A gallery file of 16 identities (some with both hands), and probes of each."""
    folder = tmp_path_factory.mktemp("store")
    db, key = str(folder / "g.db"), str(folder / "k.key")
    gallery = palmvein.Gallery.open(db, key_file=key)
    probes = {}
    for p in range(16):
        hands = ["L", "R"] if p % 4 == 0 else ["L"]
        for h in hands:
            t = capture_templates(p, 3, hand=h)
            gallery.enroll(f"person{p:02d}", t[:2], hand=palmvein.parse_hand(h))
            probes[(f"person{p:02d}", h)] = t[2]
    return cluster.GalleryStore(db, key), probes


@pytest.fixture(scope="module")
def dask3(tmp_path_factory):
    procs = DaskProcesses(tmp_path_factory.mktemp("dask"), workers=3)
    yield procs
    procs.close()


def reference_ranking(store, probe, k):
    """The ranking one gallery-wide pass gives: best template per identity, score desc, then key."""
    best = {}
    for stored in palmvein.Gallery.open(store.path, key_file=store.key_file, read_only=True).all_templates():
        key = palmvein.identity_key(stored.id, stored.hand)
        s = palmvein.match(probe, stored.template)
        if key not in best or s > best[key][0]:
            best[key] = (s, stored.id, stored.hand.code)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:k]
    return [cluster.Match(id=i, hand=h, score=s, key=key) for key, (s, i, h) in ranked]


def test_search_equals_one_gallery_wide_ranking(dask3, people):
    store, probes = people
    sharded = cluster.ShardedGallery(dask3.client, store, shards=4)
    try:
        assert sum(st["templates"] for st in sharded.stats()) == 2 * len(probes)
        assert len(set(sharded.placement().values())) == 3  # spread over the workers
        for (identity, hand), probe in probes.items():
            found = sharded.search(probe, k=6)
            assert found == reference_ranking(store, probe, 6)
            assert (found[0].id, found[0].hand) == (identity, hand)
        assert sharded.search(probes[("person01", "L")], k=0) == []
    finally:
        sharded.close()


def test_benchmark_gallery_sharded_equals_one_index(dask3):
    store = cluster.BenchStore(size=4000, probes=5, source="drawn")
    sharded = cluster.ShardedGallery(dask3.client, store, shards=4)
    try:
        whole = palmvein.IdentificationIndex(strategy=palmvein.SearchStrategy.Exhaustive)
        gallery = store.fill(whole)
        for probe, mate in zip(gallery.probes, gallery.mate_ids):
            found = sharded.search(probe, k=10)
            assert [(m.key, m.score) for m in found] == [(c.id, c.score) for c in whole.search(probe, 10)]
            assert found[0].key == mate
    finally:
        sharded.close()


def test_enrol_and_delete_while_serving(dask3, people, tmp_path):
    store, _ = people
    copy = tmp_path / "g.db"
    copy.write_bytes(open(store.path, "rb").read())
    store = cluster.GalleryStore(str(copy), store.key_file)
    sharded = cluster.ShardedGallery(dask3.client, store, shards=3)
    try:
        newcomer = capture_templates(100, 3)
        assert sharded.search(newcomer[2], k=1)[0].id != "newcomer"
        sharded.enroll("newcomer", newcomer[:2], hand=palmvein.Hand.Left)
        assert sharded.search(newcomer[2], k=1)[0].id == "newcomer"
        assert palmvein.Gallery.open(store.path, key_file=store.key_file).find("newcomer", palmvein.Hand.Left)
        with pytest.raises(palmvein.GalleryError) as raised:  # the store refuses: the shard is untouched
            sharded.enroll("newcomer", newcomer[:1], hand=palmvein.Hand.Left)
        assert raised.value.fault == "already-exists"
        assert sharded.search(newcomer[2], k=1)[0].id == "newcomer"
        assert sharded.remove("newcomer") == 1
        assert sharded.search(newcomer[2], k=1)[0].id != "newcomer"
        # A fresh sharded gallery loaded from the store agrees: the store is the truth.
        again = cluster.ShardedGallery(dask3.client, store, shards=3)
        assert again.search(newcomer[2], k=5) == sharded.search(newcomer[2], k=5)
        again.close()
    finally:
        sharded.close()


def test_bad_input_gets_one_clear_error_and_the_rest_keeps_serving(dask3, people, tmp_path):
    store, probes = people
    with pytest.raises(palmvein.InvalidArgument):
        cluster.ShardedGallery(dask3.client, store, shards=0)
    with pytest.raises(palmvein.GalleryError):
        cluster.ShardedGallery(dask3.client, cluster.GalleryStore(str(tmp_path / "none.db"), store.key_file))
    copy = tmp_path / "g.db"
    copy.write_bytes(open(store.path, "rb").read())
    damaged = cluster.GalleryStore(str(copy), store.key_file)
    palmvein.Gallery.open(damaged.path, key_file=damaged.key_file).enroll(
        "broken", [b"PVT1 not a template"], hand=palmvein.Hand.Left, check_templates=False,
        algorithm=palmvein.default_algorithm_id())
    sharded = cluster.ShardedGallery(dask3.client, damaged, shards=4)
    try:
        problems = sharded.problems()
        assert len(problems) == 1 and "'broken'" in problems[0]
        probe = probes[("person03", "L")]
        assert sharded.search(probe, k=1)[0].id == "person03"
        with pytest.raises(palmvein.FormatError):
            sharded.search(b"garbage", k=3)
        with pytest.raises(palmvein.InvalidArgument):
            sharded.search(probe, k=-1)
    finally:
        sharded.close()


def test_a_killed_worker_does_not_lose_a_search(people, tmp_path):
    store, probes = people
    procs = DaskProcesses(tmp_path, workers=3)
    try:
        sharded = cluster.ShardedGallery(procs.client, store, shards=3, call_timeout_s=60)
        probe = probes[("person05", "L")]
        before = sharded.search(probe, k=5)
        victim = sharded.placement()[0]
        os.kill(procs.pid_of(victim), signal.SIGKILL)
        after = sharded.search(probe, k=5)  # meets the loss, reloads shard 0 elsewhere, answers
        assert after == before
        assert victim not in sharded.placement().values()
        assert [s for s, _ in sharded.recoveries] == [0]
        assert sharded.search(probes[("person07", "L")], k=1)[0].id == "person07"
        sharded.close()
    finally:
        procs.close()


def test_an_added_worker_takes_shards(people, tmp_path):
    store, probes = people
    procs = DaskProcesses(tmp_path, workers=1)
    try:
        sharded = cluster.ShardedGallery(procs.client, store, shards=4)
        probe = probes[("person02", "L")]
        before = sharded.search(probe, k=5)
        procs.add_worker()
        procs.wait_for_workers(2)
        assert sharded.rebalance() == 2
        placement = list(sharded.placement().values())
        assert sorted(placement.count(w) for w in set(placement)) == [2, 2]
        assert sharded.search(probe, k=5) == before
        sharded.close()
    finally:
        procs.close()


def test_serve_and_search_from_the_command_line(people, tmp_path):
    store, probes = people
    procs = DaskProcesses(tmp_path, workers=2)
    base = [sys.executable, "-m", "palmvein.cluster", "--scheduler-file", procs.scheduler_file, "--name", "g1"]
    server = subprocess.Popen(base + ["serve", "--store", store.path, "--key-file", store.key_file, "--shards", "3",
                                      "--check-interval", "0.2"],
                              env=procs.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "serving 'g1'" in server.stdout.readline()
        probe = tmp_path / "probe.pvt"
        probe.write_bytes(probes[("person09", "L")].to_bytes())

        def search():
            done = subprocess.run(base + ["search", str(probe), "-k", "3", "--json"], env=procs.env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            return [(m["id"], m["hand"]) for m in __import__("json").loads(done.stdout)]
        assert search()[0] == ("person09", "L")
        os.kill(procs.pid_of(sorted(procs.client.scheduler_info()["workers"])[0]), signal.SIGKILL)
        assert search()[0] == ("person09", "L")  # the server reloaded the lost shards on the other worker
        missing = subprocess.run(base[:-1] + ["nosuch", "search", str(probe)], env=procs.env,
                                 capture_output=True, text=True, timeout=120)
        assert missing.returncode == 2 and "no sharded gallery named 'nosuch'" in missing.stderr
        bad = tmp_path / "bad.pvt"
        bad.write_bytes(b"not an image or a template")
        refused = subprocess.run(base + ["search", str(bad)], env=procs.env, capture_output=True, text=True,
                                 timeout=120)
        assert refused.returncode == 2 and refused.stderr.count("error:") == 1
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        procs.close()
