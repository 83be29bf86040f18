"""A streaming writer of compact JSON-LD for our own context (ontology/context.jsonld).

rdflib's compacting serializer costs about a minute per million triples and holds the whole dataset;
pyoxigraph writes expanded JSON-LD only. Our data is plain RDF 1.1 with IRIs everywhere, so compaction
is mechanical: one node object per subject, terms from the context where their coercion fits the value,
compact IRIs or full IRIs otherwise, and one `{"@id": graph, "@graph": [...]}` object per named graph.
Each graph object is written on its own, so a build can cache it per article and concatenate.
Every value is written in a form whose expansion is unambiguous (no native JSON numbers or booleans),
and tests parse the result back with PyLD and rdflib and compare it with the N-Quads dump.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyoxigraph as ox

from ..vocab import RDF, XSD, Term, value_of

_ID = "@id"
_STRING = XSD + "string"
_TYPE_IRI = RDF + "type"


class Compactor:
    """Compaction rules derived once from a context: predicate -> candidate terms, prefix table."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.prefixes: list[tuple[str, str]] = []
        self.terms: dict[str, list[tuple[str, str | None]]] = {}
        for term, definition in context.items():
            if term.startswith("@"):
                continue
            if isinstance(definition, str) and definition.endswith(("#", "/")) and ":" in definition:
                self.prefixes.append((term, definition))
        self.prefixes.sort(key=lambda p: -len(p[1]))   # longest namespace wins
        self.compacted: dict[str, str] = {}              # compact_iri's answers (most IRIs recur)
        for term, definition in context.items():
            if term.startswith("@") or any(term == p for p, _ in self.prefixes):
                continue
            iri, coerce = (definition, None) if isinstance(definition, str) else \
                (definition["@id"], definition.get("@type"))
            full = self.expand(iri)
            self.terms.setdefault(full, []).append((term, self.expand(coerce) if coerce not in (None, _ID) else coerce))

    def expand(self, value: str) -> str:
        prefix, _, local = value.partition(":")
        for term, ns in self.prefixes:
            if term == prefix and not local.startswith("//"):
                return ns + local
        return value

    def compact_iri(self, iri: str) -> str:
        """prefix:local when a declared namespace fits, else the full IRI."""
        found = self.compacted.get(iri)
        if found is None:
            found = self.compacted[iri] = self._compact(iri)
        return found

    def _compact(self, iri: str) -> str:
        for term, ns in self.prefixes:
            if iri.startswith(ns) and len(iri) > len(ns):
                local = iri[len(ns):]
                if not local.startswith("//") and ":" not in local:
                    return f"{term}:{local}"
        return iri

    def key_and_value(self, predicate: str, obj: Term) -> tuple[str, object]:
        """The key a (predicate, object) pair is written under, and the JSON value."""
        is_iri = isinstance(obj, (ox.NamedNode, ox.BlankNode))
        for term, coerce in self.terms.get(predicate, ()):
            if coerce == _ID and is_iri:   # @id-coerced values expand compact IRIs: "tl:Asserts"
                return term, self.compact_iri(_node_id(obj)) if isinstance(obj, ox.NamedNode) else _node_id(obj)
            if coerce not in (None, _ID) and isinstance(obj, ox.Literal) and obj.datatype.value == coerce \
                    and obj.language is None:
                return term, obj.value
            if coerce is None:
                return term, self.expanded_value(obj)
        return self.compact_iri(predicate), self.expanded_value(obj)

    def expanded_value(self, obj: Term) -> object:
        if isinstance(obj, ox.NamedNode):
            return {_ID: self.compact_iri(obj.value)}
        if isinstance(obj, ox.BlankNode):
            return {_ID: _node_id(obj)}
        assert isinstance(obj, ox.Literal)
        if obj.language:
            return {"@value": obj.value, "@language": obj.language}
        if obj.datatype.value == _STRING:
            return obj.value
        return {"@value": obj.value, "@type": obj.datatype.value}


def _node_id(term: Term) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else value_of(term)


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def node_object(compactor: Compactor, subject: Term, pairs: Sequence[tuple[str, Term]]) -> str:
    """One node object, keys sorted, values in a stable order, on one line."""
    types: list[str] = []
    props: dict[str, list[object]] = {}
    for predicate, obj in pairs:
        if predicate == _TYPE_IRI and isinstance(obj, ox.NamedNode):
            types.append(compactor.compact_iri(obj.value))
            continue
        key, value = compactor.key_and_value(predicate, obj)
        props.setdefault(key, []).append(value)
    out: dict[str, object] = {_ID: _node_id(subject)}
    if types:
        out["@type"] = sorted(types) if len(types) > 1 else types[0]
    for key, values in props.items():
        out[key] = sorted(values, key=_dump) if len(values) > 1 else values[0]
    return _dump(out)


def graph_object(compactor: Compactor, graph: str, quads: Iterable[ox.Quad]) -> bytes:
    """`{"@id": graph, "@graph": [node objects]}` for quads already sorted by subject."""
    lines: list[str] = []
    subject: Term | None = None
    pairs: list[tuple[str, Term]] = []
    for q in quads:
        if q.subject != subject:
            if subject is not None:
                lines.append(node_object(compactor, subject, pairs))
            subject, pairs = q.subject, []
        pairs.append((q.predicate.value, q.object))
    if subject is not None:
        lines.append(node_object(compactor, subject, pairs))
    body = ",\n    ".join(lines)
    return f'  {{"@id": {_dump(graph)}, "@graph": [\n    {body}\n  ]}}'.encode()


def header(context: dict[str, Any]) -> bytes:
    return ('{"@context": ' + _dump(context) + ',\n"@graph": [\n').encode("utf-8")


SEPARATOR = b",\n"
FOOTER = b"\n]}\n"


def document(context: dict[str, Any], graphs: Iterable[bytes]) -> bytes:
    """A whole JSON-LD document from graph objects in order."""
    return header(context) + SEPARATOR.join(graphs) + FOOTER
