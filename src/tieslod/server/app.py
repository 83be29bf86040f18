"""create_app(settings, release): builds nothing (api.py builds first), explicit routes, no module globals, no environment reads in handlers.

One AppContext is shared by every route module; its run_query is the only way to the store: the
worker pool (SERVICE/update guard, no network, deadline, size limit) on the release being served."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings
from ..errors import TiesError
from ..querying.store import Answer
from . import extras, pages, sparql
from .context import AppContext, QueryRequest
from ..querying.policy import may_vary
from .headers import ResponseHeaders
from .budget import ClientBudget
from .limits import Limits
from .pool import AnswerCache, QueryPool
from .releases import ReleaseWatcher

WATCH_INTERVAL = 1.0   # seconds between looks at out_dir/current
CACHE_BYTES = 64_000_000   # answers kept for repeated queries (0: none)
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


def create_app(settings: Settings, release: Path, cache_bytes: int = CACHE_BYTES) -> ASGIApp:
    """The app over `release` (a built release directory; it follows out_dir/current from there)."""
    watcher = ReleaseWatcher(settings.out_dir, release, settings)
    pool = QueryPool(settings.workers, settings.timeout, settings.max_result_bytes)
    cache = AnswerCache(cache_bytes)
    concurrent = max(1, settings.workers - 1) if settings.client_concurrent is None else settings.client_concurrent
    budget = ClientBudget(settings.client_query_seconds, concurrent, pool.queue_wait)
    served = [watcher.current()]   # the release the cache holds answers for

    async def run_query(req: QueryRequest, client: str | None = None) -> Answer:
        """client: whose budget pays (server/budget.py); None for the server's own page queries."""
        if req.base_iri is None:   # the dataset's base: relative IRIs mean our own (issue 14)
            req = dataclasses.replace(req, base_iri=settings.base_uri)
        release = watcher.current()
        if release != served[0]:
            cache.clear()
            served[0] = release
        key = (release, req)
        answer = cache.get(key)
        if answer is not None:
            return answer
        # SERVICE and updates are refused by the worker (guard.check in store.run_query): parsing
        # costs milliseconds and must not block the event loop; the worker has a deadline.
        if client is None:
            answer = await pool.run(release, req)
        else:
            async with budget.slot(client):
                answer = await pool.run(release, req)
        if not may_vary(req.query):
            cache.put(key, answer)
        return answer

    ctx = AppContext(settings=settings, release=watcher.current, run_query=run_query, version=watcher.version)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.start(watcher.current())
        await pool.verify_sandbox(watcher.current())   # never serve queries from a networked worker
        with contextlib.suppress(TiesError):   # wait for a worker, so the first client does not
            await pool.run(watcher.current(), QueryRequest("ASK {}"))
        task = asyncio.create_task(watcher.watch(WATCH_INTERVAL))
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, watcher.refresh)
        try:
            yield
        finally:
            task.cancel()
            pool.stop()

    middleware = [
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                   allow_headers=["*"], max_age=86400, expose_headers=EXPOSED_HEADERS),
        Middleware(GZipMiddleware, minimum_size=1000),
        Middleware(ResponseHeaders, retry_after=settings.timeout),
    ]
    app = Starlette(routes=[*sparql.routes(ctx), *extras.routes(ctx), *pages.routes(ctx)], middleware=middleware, lifespan=lifespan)
    # the limits before anything else (a refused request reaches nothing), logged like any request
    return AccessLog(Limits(app, settings))
