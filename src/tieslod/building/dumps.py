"""Serialize a Dataset: every RDF format through Oxigraph, compacted JSON-LD through rdflib with our
own context, and the one-row-per-claim CSV. Output is deterministic: same input, same bytes."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from . import splice
from .bodies import gz, strip_prefixes, subject_span
from ..config import Settings
from ..formats import Format
from ..model.graph import sort_key
from ..vocab import LABEL, PREFIXES, SCHEMA, TL, TYPE

CSV_COLUMNS = ("claim", "subject", "subject_label", "relation", "relation_label", "object", "object_label",
               "stance", "speaker_label", "date", "source", "source_title", "quote", "details",
               "speaker", "reported_by", "modality", "verdict")


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
    if fmt.kind == "dataset":
        return ox.serialize(ordered_quads(quads), format=fmt.oxigraph, prefixes=dump_prefixes(settings))
    return ox.serialize(triples_of(quads), format=fmt.oxigraph, prefixes=dump_prefixes(settings))


class Index:
    """subject -> predicate -> [objects] over the union graph: enough to write the claim table."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        self.props: dict[str, dict[str, list[ox.Term]]] = defaultdict(lambda: defaultdict(list))
        self.reviews: dict[str, list[str]] = defaultdict(list)     # claim -> reviews of it
        for q in quads:
            values = self.props[q.subject.value][q.predicate.value]
            if q.object not in values:
                values.append(q.object)
                if q.predicate.value == REVIEWED:
                    self.reviews[q.object.value].append(q.subject.value)

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


REVIEWED = SCHEMA + "itemReviewed"
# the as-printed qualifiers of a claim, in this order, as `key=value` in the details column
_DETAIL_PROPS = (("as_printed", TL + "relationText"), ("when", TL + "when"), ("role", TL + "role"),
                 ("item", TL + "item"), ("purpose", TL + "purpose"), ("stated_when", TL + "statedWhen"),
                 ("speaker_as_printed", TL + "speakerText"), ("hedge", TL + "hedge"))


