"""Query workers: long-lived processes, one query at a time each, over a Unix socket per worker.

pyoxigraph cannot cancel a query (shared notes), so a query runs in a worker process that is killed
(SIGKILL, at once: the CPU is free the moment the deadline passes) and replaced. The HTTP process
never runs a query, so a kill costs nothing but the runaway itself: no other request shares the
killed process. The trip is lean (measured in docs/notes/issue-13.md against pebble): the request
goes as one marshal frame, the answer comes back as the bytes pyoxigraph serialized plus a small
header, read by the event loop directly (no pickling of answers, no pool threads, no futures).
Each request carries the release path; a worker reopens its store when it differs, which is how
workers follow a rebuild. Before anything else a worker denies itself the network (sandbox.py) and
reports what a TCP connect then gives; a worker whose connect is not refused is never used."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import marshal
import multiprocessing
import os
import pickle
import resource
import signal
import socket
import struct
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..building.lifetime import die_with_parent
from ..errors import InternalError, QueryMemoryExceeded, QueryTimeout, SandboxError, ServerBusy, TiesError
from ..formats import rdf_format, result_format
from ..querying.store import Answer, run_query
from .context import QueryRequest
from .sandbox import check_available, connect_errno, deny_network

LOG = logging.getLogger("tieslod.server")
HEAD = struct.Struct("!IQ")    # (header length, body length) of every frame
SMALL = 65_536                 # answers up to this size are read in one piece with their header
READY_WAIT = 60.0              # seconds a new worker may take to open its store and report
# A worker process's own state (never the HTTP process's): the store it has open, by release path.
_OPEN: dict[str, ox.Store] = {}
Frame = tuple[Any, ...]           # a marshalled header: ("query", release, ...), ("ok", kind, format), ...


def _store(release: str) -> ox.Store:
    store = _OPEN.get(release)
    if store is None:
        _OPEN.clear()   # drop the previous release's handle before opening the next
        store = _OPEN[release] = ox.Store.read_only(str(Path(release) / "store"))
    return store


def _recv_frame(conn: socket.socket, pending: bytearray) -> bytes | None:
    """The next request's payload (requests carry no body); `pending` keeps what was read past it.
    One recv per request as a rule: every syscall here is one more on each query's path."""
    need = HEAD.size
    while True:
        if len(pending) >= HEAD.size:
            need = HEAD.size + HEAD.unpack_from(pending)[0]
            if len(pending) >= need:
                break
        chunk = conn.recv(max(SMALL, need - len(pending)))
        if not chunk:
            return None   # the HTTP process is gone: so is this worker's reason to live
        pending += chunk
    payload = bytes(pending[HEAD.size:need])
    del pending[:need]
    return payload


def _send(conn: socket.socket, header: Frame, body: bytes = b"") -> None:
    head = marshal.dumps(header)
    if len(body) <= SMALL:   # one syscall; a big body is not copied into a second buffer
        conn.sendall(HEAD.pack(len(head), len(body)) + head + body)
        return
    conn.sendall(HEAD.pack(len(head), len(body)) + head)
    conn.sendall(body)


def _answer(message: Frame) -> tuple[Frame, bytes]:
    op = message[0]
    if op == "connect":        # the sandbox self-check, and tests
        return ("ok", connect_errno(message[1], message[2])), b""
    if op == "pid":
        import os
        return ("ok", os.getpid()), b""
    _, release, query, result_fmt, graph_fmt, default, named, base, max_bytes = message
    try:
        answer = run_query(_store(release), query, result_fmt, graph_fmt, default, named, base, max_bytes)
    except TiesError as exc:
        try:
            return ("error",), pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an unpicklable error still reaches the client as a 500
            return ("error",), pickle.dumps(InternalError(f"{type(exc).__name__}: {exc}"))
    except OSError as exc:   # the release's store could not be opened
        return ("error",), pickle.dumps(InternalError(f"cannot open the store: {exc.strerror or exc}"))
    return ("ok", answer.kind, answer.fmt.name), answer.body


def _die_with_parent() -> None:
    # Linux: SIGKILL this worker when the process that made it dies, even mid-query (one prctl call for
    # build and query workers: building/lifetime.py says why through ctypes).
    with contextlib.suppress(OSError):
        die_with_parent(os.getppid())


