"""The ceiling of any Python front on pyoxigraph (benchmarks/ceiling.py): the query run in the HTTP
process, nothing else. No deadline (a runaway would hold its process), no policy (SERVICE, updates),
no limits, no log, no cache: never a way to serve, only the bound every real design stays under.
Served by granian: `rsgi` through its RSGI interface, `asgi` as a bare ASGI callable."""
from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs

import pyoxigraph as ox

STORE = ox.Store.read_only(os.environ["CEILING_STORE"])   # per process: granian imports this in each worker


def answer(query: str) -> tuple[bytes, str]:
    result = STORE.query(query, use_default_graph_as_union=True)
    if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
        return result.serialize(format=ox.QueryResultsFormat.JSON), "application/sparql-results+json"
    return ox.serialize(result, format=ox.RdfFormat.TURTLE), "text/turtle"


async def rsgi(scope: Any, proto: Any) -> None:
    body, media_type = answer(parse_qs(scope.query_string)["query"][0])
    proto.response_bytes(200, [("content-type", media_type)], body)


async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body, media_type = answer(parse_qs(scope["query_string"].decode())["query"][0])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", media_type.encode())]})
    await send({"type": "http.response.body", "body": body})
