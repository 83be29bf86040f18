"""Query workers: a pebble ProcessPool whose processes each keep one read-only store open.

pyoxigraph cannot cancel a query (shared notes), so a query runs in a worker process that pebble
kills at the deadline: the CPU is really freed and the pool starts a fresh worker. Each task carries
the release path; a worker reopens its store when the path differs, which is how workers follow a
rebuild without a restart. The worker serializes the result to bytes itself (results are bound to
the thread that made them) and stops writing as soon as the size limit is passed, so a huge result
is refused without ever being held in memory whole."""
from __future__ import annotations

import asyncio
import multiprocessing
import signal
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

import pyoxigraph as ox
from pebble import ProcessExpired, ProcessPool

from ..errors import InternalError, QueryError, QueryTimeout, ResultTooLarge
from ..formats import rdf_format, result_format
from ..store import Answer
from ..vocab import PREFIXES
from .context import QueryRequest


class ServerBusy(QueryTimeout):
    """Every worker stayed busy for a whole deadline: the query was never started."""


class NotAcceptableResult(QueryError):
    """The query's kind (bindings or graph) has no format the client accepts."""


# Per worker process, not per app: the store this process has open, keyed by release path.
_OPEN: dict[str, ox.Store] = {}


def _store(release: str) -> ox.Store:
    store = _OPEN.get(release)
    if store is None:
        _OPEN.clear()   # drop the previous release's handle before opening the next
        store = _OPEN[release] = ox.Store.read_only(str(Path(release) / "store"))
    return store


def _init_worker(release: str) -> None:
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



class _Bounded:
    """A write-only sink that refuses to grow past a limit (pyoxigraph writes in ~8 KB chunks)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size, self.parts = limit, 0, []

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > self.limit:
            raise ResultTooLarge(f"the result is larger than the limit of {self.limit:,} bytes; "
                                 "add a LIMIT or select fewer variables")
        self.parts.append(bytes(chunk))
        return len(chunk)

    def flush(self) -> None:
        pass


def _graphs(iris: tuple[str, ...]) -> list[ox.NamedNode] | None:
    try:
        return [ox.NamedNode(i) for i in iris] if iris else None
    except ValueError as exc:
        raise QueryError(f"not a valid graph IRI: {exc}") from exc


def execute(release: str, req: QueryRequest, max_bytes: int, union: bool) -> tuple[str, bytes, str]:
    """Runs in a worker: (kind, body, format name). An empty format name in req means that kind
    of result is not acceptable to the client; that is found out before the query is evaluated."""
    try:
        result = _store(release).query(
            req.query, prefixes=PREFIXES, use_default_graph_as_union=union,
            default_graph=_graphs(req.default_graph_uris), named_graphs=_graphs(req.named_graph_uris))
    except SyntaxError as exc:
        raise QueryError(str(exc)) from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise QueryError(f"query evaluation failed: {exc}") from None
    graph = not isinstance(result, (ox.QuerySolutions, ox.QueryBoolean))
    name = req.graph_format if graph else req.result_format
    if not name:
        raise NotAcceptableResult("this query returns " + ("RDF triples" if graph else "SPARQL results")
                                  + ", and the request accepts no format for them")
    sink = _Bounded(max_bytes)
    try:
        if graph:
            fmt = rdf_format(name)
            prefixes = None if fmt.name == "jsonld" else PREFIXES   # JSON-LD output takes no prefixes
            ox.serialize(result, sink, fmt.oxigraph, prefixes=prefixes)
        else:
            fmt = result_format(name)
            result.serialize(sink, fmt.oxigraph)
    except (OSError, ValueError, RuntimeError) as exc:
        raise QueryError(f"query evaluation failed: {exc}") from None
    kind = "graph" if graph else "boolean" if isinstance(result, ox.QueryBoolean) else "bindings"
    return kind, b"".join(sink.parts), fmt.name


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
        # forkserver, not fork: pebble respawns workers from its own threads, and forking a process
        # with running threads (event loop, pool manager) can copy a held lock into the child.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tieslod.server.pool"])
        self._pool = ProcessPool(max_workers=self.workers, initializer=_init_worker,
                                 initargs=(str(release),), context=context)

    def stop(self) -> None:
        """Kill the workers now (a running query would otherwise hold shutdown up to its deadline)."""
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=5)
            self._pool = None

    async def run(self, release: Path, req: QueryRequest, union: bool = True) -> Answer:
        """Run one query with a deadline; a query waits at most one deadline for a free worker."""
        self.start(release)
        assert self._pool is not None
        future = self._pool.schedule(execute, (str(release), req, self.max_result_bytes, union),
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


class AnswerCache:
    """Answers already sent, by (release, request): a release never changes, so neither do they.

    Measured (docs/notes/issue-3.md): a round trip through the pool costs the front process more
    CPU than the HTTP layer and the query together, so repeated queries (entity pages, crawlers,
    dashboards) are answered from here. Bounded in bytes, least recently used first out; queries
    using RAND/NOW/UUID/STRUUID/BNODE are never stored (the caller decides)."""

    def __init__(self, max_bytes: int, max_entry_bytes: int = 1_000_000) -> None:
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self.size, self.hits, self.misses = 0, 0, 0
        self._entries: OrderedDict[Hashable, Answer] = OrderedDict()

    def get(self, key: Hashable) -> Answer | None:
        answer = self._entries.get(key)
        if answer is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return answer

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def put(self, key: Hashable, answer: Answer) -> None:
        cost = len(answer.body) + 200
        if cost > min(self.max_entry_bytes, self.max_bytes) or key in self._entries:
            return
        self._entries[key] = answer
        self.size += cost
        while self.size > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.size -= len(old.body) + 200
