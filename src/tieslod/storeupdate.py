"""The release store: the previous release's store with only the changed graphs replaced, or a fresh
bulk load; and what changed, so the cross-document checks look only near it (pipeline.cross_focus)."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .cache import Cache

if TYPE_CHECKING:
    from .pipeline import Made, Plan

RESERVED = ("entities", "ontology", "lifecycle")


@dataclass
class StoreUpdate:
    """How the release store was made, and for an incremental update the nodes whose triples changed
    (subjects and objects of every quad removed or added): the cross-document rules need only look
    near them (validate_all)."""

    mode: str                                  # "fresh" or "incremental"
    subjects: set[ox.Term] = field(default_factory=set)
    objects: set[ox.Term] = field(default_factory=set)
    reserved_changed: bool = False             # entities/ontology/lifecycle: subclass closure, labels


def changed_graphs(made: Made, work: Plan, previous: Path | None) -> tuple[list[str], list[str]] | None:
    """(graphs gone, graphs new or changed) since the previous release, or None if its store cannot
    be updated in place of a fresh load (none, or more than a quarter of the graphs changed)."""
    old = _previous_chunks(previous)
    now = {m.graph: t.cache_key for m, t in zip(made.metas, work.tasks)}
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
    keys = {m.graph: t.cache_key for m, t in zip(made.metas, work.tasks)}
    for graph in changed:
        data = cache.need("nq", keys[graph])[0]
        _touch(update, ox.parse(data, format=ox.RdfFormat.N_QUADS))
        store.load(data, format=ox.RdfFormat.N_QUADS)
    store.flush()
    return update


def load_store(path: Path, nquads: Callable[[], Path]) -> StoreUpdate:
    """A fresh bulk load of the N-Quads dump; `nquads` gives it once it is complete."""
    store = ox.Store(str(path))
    store.bulk_load(path=str(nquads()), format=ox.RdfFormat.N_QUADS)
    store.flush()
    return StoreUpdate("fresh")


def _touch(update: StoreUpdate, quads: Iterator[ox.Quad]) -> None:
    for q in quads:
        update.subjects.add(q.subject)
        update.objects.add(q.object)


def _previous_chunks(previous: Path | None) -> dict[str, str]:
    if previous is None or not (previous / "manifest.json").is_file():
        return {}
    graphs = json.loads((previous / "manifest.json").read_text(encoding="utf-8")).get("graphs", {})
    return {g["iri"]: g.get("chunk", "") for g in graphs.values()}
