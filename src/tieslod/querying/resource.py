"""The machine description of one resource under the base: one SPARQL CONSTRUCT gives its own
triples, every tie and claim it takes part in, their evidence, reviews and sources, and the labels
of everything it links to, so that one request is enough to understand it.

The same query serves entities, ties, claims, reviews and sources; the result is parsed once into a
`Description` that both the RDF serializers and the HTML templates read."""
from __future__ import annotations

import re
from collections import defaultdict

import pyoxigraph as ox

from ..building.dumps import load_context, rdf_bytes
from ..config import Settings
from ..formats import Format
from ..model import jsonld
from ..vocab import (
    DCT,
    LABEL,
    OA,
    OWL,
    PREFIXES,
    PROV,
    RDFS,
    SCHEMA,
    SKOS,
    TL,
    TYPE,
    XSD,
    Subject,
    Term,
    prefix_block,
    value_of,
)

# Keys are lower-case a-z0-9- by the authoring rules; we also allow dots and capitals so that a
# curator's odd key still resolves, but nothing that could break out of an IRI in SPARQL text.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9][A-Za-z0-9._~-]*)*$")

TIE_ROLES = "tl:subject|tl:object|tl:participant|tl:onBehalfOf|tl:event|schema:location"
# a claim names an entity as its speaker, outlet, topic or source, or (its own qualifiers) as a party
CLAIM_ROLES = ("tl:about|tl:speaker|tl:reportedBy|tl:firstReportedIn|prov:wasDerivedFrom|tl:tie"
               "|tl:participant|tl:onBehalfOf|tl:event|schema:location")
LABEL_PREDICATES = (LABEL.value, SKOS + "prefLabel")


def safe_local(path: str) -> bool:
    """Whether a path below the base may be turned into an IRI and put into a query."""
    return bool(_SAFE_PATH.match(path)) and ".." not in path


def _related(e: str) -> str:
    """The nodes iri's document is about: itself, its ties, claims, reviews, replacements."""
    return f"""{{ SELECT DISTINCT ?c WHERE {{
          {{ BIND({e} AS ?c) }}
          UNION {{ ?c {TIE_ROLES} {e} }}
          UNION {{ ?t {TIE_ROLES} {e} . ?c tl:tie ?t }}
          UNION {{ ?c {CLAIM_ROLES} {e} }}
          UNION {{ ?c schema:publisher|schema:itemReviewed|schema:author {e} }}
          UNION {{ ?t {TIE_ROLES} {e} . ?cl tl:tie ?t . ?c schema:itemReviewed ?cl }}
          UNION {{ ?cl {CLAIM_ROLES} {e} . ?c schema:itemReviewed ?cl }}
          UNION {{ ?cl {CLAIM_ROLES} {e} . ?cl tl:tie ?c }}
          UNION {{ {e} tl:tie|tl:about|schema:itemReviewed ?c }}
          UNION {{ ?c dct:isReplacedBy|owl:sameAs {e} }}
      }} }}"""


def _described(e: str, nodes: str) -> str:
    return f"""
CONSTRUCT {{ ?n ?p ?o . ?o ?lp ?l . }}
WHERE {{
  {nodes}
  ?n ?p ?o .
  FILTER (?p != schema:text || ?n = {e})
  OPTIONAL {{ ?o ?lp ?l . FILTER (?lp IN (rdfs:label, skos:prefLabel)) }}
}}"""


def describe_query(iri: str) -> str:
    """The CONSTRUCT for iri (which must come from safe_local paths or the data itself)."""
    e = str(ox.NamedNode(iri))   # validates and brackets the IRI
    return prefix_block() + _described(e, f"""{{ SELECT DISTINCT ?n WHERE {{
      {_related(e)}
      # zero steps (the node itself), its evidence, their selectors, a claim's amount node
      ?c (tl:evidence|tl:evidence/oa:hasSelector|schema:amount)? ?n .
  }} }}""")


# describe_query in two steps, for remote engines: Virtuoso 7.2 answers the one-step form with the whole
# dataset for some IRIs, depending on what it was asked before (docs/notes/issue-15.md); these two were
# right for every IRI of the release there.
def related_nodes_query(iri: str) -> str:
    """Step one: SELECT ?n, the nodes iri's document shows (the node-set of describe_query)."""
    e = str(ox.NamedNode(iri))
    related = _related(e)
    return prefix_block() + f"""SELECT DISTINCT ?n WHERE {{
      {{ {related} BIND(?c AS ?n) }}
      UNION {{ {related} ?c tl:evidence|schema:amount ?n }}
      UNION {{ {related} ?c tl:evidence/oa:hasSelector ?n }}
}}"""


