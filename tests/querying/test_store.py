"""The one function that runs a query (querying/store.py): each kind of answer serialized in the asked
format, the union default graph unless graphs are named, the size limit, and its refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from tieslod.errors import NotAcceptableResult, QueryError, ResultTooLarge, UpdateRefused, UsageError
from tieslod.querying.store import Bounded, open_read_only, query_kind, run_query

E = "https://w3id.org/tieslod/id/"
G = "https://w3id.org/tieslod/graph/"
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


@pytest.fixture()
def store() -> ox.Store:
    """Two named graphs, one label in each."""
    store = ox.Store()
    for name in ("acme", "carol"):
        store.add(ox.Quad(ox.NamedNode(E + name), LABEL, ox.Literal(name.title()), ox.NamedNode(G + name)))
    return store


def test_each_kind_of_answer_in_the_asked_format(store: ox.Store) -> None:
    select = run_query(store, "SELECT ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l")   # our prefixes are known
    assert select.kind == "bindings" and select.fmt.name == "json"
    assert [b["l"]["value"] for b in json.loads(select.body)["results"]["bindings"]] == ["Acme", "Carol"]
    as_csv = run_query(store, "SELECT ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l", result_fmt="csv")
    assert as_csv.body.decode().splitlines() == ["l", "Acme", "Carol"]
    ask = run_query(store, f"ASK {{ <{E}acme> ?p ?o }}")
    assert ask.kind == "boolean" and json.loads(ask.body)["boolean"] is True
    graph = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }", graph_fmt="ntriples")
    assert graph.kind == "graph" and len(rdflib.Graph().parse(data=graph.body, format="nt")) == 2
    jsonld = run_query(store, "CONSTRUCT WHERE { ?s ?p ?o }", graph_fmt="jsonld")
    assert len(rdflib.Graph().parse(data=jsonld.body, format="json-ld")) == 2
    assert [query_kind(q) for q in ("SELECT * {}", "ASK {}", "CONSTRUCT WHERE { ?s ?p ?o }")] == \
        ["bindings", "boolean", "graph"]


def test_the_default_graph_is_the_union_unless_graphs_are_named(store: ox.Store) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    n = lambda answer: int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])
    assert n(run_query(store, count)) == 2
    assert n(run_query(store, count, default_graph_uris=[G + "acme"])) == 1
    assert n(run_query(store, count.replace("WHERE", f"FROM <{G}carol> WHERE"))) == 1
    with pytest.raises(QueryError, match="not a valid graph IRI"):
        run_query(store, count, default_graph_uris=["not an iri"])


def test_a_result_over_the_limit_is_refused_not_cut(store: ox.Store) -> None:
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    whole = run_query(store, query, graph_fmt="ntriples").body
    assert run_query(store, query, graph_fmt="ntriples", max_bytes=len(whole)).body == whole
    with pytest.raises(ResultTooLarge, match="larger than the limit"):
        run_query(store, query, graph_fmt="ntriples", max_bytes=len(whole) - 1)
    sink = Bounded(10)
    assert sink.write(b"x" * 10) == 10
    with pytest.raises(ResultTooLarge):
        sink.write(b"x")


def test_refusals(store: ox.Store, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="SPARQL syntax error"):
        run_query(store, "SELECT * WHERE { ?s ?p ")
    with pytest.raises(UpdateRefused):
        run_query(store, "INSERT DATA { <x:a> <x:b> <x:c> }")
    with pytest.raises(UpdateRefused):
        query_kind("DELETE WHERE { ?s ?p ?o }")
    with pytest.raises(NotAcceptableResult, match="accepts no format"):
        run_query(store, "ASK {}", result_fmt="")
    assert len(store) == 2                                   # nothing was written
    with pytest.raises(UsageError, match="run `tieslod build` first"):
        open_read_only(tmp_path)


def test_opens_a_built_release_read_only(real_build) -> None:
    store = open_read_only(real_build.release_dir)
    answer = run_query(store, f"ASK {{ <{E}alexander-ionov> rdfs:label ?l }}")
    assert json.loads(answer.body)["boolean"] is True
    with pytest.raises(RuntimeError, match="read-write"):     # a served release is never written
        store.add(ox.Quad(ox.NamedNode(E + "x"), LABEL, ox.Literal("x")))