def _details(index: Index, claim: str) -> str:
    """The claim's own as-printed qualifiers (never the tie's: a tie carries none)."""
    return "; ".join(f"{key}={v.value}" for key, pred in _DETAIL_PROPS for v in index.all(claim, pred))


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
    date = index.one(claim, TL + "when") or index.one(claim, TL + "year")
    modality = index.one(claim, TL + "modality")
    return [
        claim, subj.value if subj else "", index.label(subj), relation.value if relation else "",
        "statement" if relation and relation.value == TL + "about" else index.label(relation),
        obj.value if obj else "", index.label(obj) if obj else "",
        index.label(stance) if stance else "",
        "; ".join(index.label(s) for s in index.all(claim, TL + "speaker")),
        date.value if date else "", source.value if source else "", index.label(source),
        " … ".join(q.value for q in index.all(claim, TL + "quote")), _details(index, claim),
        "; ".join(s.value for s in index.all(claim, TL + "speaker")),
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
# too), so an incremental build writes the same bytes as a full one without re-serializing the rest,
# and copies the unchanged spans from the previous release's dumps (splice.py).

def prefix_header(settings: Settings) -> bytes:
    return "".join(f"@prefix {k}: <{v}> .\n" for k, v in dump_prefixes(settings).items()).encode() + b"\n"


def duplicate_triples(shared_quads: list[ox.Quad], rank: dict[str, int]) -> dict[str, set[ox.Triple]]:
    """Per graph, the triples an earlier graph (in dump order: `rank` of each graph IRI) already
    states: the union-graph dumps (Turtle, N-Triples) write each triple once. Only nodes described
    in several graphs can repeat."""
    # one Triple per quad, made once (making it twice was most of ~0.25 s at 1M quads)
    ranked = [(q.triple, rank[q.graph_name.value], q.graph_name.value) for q in shared_quads]
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


def write_chunked(dumps: Path, kinds: tuple[str, ...], sources: Iterator[splice.Source], settings: Settings,
                  old: dict[str, splice.OldDump] | None = None, close: bool = True,
                  into: dict[str, splice.Sink] | None = None) -> dict[str, splice.Sink]:
    """Write the dumps of the given kinds from chunk bodies (and their gzip members), in graph order,
    copying the pieces the previous release's dumps hold (`old`, see splice.py); returns the sinks by kind.
    With close=False the sinks may still be copying and hashing in their threads: the caller closes them
    (the build does other work meanwhile). `into` gets each sink as soon as it is open (so a caller can
    close them should this fail half way)."""
    from ..model import jsonld
    from ..formats import rdf_format
    old = old or {}
    sinks = {k: splice.Sink(dumps / f"tieslod.{rdf_format(DUMP_KINDS[k]).extension}", old.get(k)) for k in kinds}
    if into is not None:
        into.update(sinks)
    head = prefix_header(settings)
    for kind in ("ttl", "trig"):
        if kind in sinks:
            _fixed(sinks[kind], head)
    if "jsonld" in sinks:
        _fixed(sinks["jsonld"], jsonld.header(load_context(settings)["@context"]))
    splice.write_pieces(sinks, sources, {"jsonld": (jsonld.SEPARATOR, _gz(jsonld.SEPARATOR))})
    if "jsonld" in sinks:
        _fixed(sinks["jsonld"], jsonld.FOOTER)
    for sink in sinks.values():     # the last run of copies starts now, not when the sink is closed
        sink.flush()
    if close:
        for sink in sinks.values():
            sink.close()
    return sinks


def _fixed(sink: splice.Sink, data: bytes) -> None:
    """A header or footer, keyed by its bytes like every other piece: copied with its neighbours
    (the dump's start is then one copied run, whose hash state the next build can resume)."""
    key = "fixed:" + hashlib.sha256(data).hexdigest()[:32]
    if not sink.copy(key):
        sink.write(data, _gz(data), key)


def _gz(data: bytes) -> bytes:
    return gz(data)


def without_triples(nt: bytes, ttl: bytes, drop: set[ox.Triple], prefixes: dict[str, str]) -> dict[str, bytes]:
    """A graph's union-dump bodies (N-Triples, Turtle) without the triples an earlier graph states.

    Both bodies are sorted by subject, so a subject's triples are one run of N-Triples lines and one
    Turtle block (Oxigraph starts it at the start of a line and indents the rest with a tab). Only the
    runs and blocks of subjects that lose a triple are touched: writing every article's whole Turtle
    body again cost ~5 of the ~10 CPU-s this step took in a 1M-quad build. Blank-node subjects, or a
    subject not found where expected, mean writing the whole body again (always correct)."""

    def turtle(lines: list[bytes]) -> bytes:
        triples = list(ox.parse(b"".join(lines), format=ox.RdfFormat.N_TRIPLES))
        return strip_prefixes(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)) if triples else b""
    gone = {ox.serialize([t], format=ox.RdfFormat.N_TRIPLES) for t in drop}
    subjects = {t.subject for t in drop}
    if not any(isinstance(s, ox.BlankNode) for s in subjects):
        for subject in sorted(subjects, key=str):
            found = _cut(nt, ttl, subject, prefixes)
            if found is None:
                break
            (a, b), (c, d) = found
            kept = [line for line in nt[a:b].splitlines(keepends=True) if line not in gone]
            nt, ttl = nt[:a] + b"".join(kept) + nt[b:], ttl[:c] + turtle(kept) + ttl[d:]
        else:
            return {"nt": nt, "ttl": ttl}
    kept = [line for line in nt.splitlines(keepends=True) if line not in gone]
    return {"nt": b"".join(kept), "ttl": turtle(kept)}


def _cut(nt: bytes, ttl: bytes, subject: ox.NamedNode, prefixes: dict[str, str]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where subject's lines lie in an N-Triples body and its block in the Turtle body, or None."""
    spans = []
    probe = ox.Triple(subject, ox.NamedNode(TYPE.value), subject)
    for body, fmt in ((nt, ox.RdfFormat.N_TRIPLES), (ttl, ox.RdfFormat.TURTLE)):
        turtle = fmt == ox.RdfFormat.TURTLE
        line = strip_prefixes(ox.serialize([probe], format=fmt, prefixes=prefixes if turtle else None))
        span = subject_span(body, line[:line.find(b" ") + 1], block=turtle)   # as the subject is written
        if span is None:
            return None
        spans.append(span)
    return spans[0], spans[1]
