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


def value_of(term: Term | ox.DefaultGraph) -> str:
    """The IRI, blank node id or lexical form of a term (or of a quad's graph name). A triple term (RDF 1.2)
    and the default graph have none: where tieslod asks, its data never holds one, so meeting one is a bug
    and raises (as `.value` did: neither pyoxigraph's Triple nor its DefaultGraph has one)."""
    if isinstance(term, (ox.Triple, ox.DefaultGraph)):
        raise TypeError(f"{type(term).__name__} has no value: {term}")
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


def solutions(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> ox.QuerySolutions:
    """A SELECT query's rows: pyoxigraph's stub types every query's result as the union of the three kinds;
    the query text decides which it is, and this says so (a wrong kind is a bug and raises)."""
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError(f"expected the rows of a SELECT query, got {type(result).__name__}")
    return result
