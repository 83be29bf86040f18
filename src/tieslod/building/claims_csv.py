"""The claim table (tieslod-claims.csv) from per-chunk facts, its rows cached per chunk.

A claim's row reads more than its own article: the tie it is about (maybe defined by another
article), the tie's amount, the labels of entities, stances and categories (entities and ontology
graphs). So a chunk's cached rows carry every node they read. Rows are valid for the list of chunk
keys (graph order) they were made or checked against, which the table records after each build
(ROWS: one cache entry holding that list and every chunk's rows). The next build compares that list
with its own: a row can only read differently if a node it read is a subject of a chunk that was
added, removed or changed, so only rows reading such a node, and the rows of new chunks, are made
again, from the facts of every chunk describing a node they read, in graph order, which is what the
whole-graph index sees (dumps.Index keeps the first value in graph order). Without a usable record
every row is made again. An incremental build thus remakes the changed article's rows and those of
the few articles reading its nodes; the output is byte-identical to dumps.csv_bytes over all quads
(tests/test_dumps.py).
"""
from __future__ import annotations

import hashlib
import marshal
import sys
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import pyoxigraph as ox

from ..vocab import TL, Term
from .bodies import gz
from .cache import Cache
from .dumpparts import naming
from .dumps import CSV_COLUMNS, REVIEWED, Index, claim_row, csv_line
from .parts import Chunk, Describers, subject_lines

CLAIM = TL + "Claim"