def describe_nodes_query(iri: str, nodes: list[str]) -> str:
    """Step two: the CONSTRUCT of describe_query over the nodes step one found."""
    e = str(ox.NamedNode(iri))
    values = " ".join(str(ox.NamedNode(n)) for n in nodes)
    return prefix_block() + _described(e, f"VALUES ?n {{ {values} }}")


_OFFSETS = (OA + "start", OA + "end")
_NONNEG = ox.NamedNode(XSD + "nonNegativeInteger")


def _retype(t: ox.Triple) -> ox.Triple:
    """Oxigraph's store keeps xsd:nonNegativeInteger as xsd:integer; give offsets back the datatype the
    build wrote (and the dumps and our JSON-LD context have), so a description agrees with the dumps."""
    if t.predicate.value in _OFFSETS and isinstance(t.object, ox.Literal) and t.object.datatype.value == XSD + "integer":
        return ox.Triple(t.subject, t.predicate, ox.Literal(t.object.value, datatype=_NONNEG))
    return t


class Description:
    """The triples of one CONSTRUCT, indexed by subject and predicate."""

    def __init__(self, iri: str, triples: list[ox.Triple]) -> None:
        self.iri = iri
        self.triples = triples
        self.props: dict[str, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        self.incoming: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for t in triples:
            self.props[value_of(t.subject)][t.predicate.value].append(t.object)
            if isinstance(t.object, ox.NamedNode):
                self.incoming[t.object.value][t.predicate.value].append(value_of(t.subject))

    @classmethod
    def from_ntriples(cls, iri: str, body: bytes) -> Description:
        triples = sorted((_retype(t) for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)),
                         key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        return cls(iri, triples)

    # lookups --------------------------------------------------------------------------------
    def all(self, node: str, pred: str) -> list[Term]:
        return list(self.props.get(node, {}).get(pred, []))

    def one(self, node: str, pred: str) -> Term | None:
        values = self.all(node, pred)
        return values[0] if values else None

    def text(self, node: str, pred: str) -> str:
        found = self.one(node, pred)
        return value_of(found) if found is not None else ""

    def subjects(self, pred: str, obj: str) -> list[str]:
        return sorted(set(self.incoming.get(obj, {}).get(pred, [])))

    def types(self, node: str) -> list[str]:
        return sorted(value_of(t) for t in self.all(node, TYPE.value))

    def label(self, node: str) -> str:
        """The English or plain label, the preferred label for concepts (a stance reads "denied")."""
        for pred in (SKOS + "prefLabel", LABEL.value):
            values = self.all(node, pred)
            for value in values:
                if isinstance(value, ox.Literal) and value.language in (None, "en"):
                    return value.value
        return node.rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    # what the resource is -------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """Described by the data itself (not only named by lifecycle records)."""
        own = self.props.get(self.iri, {})
        return TYPE.value in own or LABEL.value in own

    @property
    def successor(self) -> str | None:
        found = self.one(self.iri, DCT + "isReplacedBy") or self.one(self.iri, OWL + "sameAs")
        return value_of(found) if found is not None else None

    @property
    def withdrawn(self) -> bool:
        flag = self.one(self.iri, OWL + "deprecated")
        return flag is not None and value_of(flag) in ("true", "1") and self.successor is None

    @property
    def known(self) -> bool:
        return self.iri in self.props

    def quads(self) -> list[ox.Quad]:
        return [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in self.triples]


def jsonld_default_graph(desc: Description, settings: Settings) -> bytes:
    """Compact JSON-LD whose node objects sit in the top-level @graph, i.e. the default graph, so that
    rdflib's Graph().parse(uri) sees them (dumps.jsonld_bytes wraps every graph in a graph object,
    which for the default graph would name it after the document)."""
    compactor = jsonld.Compactor(load_context(settings)["@context"])
    nodes: list[bytes] = []
    by_subject: dict[Subject, list[tuple[str, Term]]] = defaultdict(list)
    for t in desc.triples:
        by_subject[t.subject].append((t.predicate.value, t.object))
    for subject in sorted(by_subject, key=str):
        nodes.append(jsonld.node_object(compactor, subject, by_subject[subject]).encode("utf-8"))
    return jsonld.header(compactor.context) + jsonld.SEPARATOR.join(nodes) + jsonld.FOOTER


def serialize(desc: Description, fmt: Format, settings: Settings) -> bytes:
    """Turtle, N-Triples, RDF/XML with our prefixes (dumps.py); JSON-LD compacted with our context."""
    if fmt.name == "jsonld":
        return jsonld_default_graph(desc, settings)
    return rdf_bytes(desc.quads(), fmt, settings)


# The vocabularies the page code reads, re-exported so templates' helpers need one import.
__all__ = [
    "LABEL_PREDICATES",
    "OA",
    "PREFIXES",
    "PROV",
    "RDFS",
    "SCHEMA",
    "TL",
    "Description",
    "describe_query",
    "safe_local",
    "serialize",
]
