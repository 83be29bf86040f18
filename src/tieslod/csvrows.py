"""The claim table (tieslod-claims.csv) from per-chunk facts, its rows cached per chunk.

A claim's row reads more than its own article: the tie it is about (maybe defined by another
article), the tie's amount, the labels of entities, stances and categories (entities and ontology
graphs). So a chunk's cached rows carry what they read: every node looked up, with the cache keys
of the chunks that described that node when the rows were made. The rows stay valid while each of
those nodes is described by exactly the same chunks; otherwise they are made again from the facts of
every chunk describing a node they read, in graph order, which is what the whole-graph index sees
(dumps.Index keeps the first value in graph order). An incremental build thus remakes the changed
article's rows and those of the few articles reading its nodes; the output is byte-identical to
dumps.csv_bytes over all quads (tests/test_dumps.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from .cache import Cache
from .chunks import Chunk
from .dumps import Index, claim_row, csv_document, csv_line
from .vocab import TL

CLAIM = TL + "Claim"


class _Tracking(Index):
    """An Index that remembers every node it was asked about."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        super().__init__(quads)
        self.looked: set[str] = set()

    def one(self, node: str, pred: str) -> ox.Term | None:
        self.looked.add(node)
        return super().one(node, pred)

    def all(self, node: str, pred: str) -> list[ox.Term]:
        self.looked.add(node)
        return super().all(node, pred)


@dataclass
class Rows:
    lines: list[tuple[str, str]]                 # (claim IRI, CSV line)
    deps: dict[str, tuple[str, ...]]             # node read -> cache keys of the chunks describing it


class Table:
    """What the claim table needs to know about a release's chunks."""

    def __init__(self, metas: list[Chunk], keys: list[str], facts: Callable[[int], bytes]) -> None:
        self.metas, self.keys, self.facts = metas, keys, facts
        self.describers: dict[str, list[int]] = {}
        for i, meta in enumerate(metas):
            for subject in meta.subjects:
                self.describers.setdefault(subject, []).append(i)
        self.owner: dict[str, int] = {}          # a claim's row belongs to the first chunk typing it
        for i, meta in enumerate(metas):
            for claim in meta.typed.get(CLAIM, ()):
                self.owner.setdefault(claim, i)

    def dep_keys(self, node: str) -> tuple[str, ...]:
        return tuple(self.keys[i] for i in self.describers.get(node, ()))

    def fresh(self, rows: Rows | None) -> bool:
        return rows is not None and all(self.dep_keys(n) == k for n, k in rows.deps.items())

    def make(self, chunks: list[int]) -> dict[int, Rows]:
        """Rows of the given chunks, from the facts of every chunk describing a node they read."""
        claims = sorted(c for i in chunks for c in self.metas[i].typed.get(CLAIM, ()) if self.owner[c] == i)
        load = set(chunks) | {j for c in claims for j in self.describers.get(c, ())}
        if 2 * len(load) > len(self.metas):   # most of the release: read it all in one pass
            load = set(range(len(self.metas)))
        while True:
            quads = [q for j in sorted(load) for q in ox.parse(self.facts(j), format=ox.RdfFormat.N_QUADS)]
            index = _Tracking(quads)
            out: dict[int, Rows] = {i: Rows([], {}) for i in chunks}
            for claim in claims:
                index.looked = set()
                line = csv_line(claim_row(index, claim))
                rows = out[self.owner[claim]]
                rows.lines.append((claim, line))
                rows.deps.update((n, self.dep_keys(n)) for n in index.looked)
            need = {j for rows in out.values() for n in rows.deps for j in self.describers.get(n, ())}
            if need <= load:
                return out
            load |= need


def claims_csv(table: Table, cache: Cache) -> bytes:
    """The claim table: cached rows where still valid, the rest made in one pass."""
    rows: dict[int, Rows] = {}
    stale = []
    for i, key in enumerate(table.keys):
        cached = cache.get("rows", key) if table.metas[i].typed.get(CLAIM) else Rows([], {})
        if table.fresh(cached):
            rows[i] = cached
        else:
            stale.append(i)
    if stale:
        made = table.make(stale)
        for i in stale:
            cache.put("rows", table.keys[i], made[i])
        rows.update(made)
    lines = sorted(line for r in rows.values() for line in r.lines)
    return csv_document([line for _, line in lines])
