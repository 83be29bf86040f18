"""Serialize a Dataset: every RDF format through Oxigraph, compacted JSON-LD through rdflib with our
own context, and the one-row-per-claim CSV. Output is deterministic: same input, same bytes."""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..config import Settings
from ..formats import Format, serialize_rdf
from ..model.graph import sort_key
from ..vocab import LABEL, PREFIXES, SCHEMA, TL, TYPE, Term, value_of
from .bodies import strip_prefixes

CSV_COLUMNS = ("claim", "subject", "subject_label", "relation", "relation_label", "object", "object_label",
               "stance", "speaker_label", "date", "source", "source_title", "quote", "details",
               "speaker", "reported_by", "modality", "verdict")


def load_context(settings: Settings) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((settings.ontology_dir / "context.jsonld").read_text(encoding="utf-8"))
    return context


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
    """JSON-LD compacted against ontology/context.jsonld (embedded, so it parses offline): one
    `{"@id": graph, "@graph": [...]}` object per named graph, in graph order, one node object per subject.
    Written by our streaming writer (jsonld.py): rdflib's compaction costs a minute per million triples."""
    from ..model import jsonld
    compactor = jsonld.Compactor(load_context(settings)["@context"])
    by_graph: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        by_graph[q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""].append(q)
    graphs = [jsonld.graph_object(compactor, g, sorted(set(qs), key=sort_key)) for g, qs in sorted(by_graph.items())]
    return jsonld.document(compactor.context, graphs)


def rdf_bytes(quads: list[ox.Quad], fmt: Format, settings: Settings) -> bytes:
    if fmt.name == "jsonld":
        return jsonld_bytes(quads, settings)
    assert isinstance(fmt.oxigraph, ox.RdfFormat), fmt      # (the table's RDF formats all have one)
    if fmt.kind == "dataset":
        return serialize_rdf(ordered_quads(quads), fmt.oxigraph, dump_prefixes(settings))
    return serialize_rdf(triples_of(quads), fmt.oxigraph, dump_prefixes(settings))


class Index:
    """subject -> predicate -> [objects] over the union graph: enough to write the claim table."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        self.props: dict[str, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        self.reviews: dict[str, list[str]] = defaultdict(list)     # claim -> reviews of it
        for q in quads:
            values = self.props[value_of(q.subject)][q.predicate.value]
            if q.object not in values:
                values.append(q.object)
                if q.predicate.value == REVIEWED:
                    self.reviews[value_of(q.object)].append(value_of(q.subject))

    def one(self, node: str, pred: str) -> Term | None:
        values = self.props.get(node, {}).get(pred)
        return values[0] if values else None

    def all(self, node: str, pred: str) -> list[Term]:
        return list(self.props.get(node, {}).get(pred, []))

    def label(self, node: Term | str | None) -> str:
        if node is None:
            return ""
        key = node if isinstance(node, str) else value_of(node)
        found = self.one(key, LABEL.value)
        return value_of(found) if found is not None else key

    def subjects_of_type(self, cls: str) -> list[str]:
        return sorted(s for s, p in self.props.items() if any(value_of(o) == cls for o in p.get(TYPE.value, [])))


REVIEWED = SCHEMA + "itemReviewed"
# the as-printed qualifiers of a claim, in this order, as `key=value` in the details column
_DETAIL_PROPS = (("as_printed", TL + "relationText"), ("when", TL + "when"), ("role", TL + "role"),
                 ("item", TL + "item"), ("purpose", TL + "purpose"), ("stated_when", TL + "statedWhen"),
                 ("speaker_as_printed", TL + "speakerText"), ("hedge", TL + "hedge"))


def _details(index: Index, claim: str) -> str:
    """The claim's own as-printed qualifiers (never the tie's: a tie carries none)."""
    return "; ".join(f"{key}={value_of(v)}" for key, pred in _DETAIL_PROPS for v in index.all(claim, pred))


def _verdicts(index: Index, claim: str) -> str:
    """Labels of the verdicts of every review of the claim ("likely exaggerated"): the article's own,
    or one it relays from the outlet it quotes (a review is written in the claim's own article file)."""
    found = [index.label(v) for review in sorted(index.reviews.get(claim, ()))
             if (v := index.one(review, TL + "verdict")) is not None]
    return "; ".join(dict.fromkeys(found))


def _cell(value: str) -> str:
    """No cell that a spreadsheet would run as a formula. Line breaks stay as they are (quotes are
    verbatim): the csv module quotes such a cell."""
    return "'" + value if value[:1] in ("=", "+", "@") else value


def claim_row(index: Index, claim: str) -> list[str]:
    """One claim's row of the claim table, read from an index of the union graph."""
    tie_term = index.one(claim, TL + "tie")
    tie = value_of(tie_term) if tie_term is not None else None
    if tie:
        subj, obj = index.one(tie, TL + "subject"), index.one(tie, TL + "object")
        relation = index.one(tie, TYPE.value)
    else:
        about = index.all(claim, TL + "about")
        subj, obj = (about[0] if about else None), (about[1] if len(about) > 1 else None)
        relation = ox.NamedNode(TL + "about")
    source = index.one(claim, "http://www.w3.org/ns/prov#wasDerivedFrom")
    stance = index.one(claim, TL + "stance")
    date = index.one(claim, TL + "when") or index.one(claim, TL + "year")
    modality = index.one(claim, TL + "modality")
    return [
        claim, value_of(subj) if subj else "", index.label(subj), value_of(relation) if relation else "",
        "statement" if relation and value_of(relation) == TL + "about" else index.label(relation),
        value_of(obj) if obj else "", index.label(obj) if obj else "",
        index.label(stance) if stance else "",
        "; ".join(index.label(s) for s in index.all(claim, TL + "speaker")),
        value_of(date) if date else "", value_of(source) if source else "", index.label(source),
        " … ".join(value_of(q) for q in index.all(claim, TL + "quote")), _details(index, claim),
        "; ".join(value_of(s) for s in index.all(claim, TL + "speaker")),
        "; ".join(index.label(r) for r in index.all(claim, TL + "reportedBy")),
        index.label(modality) if modality is not None else "", _verdicts(index, claim),
    ]


def claim_rows(quads: list[ox.Quad]) -> list[list[str]]:
    index = Index(quads)
    return [claim_row(index, claim) for claim in index.subjects_of_type(TL + "Claim")]


def csv_line(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(c) for c in row])
    return buffer.getvalue()


