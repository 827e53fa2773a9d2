# SPDX-License-Identifier: Apache-2.0
"""Sharded 1:N search on Dask against one in-process index of the same gallery (docs/scale.md).

    PYTHONPATH=build/python python3 benchmarks/cluster_bench.py --gallery 2000000 --workers 4 --json out.json

Starts `dask scheduler` and WORKERS `dask worker` processes (one thread each, no nanny) on loopback,
loads the benchmark gallery of `palmvein bench identify --gallery N` into SHARDS shards, builds the same
gallery in one in-process IdentificationIndex, and measures in the same run: search latency (median,
p99) of both, whether their top-k agree, throughput with concurrent searches, memory per shard, and
the time to answer a search after a worker holding a shard is killed (the shard is reloaded elsewhere).
"""
import argparse
import concurrent.futures
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import palmvein
from palmvein import cluster


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_dask(folder, workers):
    scheduler_file = os.path.join(folder, "scheduler.json")
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", scheduler_file],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    while not os.path.exists(scheduler_file):
        time.sleep(0.1)
    for _ in range(workers):
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                       scheduler_file, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                       "--host", "127.0.0.1", "--memory-limit", "0"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    import distributed
    client = distributed.Client(scheduler_file=scheduler_file, timeout=60)
    client.wait_for_workers(workers, timeout=120)
    while len(client.scheduler_info()["workers"]) != workers:
        time.sleep(0.1)
    return client, procs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gallery", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--absent", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--index-threads", type=int, default=2, help="threads of the in-process reference index")
    ap.add_argument("--concurrency", type=int, default=4, help="searches in flight in the throughput test")
    ap.add_argument("--source", default="synthetic")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    strategy = palmvein.SearchStrategy.CoarseToFine  # the default of both engines
    store = cluster.BenchStore(size=a.gallery, probes=a.probes, absent_probes=a.absent, source=a.source, threads=1)
    out = {"gallery": a.gallery, "workers": a.workers, "shards": a.shards, "k": a.k, "strategy": "coarse-to-fine",
           "cpu_cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        client, procs = start_dask(folder, a.workers)
        try:
            index = palmvein.IdentificationIndex(threads=a.index_threads, strategy=strategy)
            t0 = time.perf_counter()
            gallery = store.fill(index)
            out["index_fill_seconds"] = time.perf_counter() - t0
            out["index_resident_mib"] = round(palmvein.resident_bytes() / 2**20)
            out["shortlist"] = index.shortlist_size
            t0 = time.perf_counter()
            # Each shard pre-filters with its own default shortlist (its size / kShortlistDivisor): the shards together
            # re-rank as many entries as the one index does, so both do the same work.
            sharded = cluster.ShardedGallery(client, store, shards=a.shards, strategy=strategy, call_timeout_s=600)
            out["shard_load_seconds"] = time.perf_counter() - t0
            stats = sharded.stats()
            out["shard_templates"] = [s["templates"] for s in stats]
            out["shard_resident_mib"] = [round(s["resident_bytes"] / 2**20) for s in stats]

            probes = list(gallery.probes) + list(gallery.absent_probes)

            def latency(strategy, repeat):
                local_ms, sharded_ms, identical, rank1 = [], [], 0, 0
                for p in probes:
                    for _ in range(repeat):
                        t0 = time.perf_counter()
                        ref = index.search(p, a.k, strategy)
                        local_ms.append(1e3 * (time.perf_counter() - t0))
                        t0 = time.perf_counter()
                        got = sharded.search(p, a.k, strategy)
                        sharded_ms.append(1e3 * (time.perf_counter() - t0))
                    identical += [(m.key, m.score) for m in got] == [(c.id, c.score) for c in ref]
                    rank1 += (got[0].key, got[0].score) == (ref[0].id, ref[0].score)
                return {"local_median_ms": statistics.median(local_ms), "local_p99_ms": percentile(local_ms, 0.99),
                        "sharded_median_ms": statistics.median(sharded_ms),
                        "sharded_p99_ms": percentile(sharded_ms, 0.99),
                        "overhead_median_ms": statistics.median(sharded_ms) - statistics.median(local_ms),
                        "identical_top_k": identical, "identical_rank1": rank1, "searched_probes": len(probes)}
            out["coarse_to_fine"] = latency(palmvein.SearchStrategy.CoarseToFine, a.repeat)
            out["exhaustive"] = latency(palmvein.SearchStrategy.Exhaustive, 1)
            out["mated_rank1"] = sum(sharded.search(p, 1)[0].key == mate for p, mate in zip(gallery.probes, gallery.mate_ids))
            out["mated_probes"] = len(gallery.probes)

            def throughput(search, seconds=10.0):
                done, t0 = 0, time.perf_counter()
                with concurrent.futures.ThreadPoolExecutor(a.concurrency) as pool:
                    while time.perf_counter() - t0 < seconds:
                        list(pool.map(search, probes))
                        done += len(probes)
                return done / (time.perf_counter() - t0)
            out["sharded_searches_per_second"] = throughput(lambda p: sharded.search(p, a.k))
            out["local_searches_per_second"] = throughput(lambda p: index.search(p, a.k))
            del index

            victim = sharded.placement()[0]
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
            t0 = time.perf_counter()
            after = sharded.search(gallery.probes[0], a.k)
            out["search_after_kill_seconds"] = time.perf_counter() - t0
            out["recoveries"] = [{"shard": s, "seconds": sec} for s, sec in sharded.recoveries]
            out["after_kill_rank1_is_mate"] = after[0].key == gallery.mate_ids[0]
            sharded.close()
        finally:
            client.close()
            for p in procs:
                p.kill()
    text = json.dumps(out, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
