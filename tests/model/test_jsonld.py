"""The streaming compact JSON-LD writer (model/jsonld.py) against the project's own context: what it
writes parses back (rdflib) to exactly the quads it was given, and uses the context's terms."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic

from tieslod.model.jsonld import Compactor, document, graph_object, node_object
from tieslod.vocab import OA, RDF, RDFS, SCHEMA, TL, XSD

E = "https://w3id.org/tieslod/id/"
G = "https://w3id.org/tieslod/graph/mini"


def context(repo_root: Path) -> dict:
    return json.loads((repo_root / "ontology" / "context.jsonld").read_text(encoding="utf-8"))["@context"]


def sample() -> list[ox.Quad]:
    """One claim with every kind of value the writer distinguishes."""
    g, claim, ev = ox.NamedNode(G), ox.NamedNode(E + "claim/mini-01"), ox.BlankNode("ev1")
    nn, lit = ox.NamedNode, ox.Literal
    triples = [
        (claim, nn(RDF + "type"), nn(TL + "Claim")),
        (claim, nn(RDF + "type"), nn(SCHEMA + "Claim")),                                   # two types
        (claim, nn(TL + "stance"), nn(TL + "Asserts")),                                    # @id-coerced term
        (claim, nn(TL + "quote"), lit('He said "yes" </script> & left.')),                  # plain string
        (claim, nn(RDFS + "label"), lit("Anspruch", language="de")),                       # language tag
        (claim, nn(TL + "year"), lit("2019", datatype=nn(XSD + "gYear"))),                 # coerced datatype
        (claim, nn(SCHEMA + "value"), lit("10.5", datatype=nn(XSD + "decimal"))),          # not coerced
        (claim, nn("http://example.org/vocab#odd"), nn("urn:x-local:thing")),              # outside the context
        (claim, nn(TL + "evidence"), ev),                                                  # a blank node
        (ev, nn(OA + "start"), lit("5", datatype=nn(XSD + "nonNegativeInteger"))),
        (ev, nn(OA + "exact"), lit("yes")),
    ]
    return [ox.Quad(s, p, o, g) for s, p, o in triples]


def test_document_parses_back_to_the_same_quads(repo_root: Path) -> None:
    quads = sorted(sample(), key=lambda q: str(q.subject))
    written = document(context(repo_root), [graph_object(Compactor(context(repo_root)), G, quads)])
    assert json.loads(written)["@context"] == context(repo_root)
    parsed = rdflib.Dataset().parse(data=written, format="json-ld")
    expected = rdflib.Dataset().parse(data="".join(str(q) + " .\n" for q in quads), format="nquads")
    graph = rdflib.URIRef(G)
    assert len(parsed.graph(graph)) == len(quads)
    assert isomorphic(parsed.graph(graph), expected.graph(graph))


def test_node_objects_use_the_context_and_do_not_depend_on_input_order(repo_root: Path) -> None:
    compactor = Compactor(context(repo_root))
    claim = [q for q in sample() if q.subject == ox.NamedNode(E + "claim/mini-01")]
    pairs = [(q.predicate.value, q.object) for q in claim]
    line = node_object(compactor, claim[0].subject, pairs)
    assert line == node_object(compactor, claim[0].subject, list(reversed(pairs)))
    node = json.loads(line)
    assert node["@id"] == E + "claim/mini-01"
    assert node["@type"] == ["schema:Claim", "tl:Claim"]
    assert node["stance"] == "tl:Asserts"                                  # a term, and a compact IRI value
    assert node["year"] == "2019"                                          # the term's coercion carries the type
    assert node["value"] == {"@value": "10.5", "@type": XSD + "decimal"}   # no coercion: typed value object
    assert node["label"] == {"@value": "Anspruch", "@language": "de"}
    assert node["http://example.org/vocab#odd"] == {"@id": "urn:x-local:thing"}
    assert node["evidence"] == "_:ev1"
    assert "\n" not in line
