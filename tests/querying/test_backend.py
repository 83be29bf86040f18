"""RemoteBackend against real servers (`oxigraph serve` and Virtuoso), each holding the bundled release
pushed with --graph-per-source: the same answers as the embedded store for the queries pages, search,
reconcile and path ask; the same policy; failure as 503/504, and served again once the server is back."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import to_isomorphic

from _oxigraph import Oxigraph, freeze
from conftest import free_port
from tieslod.api import push
from tieslod.config import Settings
from tieslod.errors import BackendError, BackendUnavailable, QueryError, ResultTooLarge
from tieslod.publishing.push import release_graph
from tieslod.querying.backend import RemoteBackend
from tieslod.querying.connections import TIE_QUERY, ties_from_srj
from tieslod.querying.neighbourhood import neighbourhood_query
from tieslod.querying.policy import ServiceRefused
from tieslod.querying.reconcile import entity_query
from tieslod.querying.resource import describe_nodes_query, describe_query, related_nodes_query
from tieslod.querying.store import open_read_only, run_query

RODINA = "https://w3id.org/tieslod/id/rodina"


@pytest.fixture(scope="module")
def oxigraph(real_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    server = Oxigraph(tmp_path_factory.mktemp("oxigraph") / "store", free_port())
    server.start()
    push(real_settings, f"http://127.0.0.1:{server.port}/store", per_source=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def virtuoso_loaded(real_settings: Settings, virtuoso_server):
    virtuoso_server.reset()
    for journal in real_settings.out_dir.glob("push-journal-*.json"):
        journal.unlink()   # the session's build is shared: another module may have pushed it to this server
    push(real_settings, virtuoso_server.gsp, per_source=True, auth=virtuoso_server.auth,
         query_endpoint=virtuoso_server.sparql)
    return virtuoso_server


@pytest.fixture(params=["oxigraph", "virtuoso"])
def endpoint(request: pytest.FixtureRequest) -> str:
    if request.param == "oxigraph":
        return request.getfixturevalue("oxigraph").query
    return request.getfixturevalue("virtuoso_loaded").sparql


def ask(backend: RemoteBackend, *args: object, **kwargs: object):
    """Run one backend call on a fresh event loop, closing the client afterwards."""
    async def go():
        try:
            return await getattr(backend, args[0])(*args[1:], **kwargs)
        finally:
            await backend.aclose()
    return asyncio.run(go())


def rows(body: bytes) -> set[tuple[tuple[str, str], ...]]:
    """SELECT rows as a set, terms by their N-Triples form (so datatypes and language tags count)."""
    solutions = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    names = [v.value for v in solutions.variables]
    return {tuple((n, str(s[n])) for n in names if s[n] is not None) for s in solutions}


def backend_for(url: str, settings: Settings, **kwargs: object) -> RemoteBackend:
    return RemoteBackend(url, release_graph(settings), **kwargs)  # type: ignore[arg-type]


QUERIES = {
    "describe (entity page)": (describe_query(RODINA), "graph"),
    "neighbourhood (picture)": (neighbourhood_query(RODINA), "bindings"),
    "entities (search, reconcile)": (None, "bindings"),
    "ties (path)": (TIE_QUERY, "bindings"),
    # distinct: the union graph push keeps is a set (the RDF merge), the embedded union default graph a
    # bag, counting twice the 2 triples of the bundled release that two graphs state (docs/scaling.md)
    "union, no dataset named": ("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }",
                                "bindings"),
    "GRAPH ?g over the union": ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", "bindings"),
    "our prefixes, undeclared": ("SELECT ?l WHERE { ?x a schema:Person ; rdfs:label ?l }", "bindings"),
}


@pytest.mark.parametrize("name", QUERIES)
def test_answers_equal_the_embedded_store(name: str, endpoint: str, real_settings: Settings,
                                          request: pytest.FixtureRequest) -> None:
    if name.startswith("describe") and request.node.callspec.params["endpoint"] == "virtuoso":
        request.applymarker(pytest.mark.xfail(strict=False, reason=(
            "Virtuoso 7.2.5 bug: this CONSTRUCT (nested sub-SELECTs joined with more patterns) returns every "
            "triple for some entities, Rodina among them, depending on what it was asked before; the two-step "
            "related_nodes_query + describe_nodes_query is right (test below, docs/notes/issue-15.md)")))
    query, kind = QUERIES[name]
    query = query or entity_query(real_settings)
    local = run_query(open_read_only(real_settings.out_dir / "current"), query, graph_fmt="ntriples")
    remote = ask(backend_for(endpoint, real_settings), "query", query, graph_format="ntriples")
    assert remote.kind == local.kind == kind
    if kind == "graph":
        mine = rdflib.Graph().parse(data=local.body, format="nt")
        assert len(mine) > 10 and to_isomorphic(rdflib.Graph().parse(data=remote.body, format="nt")) == to_isomorphic(mine)
    elif name == "ties (path)":   # GROUP_CONCAT's order is the engine's: compare what the path finder reads
        assert ties_from_srj(remote.body) == ties_from_srj(local.body) != {}
    else:
        assert rows(local.body) and rows(remote.body) == rows(local.body)


def test_the_version_and_graphs_come_from_the_data(endpoint: str, real_settings: Settings) -> None:
    manifest = json.loads((real_settings.out_dir / "current" / "manifest.json").read_text())
    release = ask(backend_for(endpoint, real_settings), "release")
    assert release.version == manifest["version"]
    assert set(release.graphs) == {g["iri"] for g in manifest["graphs"].values()}


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_ask_and_every_result_format(endpoint: str, real_settings: Settings, fmt: str) -> None:
    yes = ask(backend_for(endpoint, real_settings), "query", f"ASK {{ <{RODINA}> ?p ?o }}", result_format=fmt)
    no = ask(backend_for(endpoint, real_settings), "query", "ASK { <urn:nothing> ?p ?o }", result_format=fmt)
    if fmt in ("json", "xml"):
        parse = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}[fmt]
        assert bool(ox.parse_query_results(yes.body, parse)) and not bool(ox.parse_query_results(no.body, parse))
    else:
        assert yes.body.strip().lower() in (b"true", b"1") or b"true" in yes.body.lower()
    assert yes.kind == "boolean" and yes.fmt.name == fmt


@pytest.mark.parametrize("fmt,rdflib_name", [("turtle", "turtle"), ("jsonld", "json-ld"), ("rdfxml", "xml")])
def test_graph_formats_parse(endpoint: str, real_settings: Settings, fmt: str, rdflib_name: str) -> None:
    answer = ask(backend_for(endpoint, real_settings), "query", describe_query(RODINA), graph_format=fmt)
    graph = rdflib.Graph().parse(data=answer.body, format=rdflib_name)
    assert (rdflib.URIRef(RODINA), rdflib.RDFS.label, None) in graph


def test_service_and_updates_never_leave_the_front_end(real_settings: Settings) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/sparql"   # nothing listens: a forwarded query would say so
    with pytest.raises(ServiceRefused):
        ask(backend_for(nobody, real_settings), "query", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    with pytest.raises(QueryError, match="read-only"):
        ask(backend_for(nobody, real_settings), "query", "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        ask(backend_for(nobody, real_settings), "query", "ASK {}")


# A query the database refuses with HTTP 400 although the front end's own check (pyoxigraph's parser)
# accepts it: Virtuoso does not implement SPARQL 1.1's BNODE() ("SP031"). (Oxigraph serve parses as the
# front end does: nothing it refuses gets past the front end's check.)
REFUSED = "SELECT (BNODE() AS ?b) WHERE { }"


def test_a_page_query_the_database_refuses_is_a_502_a_client_query_a_400(virtuoso_loaded,
                                                                        real_settings: Settings) -> None:
    """The regression test for the page that was a 500: a page's own query refused is an upstream failure."""
    from tieslod.server.context import QueryRequest
    from tieslod.server.querylayer import RemoteQueryBackend
    endpoint, query = virtuoso_loaded.sparql, REFUSED
    with pytest.raises(QueryError, match="refused the query") as client_side:
        ask(backend_for(endpoint, real_settings), "query", query)
    assert client_side.value.http_status == 400
    with pytest.raises(BackendError, match="refused a query this page asks") as page_side:
        ask(backend_for(endpoint, real_settings), "query", query, own=True)
    assert page_side.value.http_status == 502 and page_side.value.retry_after

    async def layer(client: str | None) -> Exception:
        settings = dataclasses.replace(real_settings, sparql_endpoint=endpoint)
        backend = RemoteQueryBackend(settings, 1_000_000)
        try:
            await backend.query(QueryRequest(query), client)
        except Exception as exc:  # noqa: BLE001 - the test looks at which
            return exc
        finally:
            await backend.aclose()
        raise AssertionError("the database answered")
    assert asyncio.run(layer(None)).http_status == 502           # type: ignore[attr-defined]
    assert asyncio.run(layer("127.0.0.9")).http_status == 400    # type: ignore[attr-defined]


