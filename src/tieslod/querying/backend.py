"""The remote half of "one query layer, two backends": a SPARQL 1.1 Protocol endpoint over HTTP
(Oxigraph server, Virtuoso, Fuseki...) answering the same calls as the embedded store (store.run_query).

- The same policy first: SERVICE and updates are refused by guard.check before anything is sent.
- The dataset is the one the release description names (push writes it last, in the graph
  <BASE>dataset), written into the query as FROM and FROM NAMED clauses, the same on Oxigraph, Virtuoso
  and Fuseki (the protocol's default-graph-uri would do the same, but Virtuoso echoes each as a response
  header: 365 KB for 2,500 graphs). Where push kept the union in one graph (the description's
  sd:defaultGraph), FROM names that graph alone, and FROM NAMED only the graphs the query's GRAPH
  patterns can reach: none for most page queries, every graph only for `GRAPH ?g`. Without it (an older
  push), FROM and FROM NAMED list every graph. docs/scaling.md has the measurements.
- Every answer is fetched in one canonical format per kind (SPARQL JSON results, N-Triples), parsed
  and re-serialized by pyoxigraph into the format asked for: an engine's dialect stops here (Virtuoso's
  its ASK answered as a one-row table, its nodeID:// blank nodes) and a garbled answer
  becomes a 502, never a page built on it. An answer the engine cut short (Virtuoso's
  X-SPARQL-MaxRows) is refused, never passed on as complete.
- Failure is an answer: unreachable or overloaded -> BackendUnavailable (503), past the deadline ->
  BackendTimeout (504), anything else wrong -> BackendError (502), each with a retry_after. One pooled
  client keeps connections alive; its pool size bounds the queries in flight per front end.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import IO, Any, cast

import httpx
import pyoxigraph as ox

from ..errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    NotAcceptableResult,
    QueryError,
    ResultTooLarge,
    UsageError,
)
from ..formats import media_type, rdf_format, result_format
from ..httpauth import credentials_auth
from ..vocab import PREFIXES, prefix_block
from .policy import check, dataset_position, named_graphs_used
from .store import Answer, Bounded, query_kind

SRJ, NT = media_type("json"), media_type("ntriples")
RELEASE_QUERY = """SELECT ?v ?g ?u WHERE {{ GRAPH <{d}> {{ <{d}> <http://www.w3.org/2002/07/owl#versionInfo> ?v .
  OPTIONAL {{ <{d}> <http://rdfs.org/ns/void#subset>/<http://www.w3.org/ns/sparql-service-description#name> ?g }}
  OPTIONAL {{ <{d}> <http://www.w3.org/ns/sparql-service-description#defaultGraph> ?u }}
}} }}"""


@dataclass(frozen=True)
class RemoteRelease:
    """What the endpoint holds, as its release description says (see push.send_release_description)."""

    version: str
    graphs: tuple[str, ...]
    union: str | None = None      # the graph holding the union of `graphs`, where push keeps one

    def dataset(self, query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(FROM, FROM NAMED) giving this query the embedded store's dataset: the union as the default
        graph, the release's graphs as the named graphs (only those its GRAPH patterns can reach)."""
        if self.union is None:
            return self.graphs, self.graphs
        used = named_graphs_used(query)
        return (self.union,), self.graphs if used is None else tuple(g for g in self.graphs if g in used)


class RemoteBackend:
    """Queries one remote endpoint; `await query(...)` mirrors store.run_query and returns an Answer."""

    def __init__(self, endpoint: str, dataset_iri: str, auth: str | None = None, timeout: float = 10.0,
                 max_connections: int = 8, queue_wait: float | None = None,
                 max_result_bytes: int | None = 100_000_000, version_ttl: float = 5.0) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise UsageError(f"--sparql-endpoint must be an http(s) URL (got {endpoint!r})")
        self.endpoint, self.dataset_iri, self.timeout = endpoint, dataset_iri, timeout
        self.max_result_bytes, self.version_ttl = max_result_bytes, version_ttl
        self.retry_after = max(1, round(timeout))
        # The pool is the bound on concurrency: a query waits up to queue_wait for a free connection.
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections,
                              keepalive_expiry=30.0)
        self.client = httpx.AsyncClient(auth=credentials_auth(auth, "--sparql-auth"), limits=limits,
                                        timeout=httpx.Timeout(timeout, pool=timeout if queue_wait is None else queue_wait))
        self._release: tuple[float, RemoteRelease] | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    # the release --------------------------------------------------------------------------------
    async def release(self) -> RemoteRelease:
        """The release the endpoint holds, re-read at most every version_ttl seconds."""
        now = time.monotonic()
        if self._release and now - self._release[0] < self.version_ttl:
            return self._release[1]
        body, _ = await self._post(RELEASE_QUERY.format(d=self.dataset_iri), "bindings", None, self.max_result_bytes)
        rows = _json(body)["results"]["bindings"]
        versions = {row["v"]["value"] for row in rows if "v" in row}
        if len(versions) != 1:
            raise BackendUnavailable(f"the SPARQL endpoint holds {'no' if not versions else 'more than one'} "
                                     f"tieslod release description (graph <{self.dataset_iri}>); run "
                                     "`tieslod push` to it first", self.retry_after)
        try:   # the names go into query text: only what pyoxigraph accepts as an IRI
            graphs = tuple(sorted({ox.NamedNode(row["g"]["value"]).value for row in rows if "g" in row}))
            unions = {ox.NamedNode(row["u"]["value"]).value for row in rows if "u" in row}
        except ValueError as exc:
            raise BackendError(f"the release description names a graph that is not an IRI: {exc}") from None
        if len(unions) > 1:
            raise BackendError(f"the release description names {len(unions)} default graphs, not one")
        found = RemoteRelease(versions.pop(), graphs, unions.pop() if unions else None)
        self._release = (now, found)
        return found

    async def version(self) -> str:
        return (await self.release()).version

    # queries ------------------------------------------------------------------------------------
    async def query(self, query: str, result_format: str = "json", graph_format: str = "turtle",
                    default_graph_uris: tuple[str, ...] = (), named_graph_uris: tuple[str, ...] = (),
                    max_bytes: int | None = None, base_iri: str | None = None, own: bool = False) -> Answer:
        """Run one read-only query remotely; the union of the release's graphs unless a dataset is named.
        own: the front end's own query (a page's), which the database refusing (HTTP 400) makes an upstream
        failure (502), not the client's mistake (400, as for a query a client sent to /sparql)."""
        seen = check(query)        # SERVICE and updates never leave this process
        kind = query_kind(query)
        name = graph_format if kind == "graph" else result_format
        if not name:
            raise NotAcceptableResult("this query returns " + ("RDF triples" if kind == "graph" else "SPARQL results")
                                      + ", and the request accepts no format for them")
        # our prefixes first, as the embedded store knows them; a query's own declarations come later and win
        # BASE first: Virtuoso refuses it after a PREFIX (SP030), though the grammar allows either order
        text = (f"BASE <{ox.NamedNode(base_iri).value}>\n" if base_iri else "") + prefix_block() + query
        if not (default_graph_uris or named_graph_uris or seen.dataset):
            default, named = (await self.release()).dataset(query)
            at = dataset_position(text)
            clauses = "".join(f"FROM <{g}>\n" for g in default) + "".join(f"FROM NAMED <{g}>\n" for g in named)
            text = text[:at] + clauses + text[at:]
        limit = self.max_result_bytes if max_bytes is None else max_bytes
        try:
            body, headers = await self._post(text, kind, (default_graph_uris, named_graph_uris), limit)
        except QueryError as exc:   # only the database's own 400 gets here (_refusal)
            if not own:
                raise
            said = str(exc).split(": ", 1)[-1]
            raise BackendError(f"the SPARQL database refused a query this page asks: {said}", self.retry_after) from None
        if "x-sparql-maxrows" in headers:
            raise ResultTooLarge(f"the SPARQL endpoint cut this answer at its own limit of "
                                 f"{headers['x-sparql-maxrows']} rows (Virtuoso: ResultSetMaxRows); add a LIMIT")
        if kind == "graph":
            return _graph_answer(body, name, limit)
        return _results_answer(body, kind, name, limit)

    async def _post(self, query: str, kind: str, dataset: tuple[tuple[str, ...], tuple[str, ...]] | None,
                    limit: int | None) -> tuple[bytes, httpx.Headers]:
        data: dict[str, Any] = {"query": query}
        if dataset and (dataset[0] or dataset[1]):   # the client's own protocol dataset, passed on as it came
            data["default-graph-uri"], data["named-graph-uri"] = list(dataset[0]), list(dataset[1])
        accept = NT if kind == "graph" else SRJ
        try:
            # one deadline for the whole exchange: httpx's own timeouts bound each read, not the sum
            return await asyncio.wait_for(self._exchange(data, accept, limit), self.timeout)
        except (TimeoutError, httpx.ReadTimeout, httpx.WriteTimeout, httpx.ConnectTimeout):
            raise BackendTimeout(f"the SPARQL endpoint did not answer within {self.timeout:g} s",
                                 self.retry_after) from None
        except httpx.PoolTimeout:
            raise BackendUnavailable("every connection to the SPARQL endpoint stayed busy; try again later",
                                     self.retry_after) from None
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"the SPARQL endpoint cannot be reached ({type(exc).__name__})",
                                     self.retry_after) from None

    async def _exchange(self, data: dict[str, Any], accept: str, limit: int | None) -> tuple[bytes, httpx.Headers]:
        async with self.client.stream("POST", self.endpoint, data=data, headers={"Accept": accept}) as response:
            if response.status_code != 200:
                await response.aread()
                raise self._refusal(response)
            sink = Bounded(limit)
            async for chunk in response.aiter_bytes():
                sink.write(chunk)
            return b"".join(sink.parts), response.headers

    def _refusal(self, response: httpx.Response) -> Exception:
        said = " ".join(re.sub(r"<[^>]*>", " ", response.text).split())[:300]
        status = response.status_code
        if status == 400:
            return QueryError(f"the SPARQL endpoint refused the query: {said}")   # the caller decides whose fault
        if status in (429, 503):
            wait = response.headers.get("retry-after", "")
            return BackendUnavailable(f"the SPARQL endpoint is overloaded (HTTP {status})",
                                      int(wait) if wait.isdigit() else self.retry_after)
        if status in (401, 403):
            return BackendError(f"the SPARQL endpoint refused the front end's credentials (HTTP {status})")
        return BackendError(f"the SPARQL endpoint failed (HTTP {status}): {said}", self.retry_after)


# normalizing answers ----------------------------------------------------------------------------
def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise BackendError("the SPARQL endpoint sent results that are not JSON") from None
    if not isinstance(data, dict) or not ("boolean" in data or isinstance(data.get("results"), dict)):
        raise BackendError("the SPARQL endpoint sent JSON that is not a SPARQL result")
    return data


def _standard_term(term: dict[str, Any]) -> dict[str, Any]:
    # ("typed-literal", the 2007 draft's type that Virtuoso 7 still sends, pyoxigraph reads as it is)
    if term.get("type") == "bnode":                   # Virtuoso: "nodeID://b10007"
        return {**term, "value": re.sub(r"[^A-Za-z0-9_]", "_", str(term.get("value", "")))}
    return term


def _boolean(data: dict[str, Any]) -> bool:
    if "boolean" in data:
        return bool(data["boolean"])
    rows = data["results"].get("bindings", [])       # Virtuoso: ASK as a table of one row, or none
    return bool(rows) and any(str(t.get("value")) in ("1", "true") for t in rows[0].values())


def _results_answer(body: bytes, kind: str, name: str, limit: int | None) -> Answer:
    data = _json(body)
    if kind == "boolean":
        data = {"head": {}, "boolean": _boolean(data)}
    else:
        data["results"]["bindings"] = [{k: _standard_term(t) for k, t in row.items()}
                                       for row in data["results"].get("bindings", [])]
    fmt = result_format(name)
    sink = Bounded(limit)
    try:
        parsed = ox.parse_query_results(json.dumps(data).encode(), ox.QueryResultsFormat.JSON)
        assert isinstance(fmt.oxigraph, ox.QueryResultsFormat)
        parsed.serialize(cast(IO[bytes], sink), fmt.oxigraph)
    except (SyntaxError, ValueError, TypeError) as exc:
        raise BackendError(f"the SPARQL endpoint sent results that cannot be read: {exc}") from None
    return Answer(kind, b"".join(sink.parts), fmt)


def _graph_answer(body: bytes, name: str, limit: int | None) -> Answer:
    fmt = rdf_format(name)
    sink = Bounded(limit)
    prefixes = None if fmt.name == "jsonld" else PREFIXES
    try:
        triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        assert isinstance(fmt.oxigraph, ox.RdfFormat)
        ox.serialize(triples, cast(IO[bytes], sink), fmt.oxigraph, prefixes=prefixes)
    except (SyntaxError, ValueError) as exc:
        raise BackendError(f"the SPARQL endpoint sent triples that cannot be read: {exc}") from None
    return Answer("graph", b"".join(sink.parts), fmt)
