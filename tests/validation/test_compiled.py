"""The compiled local checks (compiled.py) report exactly what pyshacl reports for the same shapes,
on a graph with a defect for every constraint component the shapes file uses, including pyshacl's
quirks (ill-typed literals, blank nodes, a value failing two components reported twice)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from tieslod.validation import compiled, shards
from tieslod.validation.shacl import Violation, shacl_report

PREFIXES = """
@prefix tl: <https://w3id.org/tieslod/ontology#> . @prefix schema: <http://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix oa: <http://www.w3.org/ns/oa#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix x: <https://example.org/x/> .
"""
# One node per defect (and a few valid ones), each named for what it gets wrong.
DEFECTS = """
x:ok-person a schema:Person ; rdfs:label "Ann" ; skos:altLabel "A." .
x:no-label a schema:Person .
x:two-labels a schema:Organization ; rdfs:label "B", "C" .
x:lang-label a schema:Person ; rdfs:label "Dee"@en .
x:int-label a schema:Person ; rdfs:label 5 .
x:iri-label a schema:Person ; rdfs:label x:thing .
x:empty-label a schema:Person ; rdfs:label "" .
x:bnode-label a schema:Person ; rdfs:label [ ] .
x:typed-alias a schema:Person ; rdfs:label "E" ; skos:altLabel "e"^^xsd:token .
x:tie-ok a tl:Funding ; tl:subject x:ok-person ; tl:object x:ok-person .
x:tie-bad a tl:Meeting ; tl:subject "literal" ; tl:object [ ] , x:a .
x:tie-none a tl:Tie .
x:tie-qualified a tl:Funding ; tl:subject x:ok-person ; tl:object x:ok-person ; tl:when "late 2014" ;
    tl:role "foreign minister", "chairman" ; schema:amount x:amount-ok ; tl:status tl:Occurred .
x:claim-ok a tl:Claim ; tl:tie x:tie-ok ; tl:stance tl:Asserts ; tl:speaker x:src ; tl:summary "s" ;
    tl:quote "abc" ; tl:year "2014"^^xsd:gYear ; tl:status tl:Occurred ; schema:amount x:amount-ok ;
    tl:modality tl:Suspected ; tl:hedge "suspected" ; tl:descriptor "former lawyer" ; tl:when "late 2014" .
x:claim-quals a tl:Claim ; tl:stance tl:Asserts ; tl:speaker x:src ; tl:summary "s" ; tl:quote "abc" ;
    tl:year "20x4"^^xsd:gYear, "2015" ; tl:status "Occurred", tl:Maybe ; tl:participant "p" ;
    tl:onBehalfOf "org" ; schema:location "here" ; tl:when "a", "b" ; tl:purpose 3 ; tl:role "r"@en ;
    tl:item 4 ; tl:relationText x:rel ; tl:statedWhen "x", "y" ; tl:descriptor 5 ;
    tl:modality tl:Suspected, tl:Rumoured ; tl:hedge "", "h" .
x:amount-ok a schema:MonetaryAmount ; schema:value 12 ; schema:currency "USD" .
x:amount-dec a schema:MonetaryAmount ; schema:value 1.5 ; schema:currency "EUR" .
x:amount-bad a schema:MonetaryAmount ; schema:value "abc"^^xsd:integer, "x", 1e3 ; schema:currency "usd", [ ] .
x:src a tl:Source ; tl:sourceFile "a.txt" ; rdfs:label "S" ; schema:text "t" ; tl:sha256 "xyz" ;
    schema:headline "h1", "h2" ; schema:publisher [ ] .