def test_the_union_graph_is_the_default_graph_and_named_graphs_only_where_asked(
        oxigraph: Oxigraph, real_settings: Settings) -> None:
    release = ask(backend_for(oxigraph.query, real_settings), "release")
    union, entities = real_settings.graph_iri("union"), real_settings.graph_iri("entities")
    assert release.union == union and union not in release.graphs and entities in release.graphs
    assert release.dataset("SELECT * { ?s ?p ?o }") == ((union,), ())
    assert release.dataset(f"SELECT * {{ GRAPH <{entities}> {{ ?s ?p ?o }} }}") == ((union,), (entities,))
    assert release.dataset("SELECT * { GRAPH ?g { ?s ?p ?o } }") == ((union,), release.graphs)
    assert release.dataset("SELECT * { GRAPH e:x { ?s ?p ?o } }") == ((union,), release.graphs)
    assert release.dataset('SELECT * { ?s ?p "GRAPH ?g" }') == ((union,), ())
    # an older description without the union graph: every graph, as before
    assert dataclasses.replace(release, union=None).dataset("SELECT * { ?s ?p ?o }") == (release.graphs, release.graphs)


def test_an_endpoint_without_a_release_says_so(tmp_path: Path, real_settings: Settings) -> None:
    empty = Oxigraph(tmp_path / "empty", free_port())
    empty.start()
    try:
        with pytest.raises(BackendUnavailable, match="tieslod push"):
            ask(backend_for(empty.query, real_settings), "query", "ASK { ?s ?p ?o }")
    finally:
        empty.stop()


