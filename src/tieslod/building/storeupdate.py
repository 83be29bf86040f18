"""The release store: the previous release's store with only the changed graphs replaced, or a fresh
bulk load; and what changed, so the cross-document checks look only near it (checks.cross_focus)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..vocab import Term
from .cache import Cache
from .plan import Made, Plan

RESERVED = ("entities", "ontology", "lifecycle")


@dataclass
class StoreUpdate:
    """How the release store was made, and for an incremental update the nodes whose triples changed
    (subjects and objects of every quad removed or added): the cross-document rules need only look
    near them (validate_all)."""

    mode: str                                  # "fresh" or "incremental"
    subjects: set[Term] = field(default_factory=set)
    objects: set[Term] = field(default_factory=set)
    reserved_changed: bool = False             # entities/ontology/lifecycle: subclass closure, labels


def changed_graphs(made: Made, work: Plan, previous: Path | None) -> tuple[list[str], list[str]] | None:
    """(graphs gone, graphs new or changed) since the previous release, or None if its store cannot
    be updated in place of a fresh load (none, or more than a quarter of the graphs changed)."""
    old = _previous_chunks(previous)
    now = {m.graph: t.cache_key for m, t in zip(made.metas, work.tasks, strict=True)}
    changed = [g for g, k in now.items() if old.get(g) != k]
    if old and previous is not None and (previous / "store").is_dir() and len(changed) <= len(now) // 4:
        return [g for g in old if g not in now], changed
    return None


def update_store(path: Path, made: Made, work: Plan, cache: Cache, previous: Path,
                 graphs: tuple[list[str], list[str]]) -> StoreUpdate:
    """The previous release's store (hard-linked backup) with only the changed graphs replaced."""
    gone, changed = graphs
    ox.Store.read_only(str(previous / "store")).backup(str(path))
    store = ox.Store(str(path))
    update = StoreUpdate("incremental")
    reserved = {work.settings.graph_iri(k) for k in RESERVED}
    for graph in gone + changed:
        _touch(update, store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        update.reserved_changed |= graph in reserved
        store.remove_graph(ox.NamedNode(graph))
    keys = {m.graph: t.cache_key for m, t in zip(made.metas, work.tasks, strict=True)}
    for graph in changed:
        data = cache.need("nq", keys[graph])[0]
        _touch(update, ox.parse(data, format=ox.RdfFormat.N_QUADS))
        store.load(data, format=ox.RdfFormat.N_QUADS)
    store.flush()
    return update


def update_or_load(path: Path, made: Made, work: Plan, cache: Cache, previous: Path,
                   graphs: tuple[list[str], list[str]], nquads: Callable[[], Iterable[bytes]],
                   say: Callable[[str], None]) -> StoreUpdate:
    """update_store, or a fresh load if the previous store cannot be opened or read (a damaged file
    its checksums do not cover: they cover the table files, verified_store): a damaged previous
    release must not fail every later build. A full disk is not retried."""
    from ..errors import disk_full
    try:
        return update_store(path, made, work, cache, previous, graphs)
    except Exception as exc:
        if disk_full(exc) is not None:
            raise
        say(f"{previous / 'store'} could not be updated ({exc}): the store is loaded afresh")
        shutil.rmtree(path, ignore_errors=True)
        return load_store(path, nquads)


def load_store(path: Path, nquads: Callable[[], Iterable[bytes]]) -> StoreUpdate:
    """A fresh bulk load of the release's N-Quads (the bodies `nquads` gives, in order), through a
    pipe: Oxigraph reads it without the GIL, while a Python stream is read ~2 KB per call, each call
    waiting for the GIL the build's other threads hold (a third slower at 100k quads)."""
    store = ox.Store(str(path))
    read, write = os.pipe()
    with ThreadPoolExecutor(1) as feeder:
        job = feeder.submit(_feed, write, nquads)
        try:
            store.bulk_load(path=f"/dev/fd/{read}", format=ox.RdfFormat.N_QUADS)
        finally:
            os.close(read)          # a failed load: the feeder's next write fails, and it stops
        job.result()                # what the feeder raised (a damaged cache entry) is the error
    store.flush()
    return StoreUpdate("fresh")


def _feed(fd: int, nquads: Callable[[], Iterable[bytes]]) -> None:
    # a broken pipe: the load stopped first, and its own error is the one to see
    with open(fd, "wb", buffering=1 << 20) as pipe, contextlib.suppress(BrokenPipeError):
        pipe.writelines(nquads())


def _crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as handle:
        while block := handle.read(16 << 20):
            crc = zlib.crc32(block, crc)
    return crc


def sst_sums(store: Path, known: dict[str, int] | None = None, known_store: Path | None = None) -> dict[str, int]:
    """CRC-32 of each of the store's table files (RocksDB never changes one once written), for the
    manifest: the next build checks them before updating a copy of this store (verified_store).
    A file hard-linked from `known_store` (update_store's backup), whose sum was just verified,
    keeps its sum without being read again."""
    out = {}
    for path in sorted(store.glob("*.sst")):
        twin = known_store / path.name if known and known_store is not None and path.name in known else None
        try:
            same = twin is not None and os.path.samefile(path, twin)
        except OSError:
            same = False
        out[path.name] = known[path.name] if same and known else _crc(path)
    return out


def verified_store(release: Path | None, recorded: dict[str, int] | None,
                   say: Callable[[str], None]) -> dict[str, int] | None:
    """`recorded` if the release's store still holds exactly those table files with those CRC-32s;
    else None, said (the new store is then loaded fresh instead of updated from a damaged one: RocksDB
    checks a block only when it reads it, and a copy would carry the damage into the new release)."""
    if release is None:
        return None
    if not recorded:
        say(f"{release / 'manifest.json'} records no store checksums: the store is loaded afresh")
        return None
    store = release / "store"
    found = sorted(p.name for p in store.glob("*.sst"))
    bad = [n for n in found if n not in recorded or _crc(store / n) != recorded[n]]
    bad += [n for n in recorded if n not in found]
    if bad:
        say(f"{store / bad[0]} (and {len(bad) - 1} more) does not match the checksum recorded for it: "
            "the store is loaded afresh")
        return None
    return recorded


def _touch(update: StoreUpdate, quads: Iterator[ox.Quad]) -> None:
    for q in quads:
        update.subjects.add(q.subject)
        update.objects.add(q.object)


def _previous_chunks(previous: Path | None) -> dict[str, str]:
    if previous is None or not (previous / "manifest.json").is_file():
        return {}
    graphs = json.loads((previous / "manifest.json").read_text(encoding="utf-8")).get("graphs", {})
    return {g["iri"]: g.get("chunk", "") for g in graphs.values()}
