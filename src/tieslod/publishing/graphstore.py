"""The Graph Store HTTP Protocol requests push and union.py make: bounded batches (PUT, then POST),
retries with backoff on network errors, 429 and 5xx, server errors without their markup, and counting
a graph on the server (by SPARQL COUNT where a query endpoint is given)."""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pyoxigraph as ox

from ..errors import PushError
from ..formats import media_type

NT = media_type("ntriples")
RETRIES = 5
Progress = Callable[[str], None]


@dataclass
class PushResult:
    endpoint: str
    graphs: dict[str, int] = field(default_factory=dict)     # target graph ("" = default) -> triples
    sent: int = 0                                           # graphs sent in this run
    release_graph: str = ""                                 # where the release's description went
    union_graph: str = ""                                   # per source: where the union is kept too
    union_triples: int = 0
    skipped: int = 0                                        # graphs the journal showed as done
    requests: int = 0


def _graph_param(graph: str) -> dict[str, str]:
    return {"graph": graph} if graph else {"default": ""}


def _explain(response: httpx.Response) -> str:
    """The server's own words, without markup (Virtuoso answers errors as HTML pages)."""
    text = " ".join(re.sub(r"<[^>]*>", " ", response.text).split())[:300]
    if "default" in response.request.url.params and "graph" not in response.request.url.params:
        text += " (the union goes to the default graph unless --graph names a target graph)"
    return text


def _request(client: httpx.Client, method: str, url: str, result: PushResult, **kwargs: object) -> httpx.Response:
    delay = 0.5
    for attempt in range(1, RETRIES + 1):
        try:
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
            result.requests += 1
            if response.status_code < 500 and response.status_code != 429:
                if response.status_code >= 400 and not (method == "GET" and response.status_code == 404):
                    raise PushError(f"{method} {url} -> {response.status_code}: {_explain(response)}")
                return response
        except httpx.TransportError as exc:
            if attempt == RETRIES:
                raise PushError(f"{method} {url} failed after {RETRIES} attempts: {exc}") from exc
        if attempt < RETRIES:
            time.sleep(delay)
            delay *= 2
    raise PushError(f"{method} {url} kept failing ({response.status_code}): {_explain(response)}")


def ntriples(triples: list[ox.Triple]) -> bytes:
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert body is not None   # no output given: the bytes are returned
    return body


def _batches(triples: list[ox.Triple], size: int) -> Iterator[bytes]:
    for start in range(0, max(len(triples), 1), size):
        yield ntriples(triples[start:start + size])


def remote_count(client: httpx.Client, endpoint: str, graph: str, result: PushResult,
                 query_endpoint: str | None = None) -> int:
    """Triples the server holds in a graph: by SPARQL COUNT where a query endpoint is given, else by the
    Graph Store protocol alone (GET, parse, count), which some servers truncate (Virtuoso: ResultSetMaxRows)."""
    if query_endpoint:
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        response = _request(client, "POST", query_endpoint, result,
                            data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"},
                            headers={"Accept": media_type("json")})
        return int(response.json()["results"]["bindings"][0]["n"]["value"])
    response = _request(client, "GET", endpoint, result, params=_graph_param(graph), headers={"Accept": NT})
    if response.status_code == 404:
        return 0
    return sum(1 for _ in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))


def send_graph(client: httpx.Client, endpoint: str, graph: str, triples: list[ox.Triple], batch: int,
               result: PushResult) -> None:
    for index, body in enumerate(_batches(triples, batch)):
        method = "PUT" if index == 0 else "POST"   # PUT replaces: a repeated push never duplicates
        _request(client, method, endpoint, result, params=_graph_param(graph), content=body,
                 headers={"Content-Type": NT})