def test_down_then_up_again_without_a_new_backend(oxigraph: Oxigraph, real_settings: Settings) -> None:
    async def scenario() -> list[object]:
        backend = backend_for(oxigraph.query, real_settings, timeout=3.0, version_ttl=0.0)
        seen: list[object] = []
        try:
            for step in ("up", "down", "up"):
                if step == "down":
                    oxigraph.stop()
                elif oxigraph.proc is None or oxigraph.proc.poll() is not None:
                    oxigraph.start()
                began = time.monotonic()
                try:
                    seen.append((await backend.query("ASK { ?s ?p ?o }")).body)
                except BackendUnavailable as exc:
                    seen.append(exc)
                assert time.monotonic() - began < 3.0
        finally:
            await backend.aclose()
        return seen
    up, down, again = asyncio.run(scenario())
    assert isinstance(down, BackendUnavailable) and down.http_status == 503 and down.retry_after
    assert up == again and b"true" in again  # type: ignore[operator]


def test_a_hung_endpoint_is_a_504_and_a_full_pool_a_503(oxigraph: Oxigraph, real_settings: Settings) -> None:
    """SIGSTOP: the server still accepts connections (the kernel does) but never answers."""
    async def scenario() -> tuple[list[object], float, bytes]:
        backend = backend_for(oxigraph.query, real_settings, timeout=1.5, max_connections=1, queue_wait=0.5)
        try:
            await backend.release()                   # read before the freeze: only the query hangs
            assert oxigraph.proc is not None
            freeze(oxigraph.proc.pid)
            began = time.monotonic()
            results = await asyncio.gather(backend.query("ASK { ?s ?p ?o }"), backend.query("ASK { ?s ?p ?o }"),
                                           return_exceptions=True)
            waited = time.monotonic() - began
            os.kill(oxigraph.proc.pid, signal.SIGCONT)
            return list(results), waited, (await backend.query("ASK { ?s ?p ?o }")).body
        finally:
            os.kill(oxigraph.proc.pid, signal.SIGCONT)
            await backend.aclose()
    results, waited, after = asyncio.run(scenario())
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["BackendTimeout", "BackendUnavailable"], results
    assert all(r.http_status in (503, 504) and r.retry_after for r in results)   # type: ignore[union-attr]
    assert waited < 1.5 + 1.0 and b"true" in after


