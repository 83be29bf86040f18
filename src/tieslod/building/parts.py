"""Per-article build products ("chunks"), made in worker processes and cached by content hash.

A chunk holds everything a release needs from one named graph: its N-Quads, TriG, JSON-LD graph
object, N-Triples and Turtle bodies (and a gzip member of each, since gzip members concatenate), the
facts the claim table needs, the counts, and the part's own SHACL results. A release is then a
concatenation of chunks in a fixed order, so an incremental build only remakes the changed article.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..config import Settings
from ..formats import serialize_rdf
from ..model.graph import Part, enrich_article, plain_part
from ..model.jsonld import Compactor, graph_object
from ..model.sources import parse_turtle, read_article
from ..validation.shacl import Violation
from ..vocab import OA, SCHEMA, TL, TYPE, value_of
from .bodies import gz, strip_prefixes, subject_span

COUNTED = (TL + "Claim", TL + "Source")
_FACT_SKIP = (TL + "evidence", SCHEMA + "text", TL + "sha256")


@dataclass
class Task:
    """One part to make: an article (one .ttl + its .txt) or a plain graph from several files."""

    key: str
    kind: str                     # "article" or "plain"
    paths: tuple[Path, ...]
    cache_key: str


@dataclass
class Chunk:
    key: str
    graph: str
    origin: str
    digest: str
    quads: int
    subjects: list[str]                       # distinct subjects, sorted
    typed: dict[str, list[str]]               # class IRI (our ontology's only) -> subjects typed so here
    bodies: dict[str, bytes]                  # "nq", "trig", "jsonld", "nt", "ttl"
    gz: dict[str, bytes]
    facts: bytes                              # N-Quads of what the claim table reads
    violations: list[Violation] = field(default_factory=list)   # local SHACL results
    origins: dict[str, str] = field(default_factory=dict)


class Describers:
    """node -> indices (graph order) of the chunks whose subjects include it, for a release's chunks.

    Built once per build and shared by the shared-node shard, the claim table and the report's file
    locations: each used to build its own index over every subject (~0.3 s apiece at 1M quads). Most
    nodes are described by one chunk, so those live in one flat dict filled by C-level updates; only
    nodes several chunks describe get a list."""

    def __init__(self, metas: list[Chunk]) -> None:
        self.metas = metas
        self.first: dict[str, int] = {}
        self.multi: dict[str, list[int]] = {}
        first, multi = self.first, self.multi
        for i, meta in enumerate(metas):
            fresh = dict.fromkeys(meta.subjects, i)
            for node in first.keys() & fresh.keys():
                multi.setdefault(node, [first[node]]).append(i)
                del fresh[node]
            first.update(fresh)

    def get(self, node: str) -> list[int]:
        found = self.multi.get(node)
        if found is not None:
            return found
        i = self.first.get(node)
        return [] if i is None else [i]

    def shared(self) -> list[str]:
        """The nodes several chunks describe, sorted."""
        return sorted(self.multi)


def subject_lines(body: bytes, token: bytes) -> bytes:
    span = subject_span(body, token)
    return b"" if span is None else body[span[0]:span[1]]


def union_bodies(quads: list[ox.Quad], prefixes: dict[str, str], nquads: bytes | None = None) -> dict[str, bytes]:
    """N-Triples and Turtle of quads (already sorted by subject, predicate, object, all in one named
    graph; `nquads`: their N-Quads, if made already), no prefix lines. The N-Triples are the N-Quads
    lines without the graph term (a line can only end with it: N-Quads escapes newlines in literals),
    and Turtle is written from a parse of them: both cheaper than a Triple made from each Quad."""
    if not quads:
        return {"nt": b"", "ttl": b""}
    nquads = nquads if nquads is not None else serialize_rdf(quads, ox.RdfFormat.N_QUADS)
    nt = nquads.replace(f" {quads[0].graph_name} .\n".encode(), b" .\n")
    triples = ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)
    return {"nt": nt, "ttl": strip_prefixes(serialize_rdf(triples, ox.RdfFormat.TURTLE, prefixes))}


def _is_fact(q: ox.Quad) -> bool:
    p = q.predicate.value
    if p.startswith(OA) or p in _FACT_SKIP:
        return False
    return not (p == TYPE.value and value_of(q.object).startswith(OA))


def render(part: Part, compactor: Compactor, prefixes: dict[str, str], origins: dict[str, str]) -> Chunk:
    quads = part.quads   # sorted by (subject, predicate, object) in graph.py
    nquads = serialize_rdf(quads, ox.RdfFormat.N_QUADS)
    bodies = {"nq": nquads,
              "trig": strip_prefixes(serialize_rdf(quads, ox.RdfFormat.TRIG, prefixes)),
              "jsonld": graph_object(compactor, part.graph.value, quads), **union_bodies(quads, prefixes, nquads)}
    # one str object per subject, shared by subjects and typed: pickle then writes each once, and
    # loading every chunk's metadata (2,500 files at 1M quads) is a third cheaper. Only our own
    # classes are listed (claims, sources, ties: what the claim table and the counts read); the Web
    # Annotation types of the evidence nodes were over a third of the metadata.
    subject = {s: s for s in (value_of(q.subject) for q in quads)}
    typed: dict[str, list[str]] = {}
    for q in quads:
        if q.predicate == TYPE and value_of(q.object).startswith(TL):
            typed.setdefault(value_of(q.object), []).append(subject[value_of(q.subject)])
    return Chunk(
        part.key, part.graph.value, str(part.origin), part.digest, len(quads),
        sorted(subject), typed, bodies, {name: gz(body) for name, body in bodies.items()},
        serialize_rdf([q for q in quads if _is_fact(q)], ox.RdfFormat.N_QUADS), origins=origins)


# ---------------------------------------------------------------- worker side

# Per worker process: what init_worker received (a process pool initializer can only leave its
# arguments in the worker's module state), read by every task that worker runs.
_STATE: dict[str, object] = {}


def init_worker(settings: Settings, labels: dict[str, str], context: dict[str, Any], prefixes: dict[str, str],
                checker: Callable[[list[Part], list[Chunk]], None] | None = None) -> None:
    """Per-process state, sent once instead of with every task."""
    _STATE.update(settings=settings, labels=labels, compactor=Compactor(context), prefixes=prefixes,
                  checker=checker)


def make_part(task: Task) -> tuple[Part, dict[str, str]]:
    settings: Settings = _STATE["settings"]  # type: ignore[assignment]
    if task.kind == "article":
        article = read_article(settings.data_dir, task.key, settings.base_uri)
        # every node of an article comes from its one file: chunk.origin says where
        return enrich_article(article, _STATE["labels"], settings), {}  # type: ignore[arg-type]
    files = [parse_turtle(p, settings.base_uri) for p in task.paths]
    origins: dict[str, str] = {}
    for f in files:
        for q in f.quads:
            origins.setdefault(value_of(q.subject), str(f.path))
    return plain_part(task.key, files, settings), origins


def make_chunks(tasks: list[Task]) -> list[Chunk]:
    """Worker entry point: make a batch of parts, render them, check them with pyshacl in one call."""
    made = [make_part(task) for task in tasks]
    chunks = [render(part, _STATE["compactor"], _STATE["prefixes"], origins)  # type: ignore[arg-type]
              for part, origins in made]
    checker = _STATE.get("checker")
    if callable(checker):
        checker([part for part, _ in made], chunks)   # fills chunk.violations
    return chunks


def make_less(job: tuple[str, str, str, bytes, dict[str, str]]) -> None:
    """Worker entry point: one chunk's union-dump bodies without the triples an earlier graph states
    (dumps.without_triples), into the cache as "union-less". A full build at 1M quads re-makes this for
    every article (each restates a tie of an earlier one): ~13 s on the main thread, now on both cores."""
    from .cache import Cache
    from .dumps import without_triples
    root, chunk_key, key, dropped, prefixes = job
    cache = Cache(Path(root))
    drop = {q.triple for q in ox.parse(dropped, format=ox.RdfFormat.N_TRIPLES)}
    full, _gzs = cache.need("union", chunk_key)
    less = without_triples(full["nt"], drop, prefixes)
    cache.put("union-less", key, (less, {k: gz(v) for k, v in less.items()}))
