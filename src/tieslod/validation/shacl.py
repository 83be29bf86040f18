"""Validate a Dataset: SHACL (pyshacl, the validator of record) plus the checks SHACL cannot make:
every evidence offset points at its quote in the source text."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from ..config import Settings
from ..model.graph import Dataset
from ..model.sources import line_of
from ..vocab import OA, SCHEMA, Term, value_of

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class Violation:
    shape: str
    focus: str
    message: str
    path: str = ""
    value: str = ""
    severity: str = "Violation"
    file: str = ""
    line: int | None = None


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    checked_quads: int = 0

    @property
    def conforms(self) -> bool:
        return not self.violations

    def as_json(self) -> str:
        return json.dumps({"conforms": self.conforms, "checked_quads": self.checked_quads,
                           "violations": [asdict(v) for v in self.violations]}, indent=2, ensure_ascii=False)

    def as_text(self) -> str:
        if self.conforms:
            return f"Conforms: {self.checked_quads} quads checked, no violations."
        lines = [f"Does not conform: {len(self.violations)} violation(s) in {self.checked_quads} quads."]
        for v in self.violations:
            where = f"{v.file}:{v.line}" if v.line else (v.file or "(generated)")
            lines.append(f"- {where}\n  shape: {v.shape}\n  focus: {v.focus}"
                         + (f"\n  path:  {v.path}" if v.path else "")
                         + (f"\n  value: {v.value}" if v.value else "")
                         + f"\n  {v.message}")
        return "\n".join(lines)


def to_rdflib(quads: list[ox.Quad]) -> rdflib.Graph:
    """The union graph as rdflib sees it (N-Triples is the cheapest hand-over)."""
    graph = rdflib.Graph()
    data = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), format=ox.RdfFormat.N_TRIPLES)
    graph.parse(data=data, format="nt")
    return graph


def rdflib_term(term: Term) -> rdflib.term.Node:
    """One Oxigraph term as rdflib sees it (lexical forms kept as they are: no normalisation)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Triple):   # RDF 1.2 triple terms: tieslod's data holds none (as in vocab.value_of)
        raise TypeError(f"a triple term has no rdflib form here: {term}")
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=False)


def load_shapes(settings: Settings) -> rdflib.Graph:
    shapes = rdflib.Graph()
    for path in sorted(settings.shapes_dir.glob("*.ttl")):
        shapes.parse(path, format="turtle")
    return shapes


def short_term(term: object, prefixes: rdflib.namespace.NamespaceManager) -> str:
    if isinstance(term, rdflib.URIRef):
        try:
            return term.n3(prefixes)
        except Exception:  # noqa: BLE001 - a term with no prefix prints in full
            return str(term)
    return "" if term is None else str(term)


def locate(focus: str, origins: Mapping[str, Path | str]) -> tuple[str, int | None]:
    """(file, line) where focus is described; origins may hold plain strings (a Path per node of a
    1M-quad build cost ~0.2 CPU-s for the few a report names)."""
    node = focus.split("#", 1)[0]
    path = origins.get(node) or origins.get(focus)
    if path is None:
        return "", None
    local = node.rstrip("/").rsplit("/", 1)[-1]
    return str(path), line_of(Path(path), local)


def shacl_report(graph: rdflib.Graph, shapes: rdflib.Graph, origins: Mapping[str, Path | str]) -> list[Violation]:
    # imported here: pyshacl costs ~0.35 s to import, and a build whose shapes all compile (compiled.py)
    # never calls it; the validator of record is still this function
    from pyshacl import validate as shacl_validate

    conforms, results, _ = shacl_validate(graph, shacl_graph=shapes, allow_warnings=True)
    if conforms:
        return []
    out = []
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        def get(p: rdflib.URIRef, result: rdflib.term.Node = result) -> rdflib.term.Node | None:
            found: rdflib.term.Node | None = results.value(result, p)
            return found
        shape = get(SH.sourceShape)
        label = shapes.value(shape, rdflib.RDFS.label) if isinstance(shape, rdflib.URIRef) else None
        if label is None:  # a property shape: name the node shape that holds it
            parent = shapes.value(None, SH.property, shape)
            label = shapes.value(parent, rdflib.RDFS.label) if parent is not None else shape
        focus = str(get(SH.focusNode))
        file, line = locate(focus, origins)
        out.append(Violation(str(label), focus, str(get(SH.resultMessage) or ""),
                             short_term(get(SH.resultPath), graph.namespace_manager),
                             short_term(get(SH.value), graph.namespace_manager),
                             str(get(SH.resultSeverity) or "").rsplit("#", 1)[-1], file, line))
    return sorted(out, key=lambda v: (v.file, v.line or 0, v.focus, v.message))


def offset_report(dataset: Dataset) -> list[Violation]:
    """Every text-position selector must point at its own quote in its source's text."""
    texts: dict[str, str] = {}
    props: dict[str, dict[str, str]] = {}
    for q in dataset.quads():
        if q.predicate.value == SCHEMA + "text":
            texts[value_of(q.subject)] = value_of(q.object)
        elif q.predicate.value in (OA + "exact", OA + "start", OA + "end", OA + "hasSource"):
            props.setdefault(value_of(q.subject), {})[q.predicate.value] = value_of(q.object)
    out = []
    for node, values in props.items():
        if OA + "start" not in values:
            continue
        base, index = node.rsplit("#position-", 1)
        quote = props.get(f"{base}#quote-{index}", {}).get(OA + "exact")
        source = props.get(f"{base}#evidence-{index}", {}).get(OA + "hasSource")
        text = texts.get(source or "")
        start, end = int(values[OA + "start"]), int(values[OA + "end"])
        if text is None or quote is None or text[start:end] != quote:
            file, line = locate(base, dataset.origins)
            out.append(Violation("quote offsets", node, f"offsets {start}-{end} do not point at the quote "
                                 f"{quote!r} in {source}", file=file, line=line))
    return out


def validate(dataset: Dataset, settings: Settings) -> Report:
    quads = dataset.quads()
    graph = to_rdflib(quads)
    violations = shacl_report(graph, load_shapes(settings), dataset.origins) + offset_report(dataset)
    return Report(violations, len(quads))
