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

import dataclasses
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
        for stored in self._open(read_only=True).all_templates():
            key = palmvein.identity_key(stored.id, stored.hand)
            if palmvein.shard_of(key, shards) != shard:
                continue
            try:
                index.add_bytes(key, stored.data)
            except palmvein.Error as e:
                problems.append(f"template row {stored.row_id} of '{stored.id}' (hand {stored.hand.code}) in "
                                f"{self.path} is left out: {e}")
                continue
            name, hand, count = identities.get(key, (stored.id, stored.hand.code, 0))
            identities[key] = (name, hand, count + 1)
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
                 strategy: "palmvein.SearchStrategy" = palmvein.SearchStrategy.Exhaustive):
        started = time.perf_counter()
        self.store, self.shard, self.shards = store, shard, shards
        self.index = palmvein.IdentificationIndex(threads=threads, strategy=strategy)
        self.problems: list = []  # templates left out at load, one sentence each
        self.identities = store.load(self.index, shard, shards, self.problems)  # None: keys are the names
        self.load_seconds = time.perf_counter() - started

    def _most_templates(self) -> int:
        if self.identities is None:
            return 1
        return max((count for _, _, count in self.identities.values()), default=1)

    def search(self, probe: bytes, k: int) -> list:
        """This shard's best k identities as (score, key, id, hand), best first."""
        if k <= 0 or len(self.index) == 0:
            return []
        template = palmvein.Template.from_bytes(probe)
        entries = min(len(self.index), k * self._most_templates())
        out, seen = [], set()
        for c in self.index.search(template, entries):  # best first; ties: smaller key first
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
                 call_timeout_s: float = 60.0):
        if shards < 1:
            raise palmvein.InvalidArgument("a sharded gallery needs at least 1 shard")
        self.client, self.store, self.shards = client, store, shards
        self.threads_per_shard, self.strategy, self.call_timeout_s = threads_per_shard, strategy, call_timeout_s
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

    # -- placement ---------------------------------------------------------------------------------
    def _workers(self) -> list:
        return sorted(self.client.scheduler_info()["workers"])

    def _start(self, shard: int, worker: str) -> None:
        key = f"palmvein-shard-{shard}-{uuid.uuid4().hex[:12]}"
        self._futures[shard] = self.client.submit(Shard, self.store, shard, self.shards, self.threads_per_shard,
                                                  self.strategy, actor=True, workers=[worker],
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

    def search(self, probe, k: int = 10) -> list:
        """The k best identities over all shards, best first (a list of :class:`Match`).

        `probe` is a palmvein.Template (or its bytes). Equal to ranking one index over the whole
        gallery: same identities, scores (== palmvein.match) and order.
        """
        if k < 0:
            raise palmvein.InvalidArgument("k must be at least 0")
        data = probe.to_bytes() if isinstance(probe, palmvein.Template) else bytes(probe)
        palmvein.Template.from_bytes(data)  # a corrupt probe fails here, once, with the parser's message
        pending = []
        for s in range(self.shards):
            actor, worker = self._actors[s], self._placement[s]
            try:
                pending.append((s, worker, actor.search(data, k)))
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
                results.append(self._call(s, "search", data, k))
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
        for f in self._futures:
            if f is not None:
                f.release()
        self._futures = [None] * self.shards
        self._actors = [None] * self.shards
