"""create_app(settings): explicit routes, no module globals, no environment reads in handlers."""
from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from ..build import ensure_built
from ..config import Settings
from ..store import Answer, open_read_only, run_query
from . import extras, pages
from .context import AppContext, QueryRequest


def create_app(settings: Settings) -> Starlette:
    release_dir = ensure_built(settings)
    store = open_read_only(release_dir)

    async def query(req: QueryRequest) -> Answer:
        return await run_in_threadpool(
            run_query, store, req.query, req.result_format, req.graph_format,
            list(req.default_graph_uris), list(req.named_graph_uris), None, settings.max_result_bytes)

    ctx = AppContext(settings=settings, release=lambda: release_dir, run_query=query)
    routes: list = []
    routes += extras.routes(ctx)  # issue 6: /reconcile, /path, /dumps/<version>/, /releases/
    routes += pages.routes(ctx)   # issue 4: linked-data pages, dumps, ontology
    return Starlette(routes=routes)