def csv_document(lines: list[str]) -> bytes:
    """The header and the given rows (already CSV lines), with a byte-order mark."""
    return ("\ufeff" + csv_line(list(CSV_COLUMNS)) + "".join(lines)).encode("utf-8")


def csv_bytes(quads: list[ox.Quad]) -> bytes:
    """One row per claim; UTF-8 with a byte-order mark and CRLF so spreadsheets open it cleanly."""
    return csv_document([csv_line(row) for row in claim_rows(quads)])


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
    except BaseException:
        tmp.unlink(missing_ok=True)      # (a full disk: no half file left behind)
        raise
    tmp.replace(path)


# ---------------------------------------------------------------- release dumps from cached chunks
# A release's dumps are the chunks' bodies concatenated in graph-key order (gzip members concatenate
# too), so an incremental build writes the same bytes as a full one without re-serializing the rest
# (dumpparts.py: the bodies are grouped into content-addressed parts, which a rebuild reuses).

def prefix_header(settings: Settings) -> bytes:
    return "".join(f"@prefix {k}: <{v}> .\n" for k, v in dump_prefixes(settings).items()).encode() + b"\n"


def duplicate_triples(shared_quads: list[ox.Quad], rank: dict[str, int]) -> dict[str, set[ox.Triple]]:
    """Per graph, the triples an earlier graph (in dump order: `rank` of each graph IRI) already
    states: the union-graph dumps (Turtle, N-Triples) write each triple once. Only nodes described
    in several graphs can repeat."""
    # one Triple per quad, made once (making it twice was most of ~0.25 s at 1M quads)
    ranked = [(q.triple, rank[value_of(q.graph_name)], value_of(q.graph_name)) for q in shared_quads]
    first: dict[ox.Triple, int] = {}
    for t, r, _g in ranked:
        if r < first.get(t, len(rank)):
            first[t] = r
    drop: dict[str, set[ox.Triple]] = {}
    for t, r, g in ranked:
        if r > first[t]:
            drop.setdefault(g, set()).add(t)
    return drop


DUMP_KINDS = {"ttl": "turtle", "jsonld": "jsonld", "nt": "ntriples", "nq": "nquads", "trig": "trig"}


def dump_frame(kind: str, settings: Settings) -> tuple[bytes, bytes]:
    """The header and footer of a dump around its graphs' bodies (prefixes for Turtle and TriG, the
    document's opening and closing for JSON-LD)."""
    from ..model import jsonld
    if kind in ("ttl", "trig"):
        return prefix_header(settings), b""
    if kind == "jsonld":
        return jsonld.header(load_context(settings)["@context"]), jsonld.FOOTER
    return b"", b""


def without_triples(nt: bytes, drop: set[ox.Triple], prefixes: dict[str, str]) -> dict[str, bytes]:
    """A graph's union-dump bodies (N-Triples, Turtle) without the triples an earlier graph states:
    the N-Triples lines of those triples left out (N-Triples is one triple per line, by its grammar),
    and the Turtle written again from the lines kept (no reading of the serializer's layout)."""
    gone = {serialize_rdf([t], ox.RdfFormat.N_TRIPLES) for t in drop}
    kept = b"".join(line for line in nt.splitlines(keepends=True) if line not in gone)
    triples = list(ox.parse(kept, format=ox.RdfFormat.N_TRIPLES))
    ttl = strip_prefixes(serialize_rdf(triples, ox.RdfFormat.TURTLE, prefixes)) if triples else b""
    return {"nt": kept, "ttl": ttl}
