"""Serialize a Dataset: every RDF format through Oxigraph, compacted JSON-LD through rdflib with our
own context, and the one-row-per-claim CSV. Output is deterministic: same input, same bytes."""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import rdflib

from .config import Settings
from .formats import CSV_DUMP, Format
from .graph import sort_key
from .vocab import LABEL, PREFIXES, SCHEMA, TL, TYPE

CSV_COLUMNS = ("claim", "subject", "subject_label", "relation", "relation_label", "object", "object_label",
               "stance", "speaker_label", "date", "source", "source_title", "quote", "details")


def load_context(settings: Settings) -> dict:
    return json.loads((settings.ontology_dir / "context.jsonld").read_text(encoding="utf-8"))


def dump_prefixes(settings: Settings) -> dict[str, str]:
    base = settings.base_uri
    return {**PREFIXES, "e": base + "id/", "tie": base + "id/tie/", "claim": base + "id/claim/",
            "source": base + "id/source/", "review": base + "id/review/"}


def triples_of(quads: list[ox.Quad]) -> list[ox.Triple]:
    """The union graph: each triple once, in a stable order."""
    seen = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    return sorted(seen, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def ordered_quads(quads: list[ox.Quad]) -> list[ox.Quad]:
    return sorted(quads, key=lambda q: (str(q.graph_name), *sort_key(q)))


def jsonld_bytes(quads: list[ox.Quad], settings: Settings) -> bytes:
    """JSON-LD compacted against ontology/context.jsonld, the context embedded so it parses offline."""
    dataset = rdflib.Dataset()
    nq = ox.serialize(ordered_quads(quads), format=ox.RdfFormat.N_QUADS)
    dataset.parse(data=nq, format="nquads")
    text = dataset.serialize(format="json-ld", context=load_context(settings)["@context"], auto_compact=True,
                             indent=1, sort_keys=True)
    return (text + "\n").encode("utf-8")


def rdf_bytes(quads: list[ox.Quad], fmt: Format, settings: Settings) -> bytes:
    if fmt.name == "jsonld":
        return jsonld_bytes(quads, settings)
    if fmt.kind == "dataset":
        return ox.serialize(ordered_quads(quads), format=fmt.oxigraph, prefixes=dump_prefixes(settings))
    return ox.serialize(triples_of(quads), format=fmt.oxigraph, prefixes=dump_prefixes(settings))


class Index:
    """subject -> predicate -> [objects] over the union graph: enough to write the claim table."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        self.props: dict[str, dict[str, list[ox.Term]]] = defaultdict(lambda: defaultdict(list))
        for q in quads:
            values = self.props[q.subject.value][q.predicate.value]
            if q.object not in values:
                values.append(q.object)

    def one(self, node: str, pred: str) -> ox.Term | None:
        values = self.props.get(node, {}).get(pred)
        return values[0] if values else None

    def all(self, node: str, pred: str) -> list[ox.Term]:
        return list(self.props.get(node, {}).get(pred, []))

    def label(self, node: ox.Term | str | None) -> str:
        if node is None:
            return ""
        key = node if isinstance(node, str) else node.value
        found = self.one(key, LABEL.value)
        return found.value if found is not None else key

    def subjects_of_type(self, cls: str) -> list[str]:
        return sorted(s for s, p in self.props.items() if any(o.value == cls for o in p.get(TYPE.value, [])))


_DETAIL_PROPS = (("when", TL + "when"), ("year", TL + "year"), ("status", TL + "status"), ("role", TL + "role"),
                 ("purpose", TL + "purpose"), ("item", TL + "item"), ("as_printed", TL + "relationText"),
                 ("event", TL + "event"), ("location", SCHEMA + "location"), ("on_behalf_of", TL + "onBehalfOf"),
                 ("participant", TL + "participant"))


def _details(index: Index, claim: str, tie: str | None) -> str:
    parts: list[str] = []
    if tie:
        amount = index.one(tie, SCHEMA + "amount")
        if amount is not None:
            value, cur = index.one(amount.value, SCHEMA + "value"), index.one(amount.value, SCHEMA + "currency")
            parts.append(f"amount={value.value if value else '?'} {cur.value if cur else ''}".rstrip())
        for key, pred in _DETAIL_PROPS:
            for v in index.all(tie, pred):
                parts.append(f"{key}={index.label(v) if isinstance(v, ox.NamedNode) else v.value}")
    for key, pred in (("speaker_as_printed", TL + "speakerText"), ("reported_by", TL + "reportedBy"),
                      ("first_reported_in", TL + "firstReportedIn"), ("stated_when", TL + "statedWhen"),
                      ("summary", TL + "summary")):
        for v in index.all(claim, pred):
            parts.append(f"{key}={index.label(v) if isinstance(v, ox.NamedNode) else v.value}")
    return "; ".join(p.replace("\n", " ") for p in parts)


def _cell(value: str) -> str:
    """Spreadsheet-safe: no line breaks, and no cell that a spreadsheet would run as a formula."""
    value = " ".join(value.split()) if ("\n" in value or "\r" in value) else value
    return "'" + value if value[:1] in ("=", "+", "@") else value


def claim_rows(quads: list[ox.Quad]) -> list[list[str]]:
    index = Index(quads)
    rows = []
    for claim in index.subjects_of_type(TL + "Claim"):
        tie_term = index.one(claim, TL + "tie")
        tie = tie_term.value if tie_term is not None else None
        if tie:
            subj, obj = index.one(tie, TL + "subject"), index.one(tie, TL + "object")
            relation = index.one(tie, TYPE.value)
        else:
            about = index.all(claim, TL + "about")
            subj, obj = (about[0] if about else None), (about[1] if len(about) > 1 else None)
            relation = ox.NamedNode(TL + "about")
        source = index.one(claim, "http://www.w3.org/ns/prov#wasDerivedFrom")
        stance = index.one(claim, TL + "stance")
        date = index.one(tie, TL + "when") if tie else None
        date = date or (index.one(tie, TL + "year") if tie else None)
        rows.append([
            claim, subj.value if subj else "", index.label(subj), relation.value if relation else "",
            "statement" if relation and relation.value == TL + "about" else index.label(relation),
            obj.value if obj else "", index.label(obj) if obj else "",
            index.label(stance) if stance else "",
            "; ".join(index.label(s) for s in index.all(claim, TL + "speaker")),
            date.value if date else "", source.value if source else "", index.label(source),
            " … ".join(q.value for q in index.all(claim, TL + "quote")), _details(index, claim, tie),
        ])
    return rows


def csv_bytes(quads: list[ox.Quad]) -> bytes:
    """One row per claim; UTF-8 with a byte-order mark and CRLF so spreadsheets open it cleanly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in claim_rows(quads):
        writer.writerow([_cell(c) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def serialize(quads: list[ox.Quad], fmt: Format, settings: Settings) -> bytes:
    return csv_bytes(quads) if fmt is CSV_DUMP else rdf_bytes(quads, fmt, settings)


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