class _Tracking(Index):
    """An Index that remembers every node it was asked about."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        super().__init__(quads)
        self.looked: set[str] = set()

    def one(self, node: str, pred: str) -> Term | None:
        self.looked.add(node)
        return super().one(node, pred)

    def all(self, node: str, pred: str) -> list[Term]:
        self.looked.add(node)
        return super().all(node, pred)


@dataclass
class Rows:
    lines: list[tuple[str, bytes]]               # (claim IRI, CSV line in UTF-8)
    reads: tuple[str, ...]        # every node the rows looked up (a tuple unpickles ~2x faster than a set)


# One entry: the chunk keys (graph order) the rows were last made or checked against, and every
# chunk's rows by chunk key, as plain tuples in marshal's format. One file, not one per chunk: loading
# 2,500 small pickles took ~0.5 s of a 1M-quad rebuild; the keys and rows are written together, so
# they always agree. marshal reads and writes the 34 MB in ~0.12 s against ~0.3 s for pickle; its
# format may change between Python versions, so the entry names the version that wrote it.
SEARCHES = 8       # more nodes wanted from one chunk's facts than this: one pass over its lines
WHOLE = 0.5        # rows to remake reading more than this share of the chunks: read every chunk
ROWS = ("claim-rows", "2" * 32)     # "2": lines as UTF-8 bytes
_MARSHAL = (marshal.version, sys.version_info[:2])


def _load_rows(cache: Cache) -> tuple[list[str] | None, dict[str, Rows]]:
    """The keys and rows the last build recorded, or (None, {}) if there is no usable record."""
    entry = cache.get(*ROWS)
    if not (isinstance(entry, tuple) and len(entry) == 2 and entry[0] == _MARSHAL):
        return None, {}
    try:
        keys, rows = marshal.loads(entry[1])
    except (ValueError, EOFError, TypeError):
        return None, {}
    return list(keys), {k: Rows(list(lines), reads) for k, (lines, reads) in rows.items()}


def _save_rows(cache: Cache, keys: list[str], rows: dict[str, Rows]) -> None:
    plain = {k: (tuple(r.lines), r.reads) for k, r in rows.items()}
    cache.put(*ROWS, (_MARSHAL, marshal.dumps((tuple(keys), plain))))


class Table:
    """What the claim table needs to know about a release's chunks."""

    def __init__(self, metas: list[Chunk], keys: list[str], facts: Callable[[int], bytes],
                 describers: Describers) -> None:
        self.metas, self.keys, self.facts, self.describers = metas, keys, facts, describers
        # a claim's row belongs to the first chunk typing it: filled from the last chunk back, so an
        # earlier chunk overwrites (dict.update runs in C; a setdefault per claim cost ~0.1 s at 1M)
        self.owner: dict[str, int] = {}
        for i in range(len(metas) - 1, -1, -1):
            self.owner.update(dict.fromkeys(metas[i].typed.get(CLAIM, ()), i))

    def make(self, chunks: list[int], hint: set[str] = frozenset()) -> dict[int, Rows]:  # type: ignore[assignment]
        """Rows of the given chunks, from the facts of every chunk describing a node they read.

        For a few chunks only the facts about the nodes the rows read are indexed: the entities
        graph alone holds ~40k facts at 1M quads, and indexing them all cost ~0.3 s of a rebuild.
        `hint` (nodes the rows read before) and the claims are the first guess; any node read beyond
        it means another pass with it added, until the rows read nothing unindexed."""
        claims = sorted(c for i in chunks for c in self.metas[i].typed.get(CLAIM, ()) if self.owner[c] == i)
        wanted: set[str] | None = set(claims) | set(hint)
        load = set(chunks) | {j for c in wanted for j in self.describers.get(c)}     # type: ignore[union-attr]
        while True:
            if len(load) > WHOLE * len(self.metas):   # most of the release: read all of it in one pass
                load, wanted = set(range(len(self.metas))), None
            quads = [q for j in sorted(load)
                     for q in ox.parse(self._about(j, wanted), format=ox.RdfFormat.N_QUADS)]
            index = _Tracking(quads)
            lines: dict[int, list[tuple[str, bytes]]] = {i: [] for i in chunks}
            # a chunk's rows depend on the claims it types even when another chunk owns their rows:
            # should that chunk stop typing one, the row moves here
            reads: dict[int, set[str]] = {i: set(self.metas[i].typed.get(CLAIM, ())) for i in chunks}
            for claim in claims:
                index.looked = set()
                lines[self.owner[claim]].append((claim, csv_line(claim_row(index, claim)).encode("utf-8")))
                reads[self.owner[claim]] |= index.looked
            read = set().union(*reads.values())
            need = {j for n in read for j in self.describers.get(n)}
            if need <= load and (wanted is None or read <= wanted):
                return {i: Rows(lines[i], tuple(sorted(reads[i]))) for i in chunks}
            load |= need
            wanted = None if wanted is None else wanted | read

    def _about(self, j: int, wanted: set[str] | None) -> bytes:
        """The facts of chunk j about the wanted nodes it describes (all of them for None). A few
        nodes are found by search (the body is sorted by subject); many, by one pass over the lines
        (a search scans from the start: ~700 of them in the entities graph's 8 MB took ~1 s)."""
        facts = self.facts(j)
        if wanted is None:
            return facts
        subjects = self.metas[j].subjects
        mine = [n for n in subjects if n in wanted] if len(wanted) > len(subjects) \
            else [n for n in wanted if j in self.describers.get(n)]
        tokens = [(f"<{n}> " if ":" in n else f"_:{n} ").encode() for n in mine]   # IRIs have a scheme
        # a review points at its claim (the claim's row shows its verdict): no forward read finds it,
        # so every review link of a chunk read is read too (a rebuild missed the verdicts without it)
        links = _review_links(facts)
        if len(tokens) <= SEARCHES:
            return b"".join(subject_lines(facts, token) for token in tokens) + links
        wanted_tokens = {t[:-1] for t in tokens}
        return b"".join(line for line in facts.splitlines(keepends=True)
                        if line[:line.find(b" ")] in wanted_tokens) + links


_REVIEW_LINK = f" <{REVIEWED}> ".encode()


def _review_links(facts: bytes) -> bytes:
    """The N-Quads lines of facts whose predicate is schema:itemReviewed (found by search)."""
    out, at = [], facts.find(_REVIEW_LINK)
    while at >= 0:
        start = facts.rfind(b"\n", 0, at) + 1
        end = facts.find(b"\n", at) + 1 or len(facts)
        out.append(facts[start:end])
        at = facts.find(_REVIEW_LINK, end)
    return b"".join(out)


