"""The shapes' local constraints compiled into Python checks: the build's fast path for what pyshacl
would check per node.

pyshacl (the validator of record) costs ~100 µs per triple, and at a million triples that alone broke
the build's time budget. The shapes file uses a handful of SHACL core components on plain predicate
paths (sh:minCount, sh:maxCount, sh:datatype, sh:or of datatypes, sh:nodeKind, sh:in, sh:pattern,
sh:minLength); `compile_shapes` turns each node shape into a table once, and `check` evaluates the
tables over pyoxigraph quads in about a microsecond per triple. sh:class and sh:sparql look beyond a
node's own triples: they stay compiled to SPARQL in shards.py.

The semantics follow pyshacl 0.40 component by component, down to its quirks: one result per value
node (none for the count components), sh:message as the result message, ill-typed literals decided by
rdflib's own conversion (as pyshacl does), blank nodes failing sh:pattern and sh:minLength.
tests/test_compiled.py compares the two on a graph with a defect for every component used here, and
tests/test_shards.py compares the whole build with whole-graph pyshacl. Any other feature in a shape
(another component, a complex path, a nested shape, sh:deactivated, ...) makes `compile_shapes` raise
`Unsupported`, and the build then falls back to pyshacl for the local checks rather than guess.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import rdflib

from ..errors import UnsupportedShape as Unsupported
from ..vocab import Term, value_of
from .shacl import Violation, locate, short_term
from .shacl import rdflib_term as _rdflib

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
RDF_TYPE, SUBCLASS, LABEL = rdflib.RDF.type, rdflib.RDFS.subClassOf, rdflib.RDFS.label
XSD = rdflib.XSD
_NS = rdflib.Graph().namespace_manager          # the prefixes pyshacl's report shows terms with
_DESCRIPTIVE = {RDF_TYPE, LABEL, rdflib.RDFS.comment, SH.name, SH.description, SH.message, SH.severity}
_NODE_KEYS = _DESCRIPTIVE | {SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode,
                             SH.property, SH.sparql}
_PROP_KEYS = _DESCRIPTIVE | {SH.path, SH.minCount, SH.maxCount, SH.datatype, SH["or"], SH.nodeKind,
                             SH["in"], SH.pattern, SH.flags, SH.minLength, SH["class"]}
TYPE_IRI, STRING_IRI, LANG_IRI = str(RDF_TYPE), str(XSD.string), str(rdflib.RDF.langString)
LITERAL_IRI, DATATYPE_IRI = str(rdflib.RDFS.Literal), str(rdflib.RDFS.Datatype)
_KINDS = {SH.IRI: (ox.NamedNode,), SH.BlankNode: (ox.BlankNode,), SH.Literal: (ox.Literal,),
          SH.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode), SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
          SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal)}


@dataclass(frozen=True)
class PropertyCheck:
    path: str                      # predicate IRI
    shown: str                     # the path as the report shows it
    message: str
    severity: str
    min_count: int | None = None
    max_count: int | None = None
    datatype: str | None = None
    or_datatypes: tuple[str, ...] = ()
    kinds: tuple[type, ...] | None = None
    allowed: tuple[rdflib.term.Node, ...] | None = None     # sh:in
    patterns: tuple[re.Pattern[str], ...] = ()
    min_length: int | None = None


@dataclass(frozen=True)
class NodeCheck:
    label: str
    classes: frozenset[str]
    subjects_of: tuple[str, ...]
    objects_of: tuple[str, ...]
    nodes: tuple[str, ...]
    props: tuple[tuple[str, PropertyCheck], ...]     # (label the report names, check)


# ---------------------------------------------------------------- compiling

def _one(graph: rdflib.Graph, node: rdflib.term.Node, pred: rdflib.URIRef) -> rdflib.term.Node | None:
    values = list(graph.objects(node, pred))
    if len(values) > 1:
        raise Unsupported(f"several {pred} on {node}")
    return values[0] if values else None


def _int(graph: rdflib.Graph, node: rdflib.term.Node, pred: rdflib.URIRef) -> int | None:
    value = _one(graph, node, pred)
    return None if value is None else int(str(value))


def _or_datatypes(graph: rdflib.Graph, node: rdflib.term.Node) -> tuple[str, ...]:
    """sh:or whose members each say only sh:datatype: "any of these datatypes"."""
    head = _one(graph, node, SH["or"])
    if head is None:
        return ()
    out = []
    for member in rdflib.collection.Collection(graph, head):
        if set(graph.predicates(member)) != {SH.datatype}:
            raise Unsupported(f"sh:or member other than a bare sh:datatype: {member}")
        out.append(str(_one(graph, member, SH.datatype)))
    return tuple(out)


def _property(graph: rdflib.Graph, node: rdflib.term.Node) -> PropertyCheck:
    unknown = set(graph.predicates(node)) - _PROP_KEYS
    path = _one(graph, node, SH.path)
    if unknown or not isinstance(path, rdflib.URIRef):
        raise Unsupported(f"property shape {node}: path {path}, unsupported {sorted(map(str, unknown))}")
    in_list = _one(graph, node, SH["in"])
    kind = _one(graph, node, SH.nodeKind)
    flags = str(_one(graph, node, SH.flags) or "").lower()
    re_flags = (re.IGNORECASE if "i" in flags else 0) | (re.MULTILINE if "m" in flags else 0)
    severity = _one(graph, node, SH.severity)
    return PropertyCheck(
        str(path), short_term(path, _NS), str(_one(graph, node, SH.message) or ""),
        str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        _int(graph, node, SH.minCount), _int(graph, node, SH.maxCount),
        str(d) if (d := _one(graph, node, SH.datatype)) is not None else None, _or_datatypes(graph, node),
        _KINDS[rdflib.URIRef(str(kind))] if kind is not None else None,
        tuple(rdflib.collection.Collection(graph, in_list)) if in_list is not None else None,
        tuple(re.compile(str(p), re_flags) for p in graph.objects(node, SH.pattern)),
        _int(graph, node, SH.minLength))


def _node(graph: rdflib.Graph, node: rdflib.term.Node) -> NodeCheck:
    unknown = set(graph.predicates(node)) - _NODE_KEYS
    if unknown:
        raise Unsupported(f"node shape {node} uses {sorted(map(str, unknown))}")
    label = str(graph.value(node, LABEL) or node)
    props = []
    for prop in graph.objects(node, SH.property):
        if len(set(graph.subjects(SH.property, prop))) > 1:
            raise Unsupported(f"property shape {prop} shared by several node shapes")
        props.append((str(graph.value(prop, LABEL) or label), _property(graph, prop)))
    def strings(pred: rdflib.URIRef) -> tuple[str, ...]:
        return tuple(sorted(str(o) for o in graph.objects(node, pred)))
    return NodeCheck(label, frozenset(strings(SH.targetClass)), strings(SH.targetSubjectsOf),
                     strings(SH.targetObjectsOf), strings(SH.targetNode), tuple(props))


@dataclass(frozen=True)
class Split:
    """The node shapes compiled here, and those that are not, each with what stops it (a warning
    names it, and pyshacl checks that shape: shards.Coverage)."""

    checks: tuple[NodeCheck, ...]
    shapes: tuple[str, ...]                        # IRIs of the compiled node shapes, as `checks`
    uncovered: tuple[tuple[str, str], ...] = ()    # (node shape IRI, or EVERY, what is not compiled)


EVERY = "every shape"

# Cache: shapes text -> its split, as a build's cache had it: reading the shapes with rdflib took
# ~0.12 s of every rebuild, and of every worker process of a full build
_KNOWN: dict[str, Split] = {}


def remember(text: str, split: Split) -> None:
    _KNOWN[text] = split


def split(text: str) -> Split:
    """Every node shape compiled that can be, and the others with the reason."""
    if text not in _KNOWN:
        _KNOWN[text] = _split(text)
    return _KNOWN[text]


def compile_shapes(text: str) -> tuple[NodeCheck, ...]:
    """Every node shape of the shapes text as a NodeCheck; Unsupported if any feature is not compiled."""
    found = split(text)
    if found.uncovered:
        raise Unsupported("; ".join(f"{shape}: {why}" for shape, why in found.uncovered))
    return found.checks


def _split(text: str) -> Split:
    graph = rdflib.Graph()
    graph.parse(data=text, format="turtle")
    shapes = set(graph.subjects(RDF_TYPE, SH.NodeShape))
    implicit = {s for p in (SH.property, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf,
                            SH.targetNode, SH.sparql) for s in graph.subjects(p)}
    if implicit - shapes or set(graph.subjects(RDF_TYPE, SH.PropertyShape)) or \
            list(graph.subjects(SH.deactivated)) or set(graph.subjects(RDF_TYPE, rdflib.RDFS.Class)) & shapes:
        return Split((), (), ((EVERY, "shapes declared other than as sh:NodeShape with targets"),))
    checks, names, uncovered = [], [], []
    for node in sorted(shapes, key=str):
        try:
            checks.append(_node(graph, node))
            names.append(str(node))
        except Unsupported as exc:
            uncovered.append((str(node), str(exc)))
    return Split(tuple(checks), tuple(names), tuple(uncovered))


def supported(text: str) -> bool:
    return not split(text).uncovered


# ---------------------------------------------------------------- checking

@lru_cache(maxsize=1 << 16)
def _typed_ok(lexical: str, datatype: str, rule: str) -> bool:
    """pyshacl's sh:datatype test for a typed literal (not a plain string): right datatype, and a
    lexical form rdflib can convert to the Python type pyshacl expects."""
    if datatype != rule:
        return False
    literal = rdflib.Literal(lexical, datatype=rdflib.URIRef(datatype), normalize=False)
    if getattr(literal, "ill_typed", None) is True:
        return False
    expected = {str(XSD.integer): int, str(XSD.decimal): Decimal, str(XSD.float): float,
                str(XSD.boolean): bool, str(XSD.date): date, str(XSD.time): time,
                str(XSD.dateTime): datetime}.get(rule)
    return expected is None or isinstance(literal.value, expected)


def datatype_ok(value: Term, rule: str) -> bool:
    if not isinstance(value, ox.Literal):
        return False
    if rule == LITERAL_IRI:                  # pyshacl: every literal is an rdfs:Literal
        return True
    if rule == DATATYPE_IRI:                 # as pyshacl sees N-Triples: a plain string has no datatype
        return not value.language and value.datatype.value != STRING_IRI
    if value.language:                       # rdf:langString
        return rule == LANG_IRI
    datatype = value.datatype.value
    if datatype == STRING_IRI:
        return rule == STRING_IRI
    return _typed_ok(value.value, datatype, rule)


def _text(value: Term) -> str | None:
    """What sh:pattern and sh:minLength read; None for a blank node (which always fails them)."""
    return None if isinstance(value, ox.BlankNode) else value_of(value)


def _value_failures(check: PropertyCheck, values: list[Term]) -> Iterable[Term | None]:
    """Yield the value (None: no value) of every result one property check produces, component by
    component as pyshacl does: a value failing two components is reported twice."""
    if check.min_count is not None and len(values) < check.min_count:
        yield None
    if check.max_count is not None and len(values) > check.max_count:
        yield None
    for v in values:
        text = _text(v)
        if check.datatype is not None and not datatype_ok(v, check.datatype):
            yield v
        if check.or_datatypes and not any(datatype_ok(v, d) for d in check.or_datatypes):
            yield v
        if check.kinds is not None and not isinstance(v, check.kinds):
            yield v
        if check.allowed is not None and _rdflib(v) not in check.allowed:
            yield v
        for pattern in check.patterns:
            if text is None or not pattern.search(text):
                yield v
        if check.min_length and (text is None or len(text) < check.min_length):
            yield v


class _Index:
    """subject -> predicate -> distinct objects (a union graph: a triple counts once), plus types."""

    def __init__(self, quads: Iterable[ox.Quad], wanted: set[str], objects_of: set[str]) -> None:
        self.props: dict[Term, dict[str, dict[Term, None]]] = {}
        self.targets_by_object: dict[str, set[Term]] = {p: set() for p in objects_of}
        for q in quads:
            pred = q.predicate.value
            if pred in wanted:
                self.props.setdefault(q.subject, {}).setdefault(pred, {})[q.object] = None
            if pred in objects_of:
                self.targets_by_object[pred].add(q.object)

    def values(self, node: Term, pred: str) -> list[Term]:
        return list(self.props.get(node, {}).get(pred, ()))


def _superclasses(subclass: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = {}
    for sub, sup in subclass:
        parents.setdefault(sub, set()).add(sup)
    closure: dict[str, set[str]] = {}
    for start in parents:
        seen, todo = {start}, [start]
        while todo:
            for sup in parents.get(todo.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    todo.append(sup)
        closure[start] = seen
    return closure


def _focus_nodes(shapes: tuple[NodeCheck, ...], index: _Index,
                 supers: dict[str, set[str]]) -> list[set[Term]]:
    """Each shape's targets: instances of its classes or their subclasses, subjects/objects of its
    predicates, its explicit nodes. One pass over the subjects, whatever the number of shapes."""
    out: list[set[Term]] = [set() for _ in shapes]
    by_type: dict[str, list[int]] = {}
    for node, props in index.props.items():
        for t in props.get(TYPE_IRI, ()):
            cls = value_of(t)
            if cls not in by_type:
                classes = supers.get(cls, {cls})
                by_type[cls] = [i for i, s in enumerate(shapes) if s.classes & classes]
            for i in by_type[cls]:
                out[i].add(node)
        for i, shape in enumerate(shapes):
            if any(pred in props for pred in shape.subjects_of):
                out[i].add(node)
    for i, shape in enumerate(shapes):
        for pred in shape.objects_of:
            out[i].update(index.targets_by_object[pred])
        out[i].update(ox.NamedNode(n) for n in shape.nodes)
    return out


def check(shapes: tuple[NodeCheck, ...], quads: Iterable[ox.Quad], subclass: Iterable[tuple[str, str]],
          origins: Mapping[str, Path | str]) -> list[Violation]:
    """Every result pyshacl would report for these shapes' compiled constraints on the union of quads."""
    wanted = {TYPE_IRI} | {c.path for s in shapes for _, c in s.props} | {p for s in shapes for p in s.subjects_of}
    index = _Index(quads, wanted, {p for s in shapes for p in s.objects_of})
    out = []
    for shape, focus_nodes in zip(shapes, _focus_nodes(shapes, index, _superclasses(subclass)), strict=True):
        for focus in focus_nodes:
            for label, prop in shape.props:
                for value in _value_failures(prop, index.values(focus, prop.path)):
                    file, line = locate(value_of(focus), origins)
                    shown = "" if value is None else short_term(_rdflib(value), _NS)
                    out.append(Violation(label, value_of(focus), prop.message, prop.shown, shown,
                                         prop.severity, file, line))
    return out
