"""Query workers: a pebble ProcessPool whose processes each keep one read-only store open.

pyoxigraph cannot cancel a query (shared notes), so a query runs in a worker process that pebble
kills at the deadline: the CPU is really freed and the pool starts a fresh worker. Each task carries
the release path; a worker reopens its store when the path differs, which is how workers follow a
rebuild without a restart. The worker serializes the result to bytes itself (results are bound to
the thread that made them) and stops writing as soon as the size limit is passed, so a huge result
is refused without ever being held in memory whole. Before anything else a worker denies itself the
network (sandbox.py)."""
from __future__ import annotations

import asyncio
import errno
import multiprocessing
import signal
from collections.abc import Hashable
from pathlib import Path

import pyoxigraph as ox
from cachetools import LRUCache
from pebble import ProcessExpired, ProcessPool

from ..errors import InternalError, QueryTimeout, SandboxError, ServerBusy
from ..formats import rdf_format, result_format
from ..querying.store import Answer, run_query
from .context import QueryRequest
from .sandbox import check_available, connect_errno, deny_network


# Cache, per worker process, not per app: the store this process has open, keyed by release path
# (opening a store per query would cost more than most queries).
_OPEN: dict[str, ox.Store] = {}


def _store(release: str) -> ox.Store:
    store = _OPEN.get(release)
    if store is None:
        _OPEN.clear()   # drop the previous release's handle before opening the next
        store = _OPEN[release] = ox.Store.read_only(str(Path(release) / "store"))
    return store


def _init_worker(release: str) -> None:
    # First of all: a worker never gets a network socket (server/sandbox.py). If this fails the
    # worker exits before taking a task; start() has checked that it cannot fail for want of libseccomp.
    deny_network()
    # Ctrl-C reaches the whole process group; the parent shuts the pool down, workers stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # pebble stops a late worker with SIGTERM, caught by a Python handler it installs; but Python
    # handlers only run between bytecodes, never while the query runs in Rust, so pebble fell back
    # to SIGKILL 3 s later (measured: a 2 s deadline answered after 5.1 s). The default action ends
    # the process at once; it holds nothing that needs a clean exit (the store is read-only).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        _store(release)   # warm: the first query should not pay for opening the store
    except OSError:
        pass              # the task itself will report it



def execute(release: str, req: QueryRequest, max_bytes: int) -> tuple[str, bytes, str]:
    """Runs in a worker: (kind, body, format name); names, because a Format does not pickle."""
    answer = run_query(_store(release), req.query, req.result_format, req.graph_format,
                       req.default_graph_uris, req.named_graph_uris, req.base_iri, max_bytes)
    return answer.kind, answer.body, answer.fmt.name


class QueryPool:
    """The app's query workers. `run` is what AppContext.run_query awaits."""

    def __init__(self, workers: int, timeout: float, max_result_bytes: int, queue_wait: float | None = None) -> None:
        self.workers, self.timeout, self.max_result_bytes = workers, timeout, max_result_bytes
        # How long a query may wait for a free worker before 503. Two deadlines by default: when
        # runaway queries hold every worker, they are killed after one deadline and the queue
        # moves on (measured: with one deadline, queries queued behind two simultaneous runaways
        # got 503 while the replacement workers started). A client waits at most three deadlines.
        self.queue_wait = 2 * timeout if queue_wait is None else queue_wait
        self._pool: ProcessPool | None = None

    def start(self, release: Path) -> None:
        if self._pool is not None:
            return
        check_available()
        # forkserver, not fork: pebble respawns workers from its own threads, and forking a process
        # with running threads (event loop, pool manager) can copy a held lock into the child.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tieslod.server.pool"])
        self._pool = ProcessPool(max_workers=self.workers, initializer=_init_worker,
                                 initargs=(str(release),), context=context)

    async def verify_sandbox(self, release: Path) -> None:
        """Start-up self-check: a worker's TCP connect must be refused by the kernel (EPERM)."""
        self.start(release)
        assert self._pool is not None
        code = await asyncio.wrap_future(self._pool.schedule(connect_errno, ("127.0.0.1", 9), timeout=self.timeout))
        if code != errno.EPERM:
            raise SandboxError(f"a query worker could open a TCP socket (errno {code}): refusing to serve queries")

    def stop(self) -> None:
        """Kill the workers now (a running query would otherwise hold shutdown up to its deadline)."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=5)
            self._pool = None

    async def run(self, release: Path, req: QueryRequest) -> Answer:
        """Run one query with a deadline; a query waits at most one deadline for a free worker."""
        self.start(release)
        assert self._pool is not None
        future = self._pool.schedule(execute, (str(release), req, self.max_result_bytes),
                                     timeout=self.timeout)
        waiter = asyncio.wrap_future(future)
        try:
            done, _ = await asyncio.wait({waiter}, timeout=self.queue_wait)
            if not done and not future.running():
                raise ServerBusy(f"every query worker stayed busy for {self.queue_wait:g} s; try again later")
            kind, body, name = await waiter
        except TimeoutError:
            raise QueryTimeout(f"the query ran past its deadline of {self.timeout:g} s and was stopped") from None
        except ProcessExpired as exc:
            raise InternalError(f"the worker running the query died (exit code {exc.exitcode})") from None
        finally:
            # The client is gone or the wait ended early: cancelling kills a running worker too.
            if not future.done():
                future.cancel()
        fmt = rdf_format(name) if kind == "graph" else result_format(name)
        return Answer(kind, body, fmt)


def _cost(answer: Answer) -> int:
    return len(answer.body) + 200   # the body plus a rough allowance for the key and the object


class AnswerCache:
    """Answers already sent, by (release, request): a release never changes, so neither do they.

    Measured (docs/notes/issue-3.md): a round trip through the pool costs the front process more
    CPU than the HTTP layer and the query together, so repeated queries (entity pages, crawlers,
    dashboards) are answered from here. A cachetools LRU bounded in bytes; queries using
    RAND/NOW/UUID/STRUUID/BNODE are never stored (the caller decides)."""

    def __init__(self, max_bytes: int, max_entry_bytes: int = 1_000_000) -> None:
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._lru: LRUCache[Hashable, Answer] = LRUCache(maxsize=max(max_bytes, 1), getsizeof=_cost)
        self.hits = self.misses = 0

    @property
    def size(self) -> int:
        return int(self._lru.currsize)

    def get(self, key: Hashable) -> Answer | None:
        answer = self._lru.get(key)
        if answer is None:
            self.misses += 1
        else:
            self.hits += 1
        return answer

    def clear(self) -> None:
        self._lru.clear()

    def put(self, key: Hashable, answer: Answer) -> None:
        if _cost(answer) <= self.max_entry_bytes:
            self._lru[key] = answer
