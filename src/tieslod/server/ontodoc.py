"""HTML documentation of the ontology, generated from the ontology graph of the release (our own
template; pyLODE is not a dependency): every class, tie category, property and concept."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import pyoxigraph as ox

from ..config import ONTOLOGY_IRI, ONTOLOGY_NS, Settings
from ..querying.resource import Description
from ..vocab import DCT, OWL, RDFS, SKOS, TL, TYPE, Term, prefix_block, value_of

HIDDEN = {RDFS + "label", SKOS + "definition", RDFS + "isDefinedBy"}
NAMES = {TYPE.value: "type", RDFS + "subClassOf": "subclass of", RDFS + "domain": "domain",
         RDFS + "range": "range", SKOS + "inScheme": "in scheme", SKOS + "prefLabel": "preferred label",
         SKOS + "closeMatch": "close match", SKOS + "exactMatch": "exact match",
         OWL + "equivalentProperty": "equivalent property", RDFS + "subPropertyOf": "subproperty of",
         RDFS + "comment": "comment", TL + "subjectRole": "subject stands for", TL + "objectRole": "object stands for"}
SECTIONS = (("Core classes", "class"), ("Tie categories", "tie"), ("Object properties", "object"),
            ("Datatype properties", "datatype"), ("Other properties", "property"), ("Concepts", "concept"),
            ("Concept schemes", "scheme"))


def ontology_query(settings: Settings) -> str:
    graph = str(ox.NamedNode(settings.graph_iri("ontology")))
    return prefix_block() + f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"


def _section(desc: Description, term: str) -> str:
    types = set(desc.types(term))
    if OWL + "Class" in types:
        supers = {value_of(s) for s in desc.all(term, RDFS + "subClassOf")}
        return "tie" if TL + "Tie" in supers else "class"
    if OWL + "ObjectProperty" in types:
        return "object"
    if OWL + "DatatypeProperty" in types:
        return "datatype"
    if SKOS + "ConceptScheme" in types:
        return "scheme"
    if types & {TL + "Stance", TL + "Status", TL + "Verdict", TL + "Modality"}:
        return "concept"
    return "property"


def _value(term: Term, href: Callable[[str], str]) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        label = term.value.replace(ONTOLOGY_NS, "tl:")
        for ns, prefix in (("http://schema.org/", "schema:"), (OWL, "owl:"), (RDFS, "rdfs:"), (SKOS, "skos:"),
                           ("http://www.w3.org/2001/XMLSchema#", "xsd:"), ("http://www.w3.org/ns/prov#", "prov:")):
            label = label.replace(ns, prefix)
        return {"href": href(term.value), "label": label}
    return {"href": "", "label": value_of(term)}


def _term(desc: Description, term: str, href: Callable[[str], str]) -> dict[str, object]:
    rows = []
    for pred in sorted(desc.props.get(term, {})):
        if pred not in HIDDEN:
            rows.append((NAMES.get(pred, pred.rsplit("/", 1)[-1].rsplit("#", 1)[-1]),
                         [_value(v, href) for v in desc.all(term, pred)]))
    return {"local": term[len(ONTOLOGY_NS):], "label": desc.label(term),
            "definition": desc.text(term, SKOS + "definition"), "rows": rows}


def sections(desc: Description, href: Callable[[str], str]) -> list[dict[str, object]]:
    terms = [s for s in desc.props if s.startswith(ONTOLOGY_NS) and desc.all(s, RDFS + "isDefinedBy")]
    grouped: dict[str, list[dict[str, object]]] = {}
    for term in sorted(terms, key=str.lower):
        grouped.setdefault(_section(desc, term), []).append(_term(desc, term, href))
    return [{"title": title, "terms": grouped[key]} for title, key in SECTIONS if key in grouped]


class Summary(TypedDict):
    """The ontology's own description, as ontology.html shows it."""

    title: str
    iri: str
    namespace: str
    version_info: str
    license: str
    description: str
    comment: str


def summary(desc: Description) -> Summary:
    iri = ONTOLOGY_IRI
    return {"title": desc.label(iri), "iri": iri, "namespace": ONTOLOGY_NS,
            "version_info": desc.text(iri, OWL + "versionInfo"), "license": desc.text(iri, DCT + "license"),
            "description": desc.text(iri, DCT + "description"), "comment": desc.text(iri, RDFS + "comment")}