def test_virtuoso_cutting_an_answer_short_is_refused(virtuoso_loaded, real_settings: Settings) -> None:
    """Stock Virtuoso returns at most ResultSetMaxRows (10000) rows and says so in X-SPARQL-MaxRows."""
    many = "SELECT ?s ?t WHERE { ?s ?p ?o . ?x a ?t }"    # far more than 10000 rows
    with pytest.raises(ResultTooLarge, match="10000 rows"):
        ask(backend_for(virtuoso_loaded.sparql, real_settings), "query", many)


def test_virtuoso_query_endpoint_with_digest_auth(virtuoso_loaded, real_settings: Settings) -> None:
    guarded = virtuoso_loaded.base + "/sparql-auth"
    answer = ask(backend_for(guarded, real_settings, auth=virtuoso_loaded.auth), "query", f"ASK {{ <{RODINA}> ?p ?o }}")
    assert bool(ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON))
    with pytest.raises(BackendError, match="credentials"):
        ask(backend_for(guarded, real_settings, auth="pusher:wrong"), "query", "ASK {}")
    with pytest.raises(BackendError, match="credentials"):
        ask(backend_for(guarded, real_settings), "query", "ASK {}")


def test_blank_nodes_in_constructed_answers(endpoint: str, real_settings: Settings) -> None:
    graph = ask(backend_for(endpoint, real_settings), "query",
                f'CONSTRUCT {{ _:x rdfs:label "x" . _:x rdfs:seeAlso <{RODINA}> }} WHERE {{}}', graph_format="turtle")
    (node,) = set(rdflib.Graph().parse(data=graph.body, format="turtle").subjects())
    assert isinstance(node, rdflib.BNode)


def test_virtuoso_blank_node_names_become_labels(virtuoso_loaded, real_settings: Settings) -> None:
    """Virtuoso names blank nodes nodeID://b...: not a label a SPARQL results parser accepts."""
    with httpx.Client(auth=httpx.DigestAuth(*virtuoso_loaded.auth.split(":"))) as client:
        client.put(virtuoso_loaded.gsp, params={"graph": "urn:test:bnodes"}, content=b"_:a <urn:p> _:b .\n",
                   headers={"Content-Type": "application/n-triples"}).raise_for_status()
        try:
            answer = ask(backend_for(virtuoso_loaded.sparql, real_settings), "query",
                         "SELECT ?s ?o WHERE { ?s <urn:p> ?o }", default_graph_uris=("urn:test:bnodes",))
        finally:
            client.delete(virtuoso_loaded.gsp, params={"graph": "urn:test:bnodes"}).raise_for_status()
    (row,) = list(ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON))
    assert isinstance(row["s"], ox.BlankNode) and isinstance(row["o"], ox.BlankNode) and row["s"] != row["o"]


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s ?p ?o }", "SELECT * { ?s ?p ?o }", "PREFIX where: <urn:where> SELECT (STR(?o) AS ?n) { ?s ?p ?o }",
    "SELECT ?s (EXISTS { ?s ?p ?o } AS ?e) WHERE { ?s ?p ?o }", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } { ?s ?p ?o }", "CONSTRUCT WHERE { ?s ?p ?o }", "ASK { ?s ?p ?o }", "ASK WHERE { GRAPH ?g { ?s ?p ?o } }",
    "DESCRIBE <urn:s>", "DESCRIBE ?s WHERE { ?s ?p ?o }", "DESCRIBE <urn:s> LIMIT 3",
    "# a { in a comment\nSELECT ?where WHERE { ?where ?p '{' } ", "SELECT * WHERE { { ?s ?p ?o } } LIMIT 1",
    "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
])
def test_dataset_clauses_go_where_the_grammar_wants_them(query: str) -> None:
    """The position is checked by meaning: with the clauses in, the query sees the graph's triple."""
    from tieslod.querying.policy import dataset_position
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("{"), ox.NamedNode("urn:g")))
    at = dataset_position(query)
    result = store.query(query[:at] + " FROM <urn:g> FROM NAMED <urn:g> " + query[at:])
    assert (bool(result) if isinstance(result, ox.QueryBoolean) else len(list(result)) > 0)
    empty = store.query(query)   # without them: the default graph, empty (so the clauses did the work)
    assert not (bool(empty) if isinstance(empty, ox.QueryBoolean) else len(list(empty)) > 0) or "GRAPH" in query