def _changed_nodes(table: Table, cache: Cache, before: list[str]) -> set[str] | None:
    """Subjects of every chunk added, removed or changed since `before`; None if one is unknown."""
    then, now = set(before), set(table.keys)
    nodes: set[str] = set()
    for i, key in enumerate(table.keys):
        if key not in then:
            nodes.update(table.metas[i].subjects)
    for key in then - now:
        meta = cache.peek("meta", key)      # the previous build's: still cached until this one prunes
        if meta is None:
            return None
        nodes.update(meta.subjects)
    return nodes


HEADER = ("\ufeff" + csv_line(list(CSV_COLUMNS))).encode("utf-8")   # with a byte-order mark


def claims_csv(table: Table, cache: Cache) -> list[bytes]:
    """The claim table's lines (the header first; their concatenation is the file): cached rows
    where still valid, the rest made in one pass."""
    before, known = _load_rows(cache)
    changed = _changed_nodes(table, cache, before) if before is not None else None
    if changed is None:
        known = {}
    rows: dict[int, Rows] = {}
    stale: list[int] = []
    hint: set[str] = set()
    for i, key in enumerate(table.keys):
        if not table.metas[i].typed.get(CLAIM):
            rows[i] = Rows([], ())
            continue
        cached = known.get(key)
        if cached is not None and changed.isdisjoint(cached.reads):     # type: ignore[union-attr]
            rows[i] = cached
        else:
            stale.append(i)
            hint.update(cached.reads if cached is not None else ())
    if stale:
        rows.update(table.make(stale, hint))
    if stale or before != table.keys:
        _save_rows(cache, table.keys, {table.keys[i]: r for i, r in rows.items()})
    # by claim IRI alone (each claim has one row): comparing whole tuples cost ~0.1 s more at 1M
    lines = sorted((line for r in rows.values() for line in r.lines), key=itemgetter(0))
    return [HEADER, *(line for _, line in lines)]


def write_claim_files(lines: list[bytes], cache: Cache, dumps: Path) -> dict[str, tuple[int, str]]:
    """tieslod-claims.csv and its .gz (lines from claims_csv), written into dumps; returns each file's
    size and sha256."""
    out = {}
    for name, data in (("tieslod-claims.csv", b"".join(lines)), ("tieslod-claims.csv.gz", csv_gzip(lines, cache))):
        path = dumps / name
        with naming(path):
            path.write_bytes(data)
        out[name] = (len(data), hashlib.sha256(data).hexdigest())
    return out


GZ_TABLE = ("claim-csv-gz", "0" * 32)   # one entry: block digest -> its gzip member
BLOCK_MASK = 255                         # a block ends after a line whose crc32 has these bits zero


def csv_gzip(lines: list[bytes], cache: Cache) -> bytes:
    """The CSV's .gz as one gzip member per block of lines, members cached by their block's digest.

    Compressing the 24 MB table at level 6 took ~0.75 s of every rebuild at 1M quads, though one
    article changes a few rows. Blocks end where a line's own bytes say (content-defined, ~256 lines
    each), so a changed row changes its block only and the rest keep their members; a multi-member
    gzip file decompresses to the concatenation, and a full build writes exactly the same members."""
    blocks: list[bytes] = []
    current: list[bytes] = []
    for line in lines:
        current.append(line)
        if not zlib.crc32(line) & BLOCK_MASK:
            blocks.append(b"".join(current))
            current = []
    if current:
        blocks.append(b"".join(current))
    digests = [hashlib.blake2b(block, digest_size=16).digest() for block in blocks]
    old = cache.peek(*GZ_TABLE) or {}
    table = {d: old[d] for d in digests if d in old}
    todo = {d: block for d, block in zip(digests, blocks, strict=True) if d not in table}
    with ThreadPoolExecutor(2) as pool:     # zlib releases the GIL: a full build compresses on both cores
        table.update(zip(todo, pool.map(gz, todo.values()), strict=True))
    if todo or len(table) != len(old):
        cache.put(*GZ_TABLE, table)
    else:
        cache.keep(*GZ_TABLE)
    return b"".join(table[d] for d in digests)
