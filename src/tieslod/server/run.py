"""`tieslod serve`: build if needed, bind, print the URL, serve on uvicorn until Ctrl-C."""
from __future__ import annotations

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
          cache_bytes: int | None = None) -> None:
    import uvicorn

    from .app import create_app

    release = ensure_built(settings, progress)
    sock = bind(settings.host, settings.port)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    app = create_app(settings) if cache_bytes is None else create_app(settings, cache_bytes)
    config = uvicorn.Config(app, http="httptools", loop="uvloop", log_config=log_config(access_log), access_log=False,
                            timeout_graceful_shutdown=5, lifespan="on")
    print(f"tieslod: serving release {release.name} at http://{host}:{sock.getsockname()[1]}/ "
          f"(SPARQL endpoint /sparql; {settings.workers} query workers, {settings.timeout:g} s deadline). "
          "Ctrl-C stops.", file=sys.stderr, flush=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass   # uvicorn re-raises Ctrl-C once it has shut down cleanly: the expected way to stop
    logging.getLogger("tieslod.server").info("stopped")
