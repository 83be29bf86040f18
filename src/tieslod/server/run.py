"""`tieslod serve`: build if needed, bind, print the URL, serve on uvicorn until Ctrl-C."""
from __future__ import annotations

import functools
import logging
import socket
import sys
from collections.abc import Callable

from ..build import ensure_built
from ..config import Settings
from ..errors import UsageError


def log_config(access_log: bool) -> dict:
    """uvicorn's own chatter stays at warnings; our access log and release switches go to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "tieslod": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "tieslod.access": {"level": "INFO" if access_log else "WARNING"},
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


def serve(settings: Settings, progress: Callable[[str], None] | None = None, access_log: bool = True,
          cache_bytes: int | None = None, http_workers: int = 1) -> None:
    """Serve until Ctrl-C. With http_workers > 1, uvicorn's supervisor runs that many processes on
    the one socket, each with its own app, query pool and answer cache (measured: the HTTP side of
    a cached answer is what bounds one process; see docs/notes/issue-3.md)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from .app import CACHE_BYTES, create_app

    if http_workers < 1:
        raise UsageError("--http-workers must be at least 1")
    if settings.sparql_endpoint:   # a front end over a remote database: no local store, nothing to build
        what = f"the SPARQL endpoint {settings.sparql_endpoint}"
        deadline = settings.sparql_timeout or settings.timeout
        workers = f"{settings.sparql_connections} connections to the database"
    else:
        release = ensure_built(settings, progress)   # once, here: the HTTP processes then find it built
        what, deadline = f"release {release.name}", settings.timeout
        workers = f"{settings.workers} query workers"
    sock = bind(settings.host, settings.port)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    factory = functools.partial(create_app, settings, CACHE_BYTES if cache_bytes is None else cache_bytes)
    config = uvicorn.Config(factory, factory=True, http="httptools", loop="uvloop", workers=http_workers,
                            log_config=log_config(access_log), access_log=False, timeout_graceful_shutdown=5,
                            lifespan="on")
    print(f"tieslod: serving {what} at http://{host}:{sock.getsockname()[1]}/ "
          f"(SPARQL endpoint /sparql; {http_workers} HTTP process(es) x {workers}, "
          f"{deadline:g} s deadline). Ctrl-C stops.", file=sys.stderr, flush=True)
    try:
        if http_workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass   # uvicorn re-raises Ctrl-C once it has shut down cleanly: the expected way to stop
    logging.getLogger("tieslod.server").info("stopped")