def test_a_release_description_naming_no_iri_is_a_502(tmp_path: Path, real_settings: Settings) -> None:
    """Graph names go into query text: one that is not an IRI must not get there."""
    server = Oxigraph(tmp_path / "odd", free_port())
    server.start()
    d = release_graph(real_settings)
    body = (f'<{d}> <http://www.w3.org/2002/07/owl#versionInfo> "v1" .\n<{d}> <http://rdfs.org/ns/void#subset> _:s .\n'
            f'_:s <http://www.w3.org/ns/sparql-service-description#name> "urn:a> }} SERVICE <http://127.0.0.1:9/> {{" .\n')
    try:
        httpx.put(f"http://127.0.0.1:{server.port}/store", params={"graph": d}, content=body.encode(),
                  headers={"Content-Type": "application/n-triples"}).raise_for_status()
        with pytest.raises(BackendError, match="not an IRI"):
            ask(backend_for(server.query, real_settings), "query", "ASK { ?s ?p ?o }")
    finally:
        server.stop()


def _iris(settings: Settings, limit: int | None = None) -> list[str]:
    """Every IRI a page is made for (entities, sources, ties, claims, reviews), Rodina first."""
    store = open_read_only(settings.out_dir / "current")
    rows = store.query(f"SELECT DISTINCT ?e WHERE {{ GRAPH ?g {{ ?e ?p ?o }} FILTER(STRSTARTS(STR(?e), '{settings.base_uri}id/')) }}")
    found = sorted((r["e"].value for r in rows), key=lambda i: (i != RODINA, i))
    return found[:limit]


def _graph(body: bytes) -> set:
    return set(rdflib.Graph().parse(data=body, format="nt"))


def test_two_step_describe_equals_the_one_step_locally(real_settings: Settings) -> None:
    store = open_read_only(real_settings.out_dir / "current")
    iris = _iris(real_settings)
    assert len(iris) > 500
    for iri in iris:
        nodes = [r["n"]["value"] for r in json.loads(run_query(store, related_nodes_query(iri)).body)["results"]["bindings"]]
        two = run_query(store, describe_nodes_query(iri, nodes), graph_fmt="ntriples").body
        assert _graph(two) == _graph(run_query(store, describe_query(iri), graph_fmt="ntriples").body), iri


def test_two_step_describe_is_right_on_both_servers(endpoint: str, real_settings: Settings) -> None:
    """Rodina first: on Virtuoso the one-step describe asked first after a push is the wrong one."""
    store = open_read_only(real_settings.out_dir / "current")

    async def remote(iris: list[str]) -> list[bytes]:
        backend = backend_for(endpoint, real_settings)
        try:
            out = []
            for iri in iris:
                answer = await backend.query(related_nodes_query(iri))
                nodes = [r["n"]["value"] for r in json.loads(answer.body)["results"]["bindings"]]
                out.append((await backend.query(describe_nodes_query(iri, nodes), graph_format="ntriples")).body)
            return out
        finally:
            await backend.aclose()
    iris = _iris(real_settings, 120)
    for iri, body in zip(iris, asyncio.run(remote(iris)), strict=True):
        assert _graph(body) == _graph(run_query(store, describe_query(iri), graph_fmt="ntriples").body), iri
