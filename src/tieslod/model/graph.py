"""Turn parsed inputs into the published dataset: one named graph per article, plus entities,
lifecycle and ontology graphs. Adds what curators never write by hand: Web Annotation evidence
with computed offsets, prov:wasDerivedFrom, the source text and its digest, tie and claim labels."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..config import Settings
from ..errors import InputError, QuoteError
from ..vocab import LABEL, OA, PROV, SCHEMA, TL, TYPE, XSD, Subject, Term, n, value_of
from . import grounding
from .sources import Article, Inputs, TurtleFile, line_of, sha256_bytes

CONTEXT_CHARS = 32   # length of oa:prefix / oa:suffix


@dataclass
class Part:
    """One named graph of the dataset and where it came from."""

    key: str
    graph: ox.NamedNode
    quads: list[ox.Quad]
    origin: Path
    digest: str


@dataclass
class Dataset:
    base_uri: str
    parts: dict[str, Part] = field(default_factory=dict)
    origins: dict[str, Path] = field(default_factory=dict)   # node IRI -> file that describes it

    def quads(self) -> list[ox.Quad]:
        return [q for key in sorted(self.parts) for q in self.parts[key].quads]

    def __len__(self) -> int:
        return sum(len(p.quads) for p in self.parts.values())


def sort_key(q: ox.Quad) -> tuple[str, str, str]:
    return (str(q.subject), str(q.predicate), str(q.object))


def _in_graph(quads: tuple[ox.Quad, ...] | list[ox.Quad], graph: ox.NamedNode) -> list[ox.Quad]:
    return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads]


def anchor(text: str, quote: str) -> tuple[int, int]:
    """(start, end) of the one occurrence of quote in text, in code points; ValueError otherwise."""
    start = text.find(quote)
    if not quote or start < 0:
        raise ValueError("not found")
    if text.find(quote, start + 1) >= 0:
        raise ValueError(f"occurs {text.count(quote)} times; lengthen it so that it is unique")
    return start, start + len(quote)


# terms made once: a NamedNode costs ~1 µs to check, and the evidence of 1M quads makes ~500k of them
_EV = {name: n(ns, name) for ns, name in ((TL, "evidence"), (OA, "SpecificResource"), (OA, "hasSource"),
                                          (OA, "hasSelector"), (OA, "TextQuoteSelector"), (OA, "exact"),
                                          (OA, "prefix"), (OA, "suffix"), (OA, "TextPositionSelector"),
                                          (OA, "start"), (OA, "end"), (XSD, "nonNegativeInteger"))}
SOURCE_FILE = n(TL, "sourceFile")


def _evidence(node: Subject, index: int, quote: str, article: Article,
              source: ox.NamedNode, graph: ox.NamedNode) -> list[ox.Quad]:
    try:
        start, end = anchor(article.text, quote)
    except ValueError as exc:
        local = value_of(node).rsplit("/", 1)[-1]
        raise QuoteError(f"quote of {value_of(node)} {exc} in {article.text_path.name}: {quote!r}",
                         article.ttl.path, line_of(article.ttl.path, local)) from exc
    base = value_of(node)
    ev, qs, ps = (ox.NamedNode(f"{base}#{kind}-{index}") for kind in ("evidence", "quote", "position"))
    lit, t = ox.Literal, _EV
    nonneg = t["nonNegativeInteger"]
    triples: list[tuple[Subject, ox.NamedNode, Term]] = [
        (node, t["evidence"], ev),
        (ev, TYPE, t["SpecificResource"]), (ev, t["hasSource"], source),
        (ev, t["hasSelector"], qs), (ev, t["hasSelector"], ps),
        (qs, TYPE, t["TextQuoteSelector"]), (qs, t["exact"], lit(quote)),
        (qs, t["prefix"], lit(article.text[max(0, start - CONTEXT_CHARS):start])),
        (qs, t["suffix"], lit(article.text[end:end + CONTEXT_CHARS])),
        (ps, TYPE, t["TextPositionSelector"]),
        (ps, t["start"], lit(str(start), datatype=nonneg)),
        (ps, t["end"], lit(str(end), datatype=nonneg)),
    ]
    return [ox.Quad(s, p, o, graph) for s, p, o in triples]


def _source_node(article: Article) -> ox.NamedNode:
    found = [q.subject for q in article.ttl.quads
             if q.predicate == SOURCE_FILE and isinstance(q.subject, ox.NamedNode)]
    if len(found) != 1:
        raise InputError(f"expected exactly one node with tl:sourceFile, found {len(found)}", article.ttl.path)
    return found[0]


def labels_of(quads: list[ox.Quad] | tuple[ox.Quad, ...]) -> dict[str, str]:
    return {value_of(q.subject): value_of(q.object) for q in quads if q.predicate == LABEL}


def _tie_labels(quads: list[ox.Quad], labels: dict[str, str], graph: ox.NamedNode) -> list[ox.Quad]:
    """A readable rdfs:label for every tie defined here that has none ("A – funding → B")."""
    by_subject: dict[Subject, dict[str, Term]] = {}
    for q in quads:
        by_subject.setdefault(q.subject, {})[q.predicate.value] = q.object
    out = []
    for node, props in by_subject.items():
        if LABEL.value in props or TL + "subject" not in props or TYPE.value not in props:
            continue
        category = labels.get(value_of(props[TYPE.value]), "tie")
        subj = labels.get(value_of(props[TL + "subject"]), value_of(props[TL + "subject"]))
        obj = props.get(TL + "object")
        text = f"{subj} – {category}" + (f" → {labels.get(value_of(obj), value_of(obj))}" if obj is not None else "")
        out.append(ox.Quad(node, LABEL, ox.Literal(text), graph))
    return out


def enrich_article(article: Article, labels: dict[str, str], settings: Settings) -> Part:
    graph = ox.NamedNode(settings.graph_iri(article.key))
    source = _source_node(article)
    quads = _in_graph(article.ttl.quads, graph)
    declared = [value_of(q.object) for q in article.ttl.quads if q.predicate == SOURCE_FILE]
    if declared != [article.text_path.name]:
        raise InputError(f"tl:sourceFile must be {article.text_path.name!r}, found {declared}", article.ttl.path)
    grounding.refuse_written_descriptions(article.ttl.path, article.ttl.quads)
    grounding.check(article)       # before anything is derived: exit 2 with file:line, claim, qualifier
    text_digest = sha256_bytes(article.text.encode("utf-8"))
    extra = [*grounding.descriptions(article, graph),
             ox.Quad(source, n(SCHEMA, "text"), ox.Literal(article.text), graph),
             ox.Quad(source, n(TL, "sha256"), ox.Literal(text_digest), graph)]
    quote_p, summary_p = n(TL, "quote"), n(TL, "summary")
    quotes: dict[Subject, list[str]] = {}
    for q in article.ttl.quads:
        if q.predicate == quote_p:
            quotes.setdefault(q.subject, []).append(value_of(q.object))
        elif q.predicate == summary_p:
            extra.append(ox.Quad(q.subject, LABEL, q.object, graph))
    for node in sorted(quotes, key=str):
        ordered = sorted(quotes[node], key=lambda s: (article.text.find(s), s))
        for index, quote in enumerate(ordered, 1):
            extra.extend(_evidence(node, index, quote, article, source, graph))
        extra.append(ox.Quad(node, n(PROV, "wasDerivedFrom"), source, graph))
    extra.extend(_tie_labels(quads, labels, graph))
    merged = sorted(set(quads) | set(extra), key=sort_key)
    digest = sha256_bytes((article.ttl.digest + text_digest + settings.base_uri).encode())
    return Part(article.key, graph, merged, article.ttl.path, digest)


def plain_part(key: str, files: list[TurtleFile], settings: Settings) -> Part:
    graph = ox.NamedNode(settings.graph_iri(key))
    if key == "entities":
        for f in files:
            grounding.refuse_written_descriptions(f.path, f.quads)
    quads = sorted({q for f in files for q in _in_graph(f.quads, graph)}, key=sort_key)
    digest = sha256_bytes("".join(f.digest for f in files).encode() + settings.base_uri.encode())
    origin = files[0].path if files else Path(key)
    return Part(key, graph, quads, origin, digest)


def assemble(inputs: Inputs, settings: Settings) -> Dataset:
    """Enrich every article and gather all named graphs into one Dataset."""
    dataset = Dataset(settings.base_uri)
    entity_quads = [q for f in inputs.entities for q in f.quads]
    onto_quads = list(inputs.ontology.quads) if inputs.ontology else []
    labels = {**labels_of(onto_quads), **labels_of(entity_quads)}
    for key, files in (("entities", inputs.entities), ("ontology", [inputs.ontology] if inputs.ontology else []),
                       ("lifecycle", [inputs.lifecycle] if inputs.lifecycle else [])):
        if files:
            dataset.parts[key] = plain_part(key, files, settings)
    for f in inputs.files():
        for q in f.quads:
            dataset.origins.setdefault(value_of(q.subject), f.path)
    for key, article in sorted(inputs.articles.items()):
        if key in dataset.parts:
            raise InputError(f"article key {key!r} clashes with a reserved graph name", article.ttl.path)
        dataset.parts[key] = enrich_article(article, labels, settings)
    return dataset