x:claim a tl:Claim ; tl:stance tl:Maybe ; tl:speaker "who" ; tl:summary "" ; tl:quote "ab", 7 .
x:review a schema:ClaimReview ; schema:author x:src, x:claim ; tl:verdict tl:Doubted ; tl:quote "q" .
x:pos a oa:TextPositionSelector ; oa:start "-5"^^xsd:nonNegativeInteger ; oa:end 5 .
x:pos-ok a oa:TextPositionSelector ; oa:start "3"^^xsd:nonNegativeInteger ; oa:end "4"^^xsd:nonNegativeInteger .
x:quote a oa:TextQuoteSelector ; oa:exact "a", "b" ; oa:prefix 3 .
x:old dct:isReplacedBy "new", x:n1 .
x:term rdfs:isDefinedBy x:onto .
"""


def _key(v: Violation) -> tuple:
    return (v.shape, v.focus, v.path, v.value, v.message, v.severity)


@pytest.fixture(scope="module")
def shapes_text(repo_root: Path) -> str:
    return shards.load_shapes_text(repo_root / "shapes")


@pytest.fixture(scope="module")
def subclass(repo_root: Path) -> list[ox.Triple]:
    onto = list(ox.parse(path=str(repo_root / "ontology" / "tieslod.ttl"), format=ox.RdfFormat.TURTLE))
    nt = shards.subclass_triples(onto)
    return [q.triple for q in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)]


def _quads(text: str) -> list[ox.Quad]:
    graph = ox.NamedNode("https://example.org/graph/g")
    return [ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in ox.parse(PREFIXES + text, format=ox.RdfFormat.TURTLE)]


def _both(quads: list[ox.Quad], subclass: list[ox.Triple], shapes_text: str) -> tuple[Counter, Counter]:
    record = shacl_report(shards.to_graph(quads, subclass), shards.local_shapes(shapes_text), {})
    pairs = [(t.subject.value, t.object.value) for t in subclass]
    fast = compiled.check(compiled.compile_shapes(shapes_text), quads, pairs, {})
    return Counter(map(_key, fast)), Counter(map(_key, record))


def test_compiled_checks_report_what_pyshacl_reports(shapes_text: str, subclass: list[ox.Triple]) -> None:
    fast, record = _both(_quads(DEFECTS), subclass, shapes_text)
    assert len(record) > 30, "the defect graph exercises many constraints"
    assert fast == record


def test_every_component_the_shapes_use_is_exercised(shapes_text: str, subclass: list[ox.Triple]) -> None:
    """Each compiled component produced at least one result above (so the comparison covers it)."""
    fast, _ = _both(_quads(DEFECTS), subclass, shapes_text)
    messages = {k[4] for k in fast}
    for fragment in ("exactly one rdfs:label", "alias", "tl:subject", "tl:status", "tl:year", "numeric",
                     "tl:participant", "tl:onBehalfOf", "schema:location", "tl:when", "tl:purpose", "tl:role",
                     "tl:item", "tl:relationText", "tl:statedWhen", "tl:descriptor", "tl:modality", "tl:hedge",
                     "A tie carries no qualifiers",
                     "ISO 4217", "SHA-256", "tl:stance", "tl:summary", "verbatim tl:quote from", "oa:start",
                     "oa:exact", "oa:prefix", "successor", "ontology term needs an rdfs:label"):
        assert any(fragment in m for m in messages), fragment


def test_a_valid_corpus_article_has_no_results_either_way(shapes_text: str, subclass: list[ox.Triple],
                                                           repo_root: Path) -> None:
    quads = [q for p in sorted((repo_root / "data" / "articles").glob("*.ttl"))
             for q in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE, base_iri="https://w3id.org/tieslod/")]
    quads = [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode("https://example.org/g")) for q in quads]
    fast, record = _both(quads, subclass, shapes_text)
    assert fast == record


@pytest.mark.parametrize("extra", [
    "tls:X a sh:NodeShape ; sh:targetClass tl:Tie ; sh:property [ sh:path tl:when ; sh:maxLength 3 ] .",
    "tls:X a sh:NodeShape ; sh:targetClass tl:Tie ; sh:property [ sh:path ( tl:a tl:b ) ; sh:minCount 1 ] .",
    "tls:X a sh:NodeShape ; sh:targetClass tl:Tie ; sh:closed true .",
])
def test_anything_not_compiled_falls_back_to_pyshacl(shapes_text: str, extra: str) -> None:
    text = shapes_text + "\n" + extra + "\n"
    with pytest.raises(compiled.Unsupported):
        compiled.compile_shapes(text)
    assert not compiled.supported(text)
