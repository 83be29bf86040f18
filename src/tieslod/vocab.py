"""Namespace IRIs used by the code (the ontology itself lives in ontology/tieslod.ttl)."""
from __future__ import annotations

from typing import TypeAlias

import pyoxigraph as ox

from .config import ONTOLOGY_NS

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "http://schema.org/"
OA = "http://www.w3.org/ns/oa#"
ORG = "http://www.w3.org/ns/org#"
FOAF = "http://xmlns.com/foaf/0.1/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SD = "http://www.w3.org/ns/sparql-service-description#"
SPDX = "http://spdx.org/rdf/terms#"
TL = ONTOLOGY_NS

PREFIXES: dict[str, str] = {
    "tl": TL, "rdf": RDF, "rdfs": RDFS, "xsd": XSD, "owl": OWL, "skos": SKOS, "dct": DCT,
    "prov": PROV, "schema": SCHEMA, "oa": OA, "org": ORG, "foaf": FOAF, "void": VOID, "dcat": DCAT,
}

# The prefixes an authoring file (data/*.ttl) starts with: `tieslod new` and the synthetic corpus write
# the same block, so generated files read like hand-written ones. Relative IRIs resolve against the base.
AUTHORING_PREFIXES = """@prefix tl:     <https://w3id.org/tieslod/ontology#> .
@prefix e:      <id/> .
@prefix t:      <id/tie/> .
@prefix c:      <id/claim/> .
@prefix r:      <id/review/> .
@prefix s:      <id/source/> .
@prefix rdfs:   <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:   <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:    <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <http://schema.org/> .
"""


# Any RDF term a quad may hold (pyoxigraph's stubs spell the union out at each use, never name it).
Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Subject: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Triple   # what a quad's subject may be


def value_of(term: Term) -> str:
    """The IRI, blank node id or lexical form of a term. A triple term (RDF 1.2) has none: tieslod's data
    never holds one, so meeting one is a bug and raises (as `.value` did: pyoxigraph's Triple has none)."""
    if isinstance(term, ox.Triple):
        raise TypeError(f"a triple term has no value: {term}")
    return term.value


def n(ns: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(ns + local)


TYPE = n(RDF, "type")
LABEL = n(RDFS, "label")
ALT_LABEL = n(SKOS, "altLabel")

# Classes whose instances are entities (people, organisations, events, places, pages).
ENTITY_CLASSES: tuple[str, ...] = tuple(SCHEMA + c for c in (
    "Person", "Organization", "PoliticalParty", "GovernmentOrganization", "NewsMediaOrganization",
    "Event", "Place", "Country", "City", "AdministrativeArea", "LandmarksOrHistoricalBuildings",
    "WebPage", "WebSite", "CreativeWork",
))


def prefix_block(extra: dict[str, str] | None = None) -> str:
    """SPARQL PREFIX lines for our namespaces (used by the bundled queries)."""
    items = {**PREFIXES, **(extra or {})}
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in items.items())


# Typed views of pyoxigraph's wide return types (its stubs name no Term, and serialize/query return
# unions), so that building/ and validation/ type-check under mypy --strict.
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def serialized(data: object, fmt: ox.RdfFormat, prefixes: dict[str, str] | None = None) -> bytes:
    """ox.serialize into bytes (it returns None only when given an output file)."""
    out = ox.serialize(data, format=fmt, prefixes=prefixes)  # type: ignore[arg-type]
    assert out is not None
    return out


def solutions(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ox.QuerySolutions:
    """A SELECT query's rows (the query text decides the kind; this says which)."""
    assert isinstance(result, ox.QuerySolutions)
    return result


def value_of(term: object) -> str:
    """The lexical value of a named node, blank node or literal (quoted triples have none)."""
    assert isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)), term
    return term.value
