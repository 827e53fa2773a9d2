# SPDX-License-Identifier: Apache-2.0
"""palmvein.cluster: 1:N search over a gallery sharded across a Dask cluster (docs/scale.md).

The gallery is split into shards by a stable hash of the identity (``palmvein.shard_of`` of
``palmvein.identity_key(id, hand)``). Each shard is a :class:`Shard`, a Dask *actor*: an
``IdentificationIndex`` that lives in one worker's memory, loaded there from the durable store (a
palmvein gallery file, or the synthetic benchmark gallery). Templates never pass through the
scheduler: a search sends the probe's bytes straight to each shard's worker and merges the shards'
top-k exactly (the result equals one index over the whole gallery; see :meth:`ShardedGallery.search`).

Enrolment and deletion while serving write the store first (the store stays the truth) and then
the owning shard. When a worker is lost, the shards it held are loaded again, from the store, on the
remaining workers, and the search that met the loss is answered from them; when a worker is added,
shards move to it (:meth:`ShardedGallery.rebalance`).

Thread-safety: one :class:`ShardedGallery` may be used from several threads; searches run
concurrently, enrolment, deletion, recovery and rebalancing are serialised by a lock.

Start a cluster as Dask starts one (``dask scheduler``, ``dask worker ADDR --nworkers 4
--nthreads 1``, or ``distributed.LocalCluster``), then ``python3 -m palmvein.cluster serve``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
import time
import uuid
from typing import Iterable, Optional, Sequence

import palmvein

__all__ = ["GalleryStore", "BenchStore", "Shard", "ShardedGallery", "Match", "ShardError"]

# A worker that died mid-call answers with one of these (distributed 2022.12: OSError "Unable to
# contact Actor's worker", ValueError "Worker holding Actor was lost", CommClosedError is an OSError).
_WORKER_LOST = (OSError, ValueError, EOFError)


def _worker_lost(error: BaseException) -> bool:
    """True when `error` says the shard's worker is gone (not a palmvein error raised by the shard)."""
    return isinstance(error, _WORKER_LOST) and not isinstance(error, palmvein.Error)


class ShardError(palmvein.Error):
    """A shard could not be loaded or served (e.g. a corrupt template in the store)."""


@dataclasses.dataclass(frozen=True)
class Match:
    """One identity found by a search: best-template score (Max fusion, as the Gallery ranks)."""

    id: str
    hand: str  # "L", "R" or "U"
    score: float
    key: int  # palmvein.identity_key(id, hand); ties rank by smaller key


# ---------------------------------------------------------------------------------------------------
# Durable stores. A store is a small picklable description; each shard opens it where it runs.

@dataclasses.dataclass(frozen=True)
class GalleryStore:
    """A palmvein gallery file (encrypted SQLite) that every worker can open at `path`."""

    path: str
    key_file: Optional[str] = None

    def _open(self, read_only: bool) -> "palmvein.Gallery":
        return palmvein.Gallery.open(self.path, key_file=self.key_file, create=False, read_only=read_only)

    def load(self, index: "palmvein.IdentificationIndex", shard: int, shards: int, problems: list) -> dict:
        """Adds the templates of this shard's identities to `index`; returns {key: (id, hand, count)}.

        A stored template that does not parse (another algorithm, damaged bytes written by another
        program) is left out and described in `problems`; the rest is served.
        """
        identities: dict = {}

        def take(stored):  # streamed: the gallery is never held in memory besides the index
            key = palmvein.identity_key(stored.id, stored.hand)
            if palmvein.shard_of(key, shards) != shard:
                return
            try:
                index.add_bytes(key, stored.data)
            except palmvein.Error as e:
                problems.append(f"template row {stored.row_id} of '{stored.id}' (hand {stored.hand.code}) in "
                                f"{self.path} is left out: {e}")
                return
            name, hand, count = identities.get(key, (stored.id, stored.hand.code, 0))
            identities[key] = (name, hand, count + 1)

        self._open(read_only=True).for_each_template(take)
        return identities

    def templates_of(self, identity: str, hand: "palmvein.Hand") -> list:
        return [t.data for t in self._open(read_only=True).templates_of(identity, hand)]

    def enroll(self, identity: str, templates: Sequence, hand, display_name: str, mode) -> "palmvein.IdentityInfo":
        return self._open(read_only=False).enroll(identity, list(templates), hand=hand,
                                                  display_name=display_name, mode=mode)

    def remove(self, identity: str, hand) -> int:
        return self._open(read_only=False).remove(identity, hand)


