"""The dumps that need nothing but each chunk's cache key (N-Quads, TriG, JSON-LD), written in
threads that start before the chunks are made.

A rebuild copies nearly all of each dump from the previous release (splice.py); those copies only
need the pieces' keys, which the plan knows. So the copying runs while the changed articles are
made, and a piece that has to be loaded waits at a gate until the chunks stage is over. N-Quads has
its own thread (a fresh store loads from it as soon as it is complete); TriG and JSON-LD share one.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .cache import Cache
from ..config import Settings
from .dumps import write_chunked
from ..errors import InternalError
from .pipeline import Plan, bodies, nq_bodies
from .splice import Bodies, OldDump, Sink, Source


class _Gate:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._failed = False

    def open(self, failed: bool = False) -> None:
        self._failed = failed
        self._event.set()

    def through(self, load: Callable[[], Bodies]) -> Callable[[], Bodies]:
        def wait_then_load() -> Bodies:
            self._event.wait()
            if self._failed:
                raise InternalError("the build stopped before this dump piece was made")
            return load()
        return wait_then_load


def _gated(sources: Iterator[Source], gate: _Gate) -> Iterator[Source]:
    for keys, load in sources:
        yield keys, gate.through(load)


class EarlyDumps:
    """Starts the N-Quads, TriG and JSON-LD writers; `sinks` fills as they open their files. A
    context manager: leaving it on an error stops the writers and closes their files."""

    def __init__(self, dumps: Path, cache: Cache, work: Plan, settings: Settings, old: dict[str, OldDump],
                 previous: Path | None = None, store_sums: Future | None = None) -> None:
        self.sinks: dict[str, Sink] = {}
        # the release `old` indexes, and its store's verified checksums (storeupdate.verified_store;
        # None: its store is not updated but loaded afresh)
        self.old, self.previous, self.store_sums = old, previous, store_sums
        self._gate = _Gate()
        self._pool = ThreadPoolExecutor(2)
        self.nq: Future = self._pool.submit(write_chunked, dumps, ("nq",), _gated(nq_bodies(cache, work), self._gate),
                                            settings, old, False, self.sinks)
        self.rdf: Future = self._pool.submit(write_chunked, dumps, ("jsonld", "trig"),
                                             _gated(bodies(cache, work), self._gate), settings, old, False, self.sinks)
        self._pool.shutdown(wait=False)

    def go(self) -> None:
        """Every chunk is made: pieces that must be loaded may now be."""
        self._gate.open()

    def __enter__(self) -> EarlyDumps:
        return self

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if exc_type is None:
            return
        self._gate.open(failed=True)
        for job in (self.nq, self.rdf):
            try:
                job.result()
            except Exception:       # the build is failing already: its own error is the one to see
                pass
        for sink in list(self.sinks.values()):
            try:
                sink.close()
            except Exception:
                pass
