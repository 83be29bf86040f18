"""What every route module gets (server/context.py): a QueryRequest is a value (frozen, hashable, equal
by content) because answers are cached by (release, request), and its defaults are table formats."""
from __future__ import annotations

import asyncio
import dataclasses

import pyoxigraph as ox
import pytest

from tieslod.config import Settings
from tieslod.formats import rdf_format, result_format
from tieslod.querying.store import Answer, run_query
from tieslod.server.answers import AnswerCache
from tieslod.server.context import AppContext, QueryRequest


def test_a_request_is_a_cache_key_that_tells_requests_apart() -> None:
    cache = AnswerCache(10_000)
    answer = Answer("boolean", b'{"boolean": true}', result_format("json"))
    cache.put(("v1", QueryRequest("ASK {}")), answer)
    assert cache.get(("v1", QueryRequest("ASK {}"))) is answer                  # equal content, same key
    for other in (QueryRequest("ASK {}", base_iri="https://example.org/"), QueryRequest("ASK {}", result_format="xml"),
                  QueryRequest("ASK {}", default_graph_uris=("https://example.org/g",))):
        assert cache.get(("v1", other)) is None, other                          # a relative IRI, a format, a graph
    assert cache.get(("v2", QueryRequest("ASK {}"))) is None                    # another release
    with pytest.raises(dataclasses.FrozenInstanceError):
        QueryRequest("ASK {}").query = "ASK { ?s ?p ?o }"  # type: ignore[misc]


def test_defaults_are_formats_of_the_table() -> None:
    request = QueryRequest("ASK {}")
    assert result_format(request.result_format).name == "json"
    assert rdf_format(request.graph_format).name == "turtle"


def test_the_context_carries_settings_the_release_and_run_query() -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:x:a"), ox.NamedNode("urn:x:b"), ox.Literal("c")))
    seen: list[QueryRequest] = []

    async def run(req: QueryRequest, client: str | None = None) -> Answer:
        seen.append(req)
        return run_query(store, req.query, req.result_format, req.graph_format)

    release = object()
    ctx = AppContext(Settings(), release=lambda: release, run_query=run)   # type: ignore[arg-type, return-value]
    assert ctx.release() is release and ctx.settings.base_uri == Settings().base_uri
    answer = asyncio.run(ctx.run_query(QueryRequest("SELECT ?o { ?s ?p ?o }", result_format="csv")))
    assert answer.body.decode().splitlines() == ["o", "c"] and [r.result_format for r in seen] == ["csv"]
    assert ctx.version() == ""