@dataclasses.dataclass(frozen=True)
class BenchStore:
    """The synthetic gallery of ``palmvein bench identify --gallery SIZE`` (read-only).

    Each shard renders the same source palms and keeps the mosaics whose id falls in it, so the
    union of the shards is exactly the gallery one ``palmvein.fill_bench_gallery`` builds. Identity
    keys are the index ids (one template per identity); names are the ids as text.
    """

    size: int
    probes: int = 20
    absent_probes: int = 0
    source_palms: int = 200
    source: str = "synthetic"
    threads: int = 1

    def fill(self, index: "palmvein.IdentificationIndex", shard: int = 0, shards: int = 1):
        return palmvein.fill_bench_gallery(index, self.size, probes=self.probes, absent_probes=self.absent_probes,
                                           source_palms=self.source_palms, threads=self.threads,
                                           source=self.source, shard=shard, shards=shards)

    def load(self, index, shard: int, shards: int, problems: list) -> Optional[dict]:
        self.fill(index, shard, shards)
        return None  # identities are the ids themselves


# ---------------------------------------------------------------------------------------------------
# The shard: a Dask actor (its methods run one at a time, in its worker's actor thread).

class Shard:
    """One shard of the gallery in a worker's memory."""

    def __init__(self, store, shard: int, shards: int, threads: int = 1,
                 strategy: "palmvein.SearchStrategy" = palmvein.SearchStrategy.Exhaustive, shortlist: int = 0):
        started = time.perf_counter()
        self.store, self.shard, self.shards = store, shard, shards
        self.index = palmvein.IdentificationIndex(threads=threads, strategy=strategy, shortlist=shortlist)
        self.problems: list = []  # templates left out at load, one sentence each
        self.identities = store.load(self.index, shard, shards, self.problems)  # None: keys are the names
        self.load_seconds = time.perf_counter() - started

    def _most_templates(self) -> int:
        if self.identities is None:
            return 1
        return max((count for _, _, count in self.identities.values()), default=1)

    def search(self, probe: bytes, k: int, strategy: "Optional[palmvein.SearchStrategy]" = None) -> list:
        """This shard's best k identities as (score, key, id, hand), best first."""
        if k <= 0 or len(self.index) == 0:
            return []
        template = palmvein.Template.from_bytes(probe)
        entries = min(len(self.index), k * self._most_templates())
        out, seen = [], set()
        for c in self.index.search(template, entries, strategy):  # best first; ties: smaller key first
            if c.id in seen:
                continue
            seen.add(c.id)
            if self.identities is None:
                out.append((c.score, c.id, str(c.id), "U"))
            else:
                name, hand, _ = self.identities[c.id]
                out.append((c.score, c.id, name, hand))
            if len(out) == k:
                break
        return out

    def put(self, key: int, identity: str, hand: str, templates: Sequence[bytes]) -> int:
        """Replaces the templates of one identity (after the store was written); returns its count."""
        if self.identities is None:
            raise ShardError("the benchmark gallery is read-only")
        parsed = [palmvein.Template.from_bytes(t) for t in templates]  # all or nothing
        self.index.remove(key)
        for t in parsed:
            self.index.add(key, t)
        if parsed:
            self.identities[key] = (identity, hand, len(parsed))
        else:
            self.identities.pop(key, None)
        return len(parsed)

    def drop(self, key: int) -> int:
        if self.identities is None:
            raise ShardError("the benchmark gallery is read-only")
        self.identities.pop(key, None)
        return self.index.remove(key)

    def stats(self) -> dict:
        return {"shard": self.shard, "templates": len(self.index),
                "identities": len(self.index) if self.identities is None else len(self.identities),
                "bytes_per_template": self.index.bytes_per_template, "load_seconds": self.load_seconds,
                "resident_bytes": palmvein.resident_bytes(), "problems": list(self.problems)}


