"""The local backend of the query layer (server/querylayer.py) over the bundled release, with real query
workers: relative IRIs resolve against the dataset's base, repeated answers come from the cache (never
a query that may vary), and there is nothing to serve without a release or an endpoint."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tieslod.config import Settings
from tieslod.errors import UsageError
from tieslod.server.context import QueryRequest
from tieslod.server.querylayer import LocalBackend, make_backend


def test_the_local_backend_answers_caches_and_applies_the_base(real_settings: Settings, real_build) -> None:
    settings = Settings(out_dir=real_settings.out_dir, workers=1, cache_bytes=1_000_000)
    backend = make_backend(settings, real_build.release_dir)
    assert isinstance(backend, LocalBackend)

    async def run() -> list:
        await backend.start()
        try:
            relative = QueryRequest("ASK { <id/alexander-ionov> ?p ?o }")     # `PREFIX e: <id/>` style
            first = await backend.query(relative)
            hits = backend.cache.hits
            again = await backend.query(relative, client="127.0.0.1")
            cached = backend.cache.hits - hits
            size = backend.cache.size
            await backend.query(QueryRequest("SELECT (RAND() AS ?r) {}"))
            return [first, again, cached, size, backend.cache.size, backend.current()]
        finally:
            await backend.aclose()

    first, again, cached, size, size_after, current = asyncio.run(run())
    assert json.loads(first.body)["boolean"] is True and again == first
    assert cached == 1                         # the second ask came from the cache
    assert size_after == size                  # RAND() answers are never kept
    assert current.version == real_build.version and current.path == Path(real_build.release_dir)


def test_nothing_to_serve_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no release to serve"):
        make_backend(Settings(out_dir=tmp_path, cache_bytes=0), None)
