"""`tieslod serve` (api.py builds first): check the port, print the URL, serve on granian until Ctrl-C."""
from __future__ import annotations

import io
import logging
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from ..config import Settings
from ..errors import UsageError
from .sandbox import check_available


class BatchedStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """The access log: lines go to stderr in batches, at most FLUSH_EVERY seconds late. A write per
    request (stderr is line-buffered), from every HTTP process into one file, cost 40-45 % of the rate
    of cached answers (docs/notes/issue-13.md). Its own buffered stream on fd 2, flushed by one
    thread per process, started on the first line (after granian's fork)."""

    FLUSH_EVERY = 0.5

    def __init__(self) -> None:
        super().__init__(self._stream())
        self._flusher: threading.Thread | None = None

    @staticmethod
    def _stream() -> TextIO:
        try:
            fd = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):   # no real stderr (e.g. captured): write through
            return sys.stderr
        return io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w", closefd=False), 65_536),
                                encoding="utf-8", errors="backslashreplace")

    def flush(self) -> None:   # emit() calls this after every line: only make sure a flush will come
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(target=self._flush_loop, name="tieslod-access-log", daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            time.sleep(self.FLUSH_EVERY)
            self.flush_now()

    def flush_now(self) -> None:
        with self.lock or threading.Lock():
            if self.stream and hasattr(self.stream, "flush"):
                self.stream.flush()

    def close(self) -> None:
        self.flush_now()
        super().close()


def log_config(access_log: bool) -> dict[str, Any]:
    """granian's own chatter stays at warnings; our access log and release switches go to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "stream": "ext://sys.stderr"},
                     "access": {"()": BatchedStderr, "formatter": "plain"}},
        "loggers": {
            "_granian": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "granian": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "tieslod": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "tieslod.access": {"handlers": ["access"], "level": "INFO" if access_log else "WARNING",
                               "propagate": False},
        },
    }


def bind(host: str, port: int) -> socket.socket:
    """Bind before starting so a busy port is a one-line usage error, not a server log."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family = infos[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, release: Path | None) -> None:
    """Serve until Ctrl-C on granian: that many HTTP processes on the one port, each with its own app,
    query pool and answer cache. granian (hyper) bounds the request head (431), the URL (414, 64 KiB)
    and the time to send headers or to start the next request (connection closed); uvicorn with
    httptools cannot (measured, docs/notes/issue-11-server.md). The other limits are server/limits.py's."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from .app import create_app

    http_workers = settings.http_workers
    if settings.sparql_endpoint:   # a front end over a remote database: no local store, nothing built
        what = f"the SPARQL endpoint {settings.sparql_endpoint}"
        deadline = settings.sparql_timeout or settings.timeout
        workers = f"{settings.sparql_connections} connections to the database"
    else:
        check_available()   # a clear message now, rather than workers that die at start
        assert release is not None
        what, deadline = f"release {release.name}", settings.timeout
        workers = f"{settings.workers} query workers"
    sock = bind(settings.host, settings.port)    # a busy port is a usage error; 0 picks a free one
    port = sock.getsockname()[1]
    sock.close()                                 # granian binds it itself
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    server = Granian("tieslod.server.app:create_app", address=settings.host, port=port,
                     interface=Interfaces.ASGI, workers=http_workers, http=HTTPModes.http1, websockets=False,
                     backpressure=settings.max_in_flight,
                     http1_settings=HTTP1Settings(header_read_timeout=int(settings.header_timeout * 1000),
                                                  max_buffer_size=settings.max_header_bytes),
                     log_level=LogLevels.warning, log_dictconfig=log_config(settings.access_log), respawn_failed_workers=True)
    print(f"tieslod: serving {what} at http://{host}:{port}/ "
          f"(SPARQL endpoint /sparql; {http_workers} HTTP process(es) x {workers}, "
          f"{deadline:g} s deadline). Ctrl-C stops.", file=sys.stderr, flush=True)
    # Workers are forked: the loader closes over the settings, nothing goes through the environment.
    server.serve(target_loader=lambda *_: create_app(settings, release), wrap_loader=False)
    logging.getLogger("tieslod.server").info("stopped")