# ---------------------------------------------------------------------------------------------------
# The client side.

def merge_top_k(results: Iterable[Sequence], k: int) -> list:
    """Merges the shards' top-k lists into the global top-k: score descending, then smaller key.

    Exact: an identity lives in one shard, and each shard returns its k best, so the k best of the
    union are among them; the order is the one a single index over the whole gallery gives.
    """
    merged = sorted((hit for hits in results for hit in hits), key=lambda h: (-h[0], h[1]))
    return [Match(id=name, hand=hand, score=score, key=key) for score, key, name, hand in merged[:k]]


class ShardedGallery:
    """A gallery split into `shards` Dask actors over the workers of `client`."""

    def __init__(self, client, store, shards: int = 4, threads_per_shard: int = 1,
                 strategy: "palmvein.SearchStrategy" = palmvein.SearchStrategy.Exhaustive,
                 shortlist: int = 0, call_timeout_s: float = 60.0):
        """`strategy`: Exhaustive (default) ranks exactly as one index over the whole gallery would.
        CoarseToFine pre-filters each shard; give `shortlist` = the whole gallery's
        IdentificationIndex.shortlist_size so that every shard re-ranks at least the entries one
        gallery-wide index would (the union of the shards' shortlists then contains its shortlist).
        """
        if shards < 1:
            raise palmvein.InvalidArgument("a sharded gallery needs at least 1 shard")
        self.client, self.store, self.shards = client, store, shards
        self.threads_per_shard, self.strategy, self.call_timeout_s = threads_per_shard, strategy, call_timeout_s
        self.shortlist = shortlist
        self._lock = threading.RLock()
        self._futures: list = [None] * shards
        self._actors: list = [None] * shards
        self._placement: list = [None] * shards  # worker address of each shard
        self.recoveries: list = []  # (shard, seconds) of each reload after a lost worker
        workers = self._workers()
        if not workers:
            raise ShardError("the Dask cluster has no workers")
        for s in range(shards):  # round-robin, then wait for all loads together
            self._start(s, workers[s % len(workers)])
        for s in range(shards):
            self._await(s)

    # -- sharing one sharded gallery between processes ----------------------------------------------
    def publish(self, name: str) -> None:
        """Publishes the shards under `name` on the scheduler, for :meth:`attach` in other processes."""
        with self._lock:
            self._published_name = name
            self.client.publish_dataset(override=True, **{name: self._description()})

    def _description(self) -> dict:
        return {"store": self.store, "shards": self.shards, "futures": list(self._futures),
                "placement": list(self._placement)}

    @classmethod
    def attach(cls, client, name: str, call_timeout_s: float = 60.0) -> "ShardedGallery":
        """The sharded gallery another process published (``python3 -m palmvein.cluster serve``).

        Searches, enrolments and deletions work as on the original; a shard lost with its worker is
        reloaded by the publishing process, and this one waits for it (up to call_timeout_s).
        """
        self = cls.__new__(cls)
        self.client, self.call_timeout_s = client, call_timeout_s
        self._lock = threading.RLock()
        self.recoveries = []
        self._attached_name = name
        self._read_published()
        return self

    def _read_published(self) -> None:
        try:
            d = self.client.get_dataset(self._attached_name)
        except KeyError:
            raise ShardError(f"no sharded gallery named '{self._attached_name}' is published on this scheduler") from None
        self.store, self.shards = d["store"], d["shards"]
        self._futures, self._placement = list(d["futures"]), list(d["placement"])
        self._actors = [f.result(timeout=self.call_timeout_s) for f in self._futures]

    # -- placement ---------------------------------------------------------------------------------
    def _workers(self) -> list:
        return sorted(self.client.scheduler_info()["workers"])

    def _start(self, shard: int, worker: str) -> None:
        key = f"palmvein-shard-{shard}-{uuid.uuid4().hex[:12]}"
        self._futures[shard] = self.client.submit(Shard, self.store, shard, self.shards, self.threads_per_shard,
                                                  self.strategy, self.shortlist, actor=True, workers=[worker],
                                                  allow_other_workers=False, key=key, pure=False)
        self._placement[shard] = worker

    def _await(self, shard: int) -> None:
        try:
            self._actors[shard] = self._futures[shard].result(timeout=self.call_timeout_s)
        except palmvein.Error:
            raise
        except Exception as e:  # the load failed on the worker: say which shard and why
            raise ShardError(f"shard {shard} could not be loaded on {self._placement[shard]}: {e}") from e

    def _least_loaded(self, workers: list, exclude: Optional[str] = None) -> str:
        load = {w: 0 for w in workers if w != exclude}
        for w in self._placement:
            if w in load:
                load[w] += 1
        if not load:
            raise ShardError("no live worker left to hold a shard")
        return min(sorted(load), key=lambda w: load[w])

    def _recover(self, shard: int, lost_worker: str) -> None:
        """Loads `shard` again, from the store, on a live worker (the old one is gone)."""
        if getattr(self, "_attached_name", None):
            self._await_publisher(shard, lost_worker)
            return
        with self._lock:
            if self._placement[shard] != lost_worker:  # another thread already moved it
                return
            started = time.perf_counter()
            deadline = started + self.call_timeout_s
            while True:  # the scheduler may still list the dead worker for a moment
                workers = [w for w in self._workers() if w != lost_worker]
                if workers or time.perf_counter() > deadline:
                    break
                time.sleep(0.05)
            old = self._futures[shard]
            self._start(shard, self._least_loaded(workers))
            self._await(shard)
            if old is not None:
                old.release()
            self.recoveries.append((shard, time.perf_counter() - started))
            if getattr(self, "_published_name", None):
                self.publish(self._published_name)

    def _await_publisher(self, shard: int, lost_worker: str) -> None:
        """Attached: waits until the publishing process has reloaded `shard` away from `lost_worker`."""
        started = time.perf_counter()
        while True:
            with self._lock:
                self._read_published()
                if self._placement[shard] != lost_worker:
                    self.recoveries.append((shard, time.perf_counter() - started))
                    return
            if time.perf_counter() - started > self.call_timeout_s:
                raise ShardError(f"shard {shard} was lost with worker {lost_worker} and not reloaded within "
                                 f"{self.call_timeout_s:g} s (is 'python3 -m palmvein.cluster serve' running?)")
            time.sleep(0.1)

    def rebalance(self) -> int:
        """Moves shards off lost workers and onto new ones so that loads differ by at most one.

        Returns how many shards moved. A moved shard is loaded on its new worker before the old copy
        is dropped, so searches meanwhile are answered.
        """
        moved = 0
        with self._lock:
            workers = self._workers()
            for s, w in enumerate(self._placement):
                if w not in workers:
                    self._recover(s, w)
                    moved += 1
            while True:
                load = {w: 0 for w in workers}
                for w in self._placement:
                    load[w] = load.get(w, 0) + 1
                busiest = max(sorted(load), key=lambda w: load[w])
                idlest = min(sorted(load), key=lambda w: load[w])
                if load[busiest] - load[idlest] <= 1:
                    return moved
                shard = self._placement.index(busiest)
                old = self._futures[shard]
                self._start(shard, idlest)
                self._await(shard)
                old.release()
                moved += 1
                if getattr(self, "_published_name", None):
                    self.publish(self._published_name)

    def placement(self) -> dict:
        """{shard: worker address}."""
        return dict(enumerate(self._placement))

    # -- serving -----------------------------------------------------------------------------------
    def _call(self, shard: int, method: str, *args):
        """actor.method(*args) on the shard, recovering once from a lost worker."""
        for attempt in range(2):
            actor, worker = self._actors[shard], self._placement[shard]
            try:
                return getattr(actor, method)(*args).result(timeout=self.call_timeout_s)
            except Exception as e:
                if attempt == 1 or not _worker_lost(e):
                    raise
                self._recover(shard, worker)
        raise AssertionError("unreachable")

    def search(self, probe, k: int = 10, strategy: "Optional[palmvein.SearchStrategy]" = None) -> list:
        """The k best identities over all shards, best first (a list of :class:`Match`).

        `probe` is a palmvein.Template (or its bytes). With the Exhaustive strategy (the default of a
        ShardedGallery) this equals ranking one index over the whole gallery: same identities, scores
        (== palmvein.match) and order. `strategy` overrides the gallery's for this search.
        """
        if k < 0:
            raise palmvein.InvalidArgument("k must be at least 0")
        data = probe.to_bytes() if isinstance(probe, palmvein.Template) else bytes(probe)
        palmvein.Template.from_bytes(data)  # a corrupt probe fails here, once, with the parser's message
        pending = []
        for s in range(self.shards):
            actor, worker = self._actors[s], self._placement[s]
            try:
                pending.append((s, worker, actor.search(data, k, strategy)))
            except Exception as e:
                if not _worker_lost(e):
                    raise
                pending.append((s, worker, None))
        results = []
        for s, worker, future in pending:
            try:
                if future is None:
                    raise OSError("worker lost")
                results.append(future.result(timeout=self.call_timeout_s))
            except Exception as e:
                if not _worker_lost(e):
                    raise
                self._recover(s, worker)
                results.append(self._call(s, "search", data, k, strategy))
        return merge_top_k(results, k)

    def enroll(self, identity: str, templates: Sequence, hand=palmvein.Hand.Unknown, display_name: str = "",
               mode=palmvein.EnrollMode.Create) -> "palmvein.IdentityInfo":
        """Enrols into the store, then into the owning shard (searches see it when this returns)."""
        with self._lock:
            info = self.store.enroll(identity, templates, hand, display_name, mode)
            self._refresh(identity, hand)
            return info

    def remove(self, identity: str, hand=None) -> int:
        """Deletes from the store, then from the owning shard(s); returns what Gallery.remove returns."""
        with self._lock:
            removed = self.store.remove(identity, hand)
            hands = [hand] if hand is not None else [palmvein.Hand.Left, palmvein.Hand.Right, palmvein.Hand.Unknown]
            for h in hands:
                self._refresh(identity, h)
            return removed

    def _refresh(self, identity: str, hand) -> None:
        key = palmvein.identity_key(identity, hand)
        shard = palmvein.shard_of(key, self.shards)
        self._call(shard, "put", key, identity, hand.code, self.store.templates_of(identity, hand))

    def stats(self) -> list:
        """Per shard: templates, identities, load time, worker memory, problems met at load."""
        return [self._call(s, "stats") for s in range(self.shards)]

    def problems(self) -> list:
        """Every template left out by a shard at load (e.g. unreadable), one sentence each."""
        return [p for st in self.stats() for p in st["problems"]]

    def close(self) -> None:
        """Drops the shards (an attached gallery only lets go of its handles)."""
        if getattr(self, "_published_name", None):
            try:
                self.client.unpublish_dataset(self._published_name)
            except KeyError:
                pass
        if getattr(self, "_attached_name", None):
            self._futures = [None] * self.shards
            return
        for f in self._futures:
            if f is not None:
                f.release()
        self._futures = [None] * self.shards
        self._actors = [None] * self.shards


