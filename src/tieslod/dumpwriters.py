"""The dumps that need nothing but each chunk's cache key (N-Quads, TriG, JSON-LD), written in
threads that start before the chunks are made, and a fresh store loaded from the N-Quads as they
are written.

A rebuild copies nearly all of each dump from the previous release (splice.py); those copies only
need the pieces' keys, which the plan knows. So the copying runs while the changed articles are
made, and a piece that has to be loaded waits until its chunk is made (make_all says when). N-Quads
has its own thread; TriG and JSON-LD share one. A full build's store (a fresh bulk load) reads the
N-Quads through a pipe as the writer produces them, chunk by chunk during the chunks stage, instead
of from the finished file after it: at 1M quads the load (~15 s on one core) then overlaps the
chunks stage instead of following it.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from .cache import Cache
from .config import Settings
from .dumps import write_chunked
from .errors import InternalError
from .pipeline import Plan, bodies, nq_bodies
from .splice import Bodies, OldDump, Sink, Source
from .storeupdate import StoreUpdate

PIPE_SIZE = 1 << 20         # bytes the store's pipe buffers (Linux F_SETPIPE_SZ; 64 KB otherwise)

# Write ends of open store pipes. A process forked while one is open (a chunk worker, the claim-table
# child) would hold it open, and the store would never see the end of its input: a build hung so.
_WRITERS: set[int] = set()


def _close_writers_in_child() -> None:
    for fd in list(_WRITERS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _WRITERS.clear()


os.register_at_fork(after_in_child=_close_writers_in_child)


class _PipeWriter:
    """The write end of a store pipe (what Sink.tee needs: write and close)."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "wb")
        self._fd = fd
        _WRITERS.add(fd)

    def write(self, data: bytes) -> int:
        return self._file.write(data)

    def close(self) -> None:
        if not self._file.closed:
            _WRITERS.discard(self._fd)
            self._file.close()


class _Gate:
    """Loaders of pieces wait here until their chunk is made (or the chunks stage fails)."""

    def __init__(self) -> None:
        self._ready: set[str] = set()
        self._all = False
        self._failed = False
        self._cond = threading.Condition()

    def ready(self, keys: list[str]) -> None:
        with self._cond:
            self._ready.update(keys)
            self._cond.notify_all()

    def open(self, failed: bool = False) -> None:
        with self._cond:
            self._all, self._failed = True, failed
            self._cond.notify_all()

    def through(self, key: str, load: Callable[[], Bodies]) -> Callable[[], Bodies]:
        def wait_then_load() -> Bodies:
            with self._cond:
                self._cond.wait_for(lambda: self._all or key in self._ready)
                if self._failed:
                    raise InternalError("the build stopped before this dump piece was made")
            return load()
        return wait_then_load


def _gated(sources: Iterator[Source], gate: _Gate, keys: list[str]) -> Iterator[Source]:
    for (pieces, load), key in zip(sources, keys):
        yield pieces, gate.through(key, load)


def _load_stream(path: Path, stream: BinaryIO) -> tuple[StoreUpdate, float]:
    """A fresh store bulk-loaded from N-Quads read off `stream` until it ends; the pipe is always read
    to its end, so the writer never blocks on a loader that gave up."""
    began = time.monotonic()
    try:
        store = ox.Store(str(path))
        store.bulk_load(input=stream, format=ox.RdfFormat.N_QUADS)
        store.flush()
        return StoreUpdate("fresh"), round(time.monotonic() - began, 3)
    finally:
        while stream.read(1 << 20):
            pass
        stream.close()


class EarlyDumps:
    """Starts the N-Quads, TriG and JSON-LD writers (and, with `store`, a fresh store loading from
    the N-Quads); `sinks` fills as they open their files. A context manager: leaving it on an error
    stops the writers, closes their files and waits for the store."""

    def __init__(self, dumps: Path, cache: Cache, work: Plan, settings: Settings, old: dict[str, OldDump],
                 store: Path | None = None) -> None:
        self.sinks: dict[str, Sink] = {}
        self.old = old
        self._gate = _Gate()
        keys = [t.cache_key for t in work.tasks]
        self._pool = ThreadPoolExecutor(3)
        tees: dict[str, BinaryIO] = {}
        self.store: Future | None = None
        self._tee: _PipeWriter | None = None
        if store is not None:
            read, write = os.pipe()
            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            tees["nq"] = self._tee = _PipeWriter(write)  # type: ignore[assignment]
            self.store = self._pool.submit(_load_stream, store, os.fdopen(read, "rb"))
        self.nq: Future = self._pool.submit(write_chunked, dumps, ("nq",), _gated(nq_bodies(cache, work), self._gate, keys),
                                            settings, old, False, self.sinks, tees)
        self.rdf: Future = self._pool.submit(write_chunked, dumps, ("jsonld", "trig"),
                                             _gated(bodies(cache, work), self._gate, keys), settings, old, False, self.sinks)
        self._pool.shutdown(wait=False)

    def ready(self, keys: list[str]) -> None:
        """These chunks are made: their pieces may be loaded."""
        self._gate.ready(keys)

    def go(self) -> None:
        """Every chunk is made."""
        self._gate.open()

    def __enter__(self) -> EarlyDumps:
        return self

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if exc_type is None:
            return
        self._gate.open(failed=True)
        for job in (self.nq, self.rdf):
            with contextlib.suppress(Exception):   # the build is failing already: its error is the one to see
                job.result()
        for sink in list(self.sinks.values()):
            with contextlib.suppress(Exception):
                sink.close()                       # closes the store's pipe too
        if self._tee is not None:
            self._tee.close()                      # (in case the N-Quads writer never opened its sink)
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.result()
