# SPDX-License-Identifier: Apache-2.0
"""Machines and cores for a national gallery, from a measured cluster benchmark (docs/scale.md).

    python3 benchmarks/cluster_model.py RESULTS.json [--people 36e6 --hands 2 --latency 1.0 --load 1,10,50]

RESULTS.json is what benchmarks/cluster_bench.py wrote. The model, its assumptions stated:
* A search compares the probe with every enrolled template of the searched hands: a one-hand probe
  whose hand is not known, or a two-hand probe (two searches of one hand each), touches all
  people x hands templates. The work is linear in the templates (the coarse pass reads every one,
  the shortlist is a fixed fraction of them), so the measured core-seconds per template carry over.
* cost per template = (in-process median latency) x (its threads) / (gallery size), one core.
* One shard per machine: one worker process whose IdentificationIndex uses all the machine's cores
  (palmvein.cluster: threads_per_shard), so a search fans out to as many shards as machines.
* Fan-out overhead grows with the shards: overhead(S) = (measured overhead / measured shards) x S
  (each shard is one round trip from the coordinating client; conservative: no tree merge, and the
  measurement ran 4 processes on 2 cores, which counts CPU contention as overhead).
* Latency: templates / S x cost / cores per machine + overhead(S) <= the budget. Throughput:
  S x cores per machine x utilisation >= load x templates x cost. Memory: templates x (in-process
  resident bytes per template) + a per-process base must fit 80 % of a machine's memory.
"""
import argparse
import json
import math


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--people", type=float, default=36e6)
    ap.add_argument("--hands", type=int, default=2)
    ap.add_argument("--latency", type=float, default=1.0, help="seconds a search may take")
    ap.add_argument("--load", default="1,10,50", help="searches per second to sustain (comma-separated)")
    ap.add_argument("--utilisation", type=float, default=0.7, help="fraction of a core kept busy by searches")
    ap.add_argument("--machine-cores", type=int, default=32)
    ap.add_argument("--machine-memory-gib", type=float, default=256)
    ap.add_argument("--strategy", default="coarse_to_fine", choices=["coarse_to_fine", "exhaustive"])
    ap.add_argument("--index-threads", type=int, default=2, help="threads of the measured in-process index")
    a = ap.parse_args()
    r = json.load(open(a.results))
    m = r[a.strategy]
    cost = m["local_median_ms"] / 1e3 * a.index_threads / r["gallery"]  # core-seconds per template
    per_template_bytes = r["index_resident_mib"] * 2**20 / r["gallery"]
    base_bytes = 150 * 2**20  # an idle Python worker with palmvein loaded (measured ~110-130 MiB)
    overhead_per_shard = max(0.0, m["overhead_median_ms"]) / 1e3 / r["shards"]
    templates = a.people * a.hands
    work = templates * cost  # core-seconds per search
    print(f"measured: {r['gallery']:,} templates, {a.strategy}: {cost * 1e9:.1f} ns per template on one core, "
          f"{per_template_bytes:.0f} bytes per template resident, fan-out overhead "
          f"{m['overhead_median_ms']:.1f} ms at {r['shards']} shards")
    print(f"gallery: {a.people:,.0f} people x {a.hands} hands = {templates:,.0f} templates; one search = "
          f"{work:.1f} core-seconds\n")
    per_machine_memory = a.machine_memory_gib * 2**30 * 0.8
    print("| load (searches/s) | machines (cores x GiB) | cores | bound by | scan + fan-out (s) | memory (GiB) |")
    print("|---|---|---|---|---|---|")
    for load in [float(x) for x in a.load.split(",")]:
        found = None
        for machines in range(1, 100000):
            scan = templates / machines * cost / a.machine_cores
            fan_out = overhead_per_shard * machines
            memory_ok = templates * per_template_bytes / machines + base_bytes <= per_machine_memory
            throughput_ok = machines * a.machine_cores * a.utilisation >= load * work
            if scan + fan_out <= a.latency and memory_ok and throughput_ok:
                found = (machines, scan, fan_out)
                break
        if found is None:
            print(f"| {load:g} | — | — | not reachable within {a.latency:g} s | — | — |")
            continue
        machines, scan, fan_out = found
        bounds = []
        if load * work > (machines - 1) * a.machine_cores * a.utilisation:
            bounds.append("throughput")
        if templates * per_template_bytes / max(1, machines - 1) + base_bytes > per_machine_memory:
            bounds.append("memory")
        if machines > 1 and (templates / (machines - 1) * cost / a.machine_cores
                             + overhead_per_shard * (machines - 1)) > a.latency:
            bounds.append("latency")
        print(f"| {load:g} | {machines} ({a.machine_cores} x {a.machine_memory_gib:g}) | {machines * a.machine_cores} | "
              f"{', '.join(bounds) or '—'} | {scan:.2f} + {fan_out:.3f} | "
              f"{(templates * per_template_bytes + machines * base_bytes) / 2**30:.0f} |")

if __name__ == "__main__":
    main()