# ---------------------------------------------------------------------------------------------------
# python3 -m palmvein.cluster serve | search | status

def _client(args):
    import distributed
    if args.scheduler_file:
        return distributed.Client(scheduler_file=args.scheduler_file, timeout=args.timeout)
    return distributed.Client(args.scheduler, timeout=args.timeout)


def _serve(args) -> int:
    client = _client(args)
    if args.bench_gallery:
        store = BenchStore(size=args.bench_gallery, probes=args.bench_probes)
    else:
        store = GalleryStore(args.store, args.key_file)
    strategy = palmvein.SearchStrategy.CoarseToFine if args.coarse_to_fine else palmvein.SearchStrategy.Exhaustive
    sharded = ShardedGallery(client, store, shards=args.shards, strategy=strategy, call_timeout_s=args.timeout)
    sharded.publish(args.name)
    for problem in sharded.problems():
        print(f"palmvein.cluster: warning: {problem}", file=sys.stderr, flush=True)
    print(f"palmvein.cluster: serving '{args.name}': {sum(s['templates'] for s in sharded.stats())} templates in "
          f"{args.shards} shards on {len(set(sharded.placement().values()))} workers", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(args.check_interval):
            moved = sharded.rebalance()  # reloads shards of lost workers, spreads onto new ones
            if moved:
                print(f"palmvein.cluster: moved {moved} shard(s): {sharded.placement()}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sharded.close()
        client.close()
    return 0


def _search(args) -> int:
    client = _client(args)
    try:
        sharded = ShardedGallery.attach(client, args.name, call_timeout_s=args.timeout)
        with open(args.probe, "rb") as f:
            data = f.read()
        try:
            palmvein.Template.from_bytes(data)
        except palmvein.FormatError:  # not a template: an image, made into one here
            result = palmvein.TemplateExtractor().extract(palmvein.decode_image(data))
            if not result.ok:
                print(f"palmvein.cluster: error: no template from '{args.probe}': {result.failure.code} "
                      f"({result.failure.guidance})", file=sys.stderr)
                return 2
            data = result.template.to_bytes()
        found = sharded.search(data, args.k)
        if args.json:
            print(json.dumps([dataclasses.asdict(m) for m in found], indent=2))
        else:
            for rank, m in enumerate(found, 1):
                print(f"{rank:3d}  {m.score:.6f}  {m.id} ({m.hand})")
        return 0
    finally:
        client.close()


def _status(args) -> int:
    client = _client(args)
    try:
        sharded = ShardedGallery.attach(client, args.name, call_timeout_s=args.timeout)
        print(json.dumps({"placement": sharded.placement(), "shards": sharded.stats()}, indent=2, default=str))
        return 0
    finally:
        client.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m palmvein.cluster",
                                     description="Sharded palmvein 1:N search on a Dask cluster (docs/scale.md).")
    parser.add_argument("--scheduler", help="scheduler address, e.g. tcp://10.0.0.1:8786")
    parser.add_argument("--scheduler-file", help="the file 'dask scheduler --scheduler-file' wrote")
    parser.add_argument("--name", default="palmvein", help="name the sharded gallery is published under")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the cluster or a shard")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="load the shards and keep them served (reloads lost ones)")
    source = serve.add_mutually_exclusive_group(required=True)
    source.add_argument("--store", help="gallery file (palmvein enroll --db); every worker must reach this path")
    source.add_argument("--bench-gallery", type=int, help="serve the synthetic gallery of 'palmvein bench identify'")
    serve.add_argument("--bench-probes", type=int, default=20)
    serve.add_argument("--key-file", help="the gallery's key file (default: $PALMVEIN_KEY_FILE, then the default)")
    serve.add_argument("--shards", type=int, default=4)
    serve.add_argument("--coarse-to-fine", action="store_true", help="pre-filter each shard (large galleries)")
    serve.add_argument("--check-interval", type=float, default=1.0, help="seconds between health checks")
    search = sub.add_parser("search", help="search a probe (image or .pvt template) in a served gallery")
    search.add_argument("probe")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    sub.add_parser("status", help="where the shards are and what they hold")
    args = parser.parse_args(argv)
    if not args.scheduler and not args.scheduler_file:
        parser.error("give --scheduler ADDRESS or --scheduler-file FILE")
    try:
        return {"serve": _serve, "search": _search, "status": _status}[args.command](args)
    except (palmvein.Error, OSError) as e:
        print(f"palmvein.cluster: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run the importable module's main: the Shard class must be palmvein.cluster.Shard, not
    # __main__.Shard, for the workers to unpickle it.
    from palmvein.cluster import main as _main

    sys.exit(_main())
