"""The namespaces the code uses (vocab.py) are the ones the ontology, the JSON-LD context and the
authoring files declare, and the prefix blocks it writes parse."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from tieslod.vocab import (
    AUTHORING_PREFIXES,
    ENTITY_CLASSES,
    PREFIXES,
    SCHEMA,
    TL,
    XSD,
    n,
    prefix_block,
    solutions,
    value_of,
)


def test_prefixes_agree_with_the_context_and_the_ontology(repo_root: Path) -> None:
    context = json.loads((repo_root / "ontology" / "context.jsonld").read_text(encoding="utf-8"))["@context"]
    declared = {p: v for p, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    assert {p: PREFIXES[p] for p in declared} == declared      # the context declares no other namespace
    assert set(PREFIXES) - set(declared) == {"foaf"}           # foaf: only the code's own queries use it
    ontology = rdflib.Graph().parse(repo_root / "ontology" / "tieslod.ttl")
    assert dict(ontology.namespaces())["tl"] == rdflib.URIRef(TL)
    assert (rdflib.URIRef(TL.rstrip("#")), rdflib.RDF.type, rdflib.OWL.Ontology) in ontology


def test_prefix_block_declares_every_prefix_and_takes_extras() -> None:
    block = prefix_block({"e": "https://w3id.org/tieslod/id/"})
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("https://w3id.org/tieslod/id/x"), n(TL, "stance"), n(TL, "Asserts")))
    rows = list(store.query(block + "SELECT ?o WHERE { e:x tl:stance ?o }"))
    assert [r["o"] for r in rows] == [n(TL, "Asserts")]
    assert block.count("PREFIX ") == len(PREFIXES) + 1
    assert prefix_block({"tl": "urn:other#"}).count("PREFIX tl:") == 1   # an extra replaces, never doubles


def test_authoring_prefixes_resolve_against_the_base() -> None:
    base = "https://w3id.org/tieslod/"
    graph = rdflib.Graph().parse(data=AUTHORING_PREFIXES + "e:acme a schema:Organization ; tl:stance tl:Asserts .",
                                 format="turtle", publicID=base)
    acme = rdflib.URIRef(base + "id/acme")
    assert (acme, rdflib.RDF.type, rdflib.URIRef(SCHEMA + "Organization")) in graph
    assert (acme, rdflib.URIRef(TL + "stance"), rdflib.URIRef(TL + "Asserts")) in graph
    assert all(c.startswith(SCHEMA) for c in ENTITY_CLASSES) and len(set(ENTITY_CLASSES)) == len(ENTITY_CLASSES)


def test_value_of_reads_iris_blank_nodes_and_literals_and_refuses_what_has_no_value() -> None:
    assert value_of(n(TL, "Asserts")) == TL + "Asserts"
    assert value_of(ox.BlankNode("b1")) == "b1"
    assert value_of(ox.Literal("5", datatype=n(XSD, "integer"))) == "5"
    triple = ox.Triple(n(TL, "a"), n(TL, "b"), n(TL, "c"))   # RDF 1.2 triple term: no lexical value
    for term in (triple, ox.DefaultGraph()):
        with pytest.raises(TypeError, match="has no value"):
            value_of(term)


def test_solutions_are_the_rows_of_a_select_and_nothing_else() -> None:
    store = ox.Store()
    store.add(ox.Quad(n(TL, "a"), n(TL, "b"), n(TL, "c")))
    assert [r["o"] for r in solutions(store.query("SELECT ?o WHERE { ?s ?p ?o }"))] == [n(TL, "c")]
    with pytest.raises(TypeError, match="SELECT"):
        solutions(store.query("ASK { ?s ?p ?o }"))
