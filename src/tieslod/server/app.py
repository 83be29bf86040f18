"""create_app(settings): explicit routes, no module globals, no environment reads in handlers.

One AppContext is shared by every route module; its run_query is the only way to the store: the
SERVICE/update guard, then the worker pool (deadline, size limit) on the release being served."""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..build import ensure_built
from ..config import Settings
from ..errors import TiesError
from ..store import Answer
from . import sparql
from .context import AppContext, QueryRequest
from ..guard import check
from .pool import AnswerCache, QueryPool
from .releases import ReleaseWatcher

# Route modules written alongside this one, mounted after /sparql in this order. A module that does
# not exist yet is skipped, so the endpoint can ship before them; an import error inside one is not.
OTHER_ROUTE_MODULES = ("extras", "pages")   # issue 6: reconcile, paths, archives; issue 4: pages
WATCH_INTERVAL = 1.0   # seconds between looks at out_dir/current
CACHE_BYTES = 64_000_000   # answers kept for repeated queries (0: none)


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


def other_routes(ctx: AppContext) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in OTHER_ROUTE_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        routes += module.routes(ctx)
    return routes


def create_app(settings: Settings, cache_bytes: int = CACHE_BYTES) -> Starlette:
    watcher = ReleaseWatcher(settings.out_dir, ensure_built(settings), settings)
    pool = QueryPool(settings.workers, settings.timeout, settings.max_result_bytes)
    cache = AnswerCache(cache_bytes)
    served = [watcher.current()]   # the release the cache holds answers for

    async def run_query(req: QueryRequest) -> Answer:
        release = watcher.current()
        if release != served[0]:
            cache.clear()
            served[0] = release
        key = (release, req)
        answer = cache.get(key)
        if answer is not None:
            return answer
        seen = check(req.query)   # refuse SERVICE and updates without a trip to a worker
        answer = await pool.run(release, req)
        if not seen.volatile:
            cache.put(key, answer)
        return answer

    ctx = AppContext(settings=settings, release=watcher.current, run_query=run_query, version=watcher.version)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.start(watcher.current())
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
        Middleware(AccessLog),
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                   allow_headers=["*"], max_age=86400),
        Middleware(GZipMiddleware, minimum_size=1000),
    ]
    return Starlette(routes=[*sparql.routes(ctx), *other_routes(ctx)], middleware=middleware, lifespan=lifespan)
