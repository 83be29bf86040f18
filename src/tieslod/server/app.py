"""create_app(settings, release): builds nothing (api.py builds first), explicit routes, no module globals, no environment reads in handlers.

One AppContext is shared by every route module; its run_query is the only way to the data: the
SERVICE/update guard, then the backend (querylayer.py: the local query workers, or a remote SPARQL
endpoint with `settings.sparql_endpoint`), with its deadline and size limit."""
from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from ..errors import BackendError
from . import extras, pages, sparql
from .context import AppContext
from .headers import ResponseHeaders
from .limits import Limits
from .querylayer import make_backend

# what a script on another origin may read from our answers (CORS hides all but a few by default)
EXPOSED_HEADERS = ["ETag", "Last-Modified", "Link", "Content-Location", "Retry-After", "X-Tieslod-Release"]


class AccessLog:
    """One line per request: client, method, path, status, duration (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("tieslod.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, record)
        finally:
            client = scope.get("client") or ("-", 0)
            self.log.info('%s "%s %s" %d %.1f ms', client[0], scope["method"], scope["path"], status,
                          (time.perf_counter() - start) * 1000)


def backend_failed(request: Request, exc: Exception) -> Response:
    """The remote SPARQL database down, slow or wrong: a short answer with its status and Retry-After."""
    assert isinstance(exc, BackendError)
    status = exc.http_status
    headers = {"Retry-After": str(exc.retry_after or 5), "Cache-Control": "no-store"}
    title = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
    if "text/html" in request.headers.get("accept", ""):
        body = (f"<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>{status} {title}</title>"
                f"<h1>{status} {title}</h1><p>{html.escape(str(exc))}</p><p>Please try again in "
                f"{headers['Retry-After']} s.</p></html>")
        return HTMLResponse(body, status_code=status, headers=headers)
    return PlainTextResponse(f"{status} {title}: {exc}\n", status_code=status, headers=headers)


def create_app(settings: Settings, release: Path | None) -> ASGIApp:
    """The app over `release` (a built release directory; it follows out_dir/current from there), or,
    with settings.sparql_endpoint, over that remote database (release None: nothing local is needed).
    Answers to repeated queries are kept in settings.cache_bytes of memory (0: none)."""
    backend = make_backend(settings, release)
    ctx = AppContext(settings=settings, release=backend.current, run_query=backend.query,
                     version=lambda: backend.current().version)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backend.start()
        task = asyncio.create_task(backend.watch())
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, backend.refresh)
        try:
            yield
        finally:
            task.cancel()
            await backend.aclose()

    middleware = [
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                   allow_headers=["*"], max_age=86400, expose_headers=EXPOSED_HEADERS),
        Middleware(GZipMiddleware, minimum_size=1000),
        Middleware(ResponseHeaders, retry_after=settings.timeout),
    ]
    endpoint = sparql.SparqlEndpoint(ctx)
    app = Starlette(routes=[*sparql.routes(ctx, endpoint), *extras.routes(ctx), *pages.routes(ctx)],
                    middleware=middleware, lifespan=lifespan, exception_handlers={BackendError: backend_failed})
    # the limits before anything else (a refused request reaches nothing), logged like any request;
    # queries by GET from scripts skip Starlette's stack (sparql.LeanRoute: the same answers, cheaper)
    return AccessLog(Limits(sparql.LeanRoute(app, endpoint, backend_failed), settings))