def limit_memory(limit: int) -> None:
    """Cap this worker's heap at `limit` bytes (0: no cap). RLIMIT_DATA counts the heap and private
    anonymous mappings (Linux >= 4.7), where Oxigraph sorts and joins: a query past it fails to
    allocate and Rust aborts the process (SIGABRT), which the HTTP process reports as a stopped
    query. Without it one query (a sort of a cross product grows ~1 GB/s) takes the machine's memory
    long before its deadline. No core file: an abort at the limit is expected, not a crash to debug."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limit:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def serve_worker(conn: socket.socket, release: str, memory_bytes: int = 0) -> None:
    """The worker's whole life: sandbox, open the store, report, then answer frames until EOF."""
    _die_with_parent()
    deny_network()   # first of all; if it raises, the worker dies before reporting and is not used
    limit_memory(memory_bytes)
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the HTTP process's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)   # a Python handler would not run during a query
    with contextlib.suppress(OSError):
        _store(release)   # warm: the first query should not pay for opening the store
    _send(conn, ("ready", connect_errno("127.0.0.1", 9)))
    pending = bytearray()
    while (payload := _recv_frame(conn, pending)) is not None:
        header, body = _answer(marshal.loads(payload))
        _send(conn, header, body)


class Worker:
    """The HTTP process's end of one worker: its process and the stream to its socket."""

    def __init__(self, proc: multiprocessing.process.BaseProcess, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.proc, self.reader, self.writer = proc, reader, writer
        self.deadline = 0.0   # event-loop time at which the query it runs is killed
        self.exitcode: int | None = None   # once reaped (the closed process object no longer tells)

    def send(self, message: Frame) -> None:
        payload = marshal.dumps(message)
        self.writer.write(HEAD.pack(len(payload), 0) + payload)

    async def receive(self) -> tuple[Frame, bytes]:
        size, length = HEAD.unpack(await self.reader.readexactly(HEAD.size))
        if length > SMALL:   # read apart: slicing a big body out of one frame would copy it
            header = marshal.loads(await self.reader.readexactly(size))
            return header, await self.reader.readexactly(length)
        frame = await self.reader.readexactly(size + length)   # one await for header and body
        return marshal.loads(frame[:size]), frame[size:]

    def reap(self) -> None:
        """Wait for the killed process and free what multiprocessing holds for it (its sentinel)."""
        self.proc.join(5)
        self.exitcode = self.proc.exitcode
        with contextlib.suppress(ValueError):   # still running after 5 s: leave it to the GC
            self.proc.close()

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.proc.kill()   # SIGKILL: a query in Rust never returns to a Python signal handler
        self.writer.close()


def _exitcode(worker: Worker) -> int | None:
    try:
        return worker.proc.exitcode
    except ValueError:   # closed: reaped already
        return worker.exitcode


def _abandon(proc: multiprocessing.process.BaseProcess, *sockets: socket.socket) -> None:
    """Kill a worker nobody will use, close its sockets, and reap it in a thread of its own. Called
    only once its start has returned (or never ran): the start pickles the child socket's descriptor
    number and sends it to the fork server, so closing it under a running start would have the fork
    server read a request with no descriptors and die (the CI failure of 2026-12-01)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        proc.kill()
    for sock in sockets:
        sock.close()
    if proc.pid is not None:   # started: reap it; a start that never ran has nothing to reap
        threading.Thread(target=proc.join, args=(5,), daemon=True).start()


def _context() -> multiprocessing.context.BaseContext:
    # forkserver, not fork: the HTTP process runs threads (granian's, the event loop's executor), and
    # forking a process with running threads can copy a held lock into the child.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tieslod.server.workers"])
    return context


class QueryWorkers:
    """The app's query workers. `run` is what AppContext.run_query awaits."""

    def __init__(self, workers: int, timeout: float, max_result_bytes: int, queue_wait: float | None = None,
                 memory_bytes: int = 0) -> None:
        self.workers, self.timeout, self.max_result_bytes = workers, timeout, max_result_bytes
        self.memory_bytes = memory_bytes   # each worker's heap limit (0: none)
        # How long a query may wait for a free worker before 503: two deadlines, so queries queued
        # behind runaways that hold every worker get one once those are killed and replaced.
        self.queue_wait = 2 * timeout if queue_wait is None else queue_wait
        self.killed = 0                 # workers killed at a deadline or found dead (for tests, logs)
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._all: set[Worker] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Processes being started, not yet in _all: stop() kills them itself, because a server's loop may
        # be closed right after shutdown, before a cancelled start runs its own clean-up.
        self._starting: set[multiprocessing.process.BaseProcess] = set()
        self._release = ""
        self._stopped = False
        # Threads that start worker processes (a start blocks on the fork server for a few ms).
        self._starter = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="tieslod-start")

    def pids(self) -> set[int]:
        return {w.proc.pid for w in self._all if w.proc.pid is not None}

    async def _spawn(self) -> Worker:
        """Start one worker and wait for its report; SandboxError if its connect was not refused."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # daemon: a process that exits (a granian worker at shutdown) terminates its workers rather than
        # waiting for them in multiprocessing's exit handler, where a worker left alive hung it forever
        proc = _context().Process(target=serve_worker, args=(child, self._release, self.memory_bytes),  # type: ignore[attr-defined]
                                  name="tieslod-query", daemon=True)
        self._starting.add(proc)
        try:
            return await self._start(proc, parent, child)
        finally:
            self._starting.discard(proc)

    async def _start(self, proc: multiprocessing.process.BaseProcess, parent: socket.socket,
                     child: socket.socket) -> Worker:
        # The first start also starts the fork server. A concurrent future, not an asyncio task: a task
        # is cancelled with every other one when the loop shuts down, and its done callback would then
        # close the sockets while the thread is still starting the process.
        started = self._starter.submit(proc.start)
        try:
            await asyncio.shield(asyncio.wrap_future(started))
        except asyncio.CancelledError:   # stop() during a start: the thread still starts it, then it goes
            started.add_done_callback(lambda _: _abandon(proc, parent, child))
            raise
        except (OSError, EOFError) as exc:   # the fork server is gone: an error the caller may retry
            _abandon(proc, parent, child)
            raise InternalError(f"a query worker could not be started: {type(exc).__name__}: {exc}") from None
        child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=2 ** 20)
        worker = Worker(proc, reader, writer)
        try:
            header, _ = await asyncio.wait_for(worker.receive(), READY_WAIT)
        except asyncio.CancelledError:
            _abandon(proc)
            worker.writer.close()
            raise
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            worker.kill()
            await asyncio.to_thread(worker.reap)   # reap() closes proc: its exit code is read before
            hint = (f": it ran out of its {self.memory_bytes / 1e6:,.0f} MB (--worker-memory-mb) opening the store"
                    if self.memory_bytes and worker.exitcode == -signal.SIGABRT else "")
            raise InternalError(f"a query worker did not start (exit code {worker.exitcode}){hint}") from None
        if header[1] != errno.EPERM:
            worker.kill()
            await asyncio.to_thread(worker.reap)
            raise SandboxError(f"a query worker could open a TCP socket (errno {header[1]}): "
                               "refusing to serve queries")
        return worker

    async def start(self, release: Path) -> None:
        """Start every worker; raises (SandboxError, InternalError) rather than serve without them."""
        check_available()
        self._release = str(release)
        for worker in await asyncio.gather(*(self._spawn() for _ in range(self.workers - len(self._all)))):
            self._all.add(worker)
            self._idle.put_nowait(worker)

    def _kill(self, worker: Worker) -> asyncio.Task[None]:
        """Kill a worker (at its deadline, or dead already) now; the task starts its successor."""
        worker.kill()
        self._all.discard(worker)
        self.killed += 1
        task = asyncio.ensure_future(self._replace(worker))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _replace(self, worker: Worker) -> None:
        reaping = asyncio.ensure_future(asyncio.to_thread(worker.reap))   # beside the start, not before it
        try:
            await self._start_one()
        finally:
            await reaping

    async def _start_one(self) -> None:
        while not self._stopped:
            try:
                fresh = await self._spawn()
            except TiesError as exc:   # e.g. the fork server was killed: try again, a second apart
                LOG.error("could not start a query worker: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if self._stopped:
                fresh.kill()
                return
            self._all.add(fresh)
            self._idle.put_nowait(fresh)
            return

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, worker: Worker) -> None:
        """A client went away mid-query: the worker finishes (or meets its deadline) and is reused,
        instead of being killed for every dropped connection. What it sends is dropped."""
        with contextlib.suppress(TiesError):
            await self._exchange(worker, None)

    async def _exchange(self, worker: Worker, message: Frame | None) -> tuple[Frame, bytes]:
        """One request (None: the one already sent) and its answer; the worker then goes back to
        the idle queue, or is killed and replaced."""
        healthy: bool | None = False   # None: the worker is someone else's now
        try:
            if message is not None:
                worker.send(message)
                worker.deadline = asyncio.get_running_loop().time() + self.timeout
            async with asyncio.timeout_at(worker.deadline):   # no extra task, unlike wait_for
                reply = await worker.receive()
            healthy = True
            return reply
        except asyncio.CancelledError:
            if message is None or self._stopped:
                raise
            healthy = None   # neither back to the queue nor killed: _finish owns the worker now
            self._background(self._finish(worker))
            raise
        except TimeoutError:
            healthy = None
            replacement = self._kill(worker)   # now: the CPU is freed at the deadline
            # The 503 waits for the successor (tens of ms; more on a loaded machine), so the client
            # whose query ran over holds its budget lane until the capacity it cost is back: its next
            # runaway cannot take the worker the other clients are left with (benchmarks/fairness.py).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(replacement), READY_WAIT)
            raise QueryTimeout(f"the query ran past its deadline of {self.timeout:g} s and was stopped") from None
        except (asyncio.IncompleteReadError, ConnectionError):
            raise await self._death(worker) from None
        finally:
            if healthy:
                self._idle.put_nowait(worker)
            elif healthy is False:
                self._kill(worker)   # died, or an error of ours: never reused

    async def _death(self, worker: Worker) -> TiesError:
        """What a worker's death mid-query means: its memory limit (Rust aborts when an allocation
        fails) is the query's fault, a 503 like a deadline; anything else is ours, a 500."""
        if self.memory_bytes:
            with contextlib.suppress(ValueError):   # closed: reaped already, the exit code is kept
                await asyncio.to_thread(worker.proc.join, 1.0)   # it is exiting: its socket closed
        code = _exitcode(worker)
        if self.memory_bytes and code == -signal.SIGABRT:
            return QueryMemoryExceeded(f"the query needed more than the {self.memory_bytes / 1e6:,.0f} MB of memory "
                                       "a query worker may use, and was stopped")
        return InternalError(f"the worker running the query died (exit code {code})")

    async def call(self, message: Frame) -> tuple[Frame, bytes]:
        """Send one frame to a free worker; ServerBusy if none frees up within the queue wait."""
        if not self._all and not self._tasks:
            raise InternalError("the query workers are not running")
        try:
            async with asyncio.timeout(self.queue_wait):
                worker = await self._idle.get()
        except TimeoutError:
            raise ServerBusy(f"every query worker stayed busy for {self.queue_wait:g} s; try again later") from None
        return await self._exchange(worker, message)

    async def run(self, release: Path, req: QueryRequest) -> Answer:
        """Run one query with the deadline and the size limit."""
        header, body = await self.call(("query", str(release), req.query, req.result_format, req.graph_format,
                                        req.default_graph_uris, req.named_graph_uris, req.base_iri,
                                        self.max_result_bytes))
        if header[0] == "error":
            raise pickle.loads(body)
        _, kind, name = header
        return Answer(kind, body, rdf_format(name) if kind == "graph" else result_format(name))

    def stop(self) -> None:
        """Kill the workers now (a running query would otherwise hold shutdown up to its deadline)."""
        self._stopped = True
        self._starter.shutdown(wait=True)   # a start under way finishes first (milliseconds), then dies:
        for proc in list(self._starting):
            _abandon(proc)
        for task in list(self._tasks):
            task.cancel()
        for worker in list(self._all):
            worker.kill()
        for worker in list(self._all):
            worker.reap()
        self._all.clear()
