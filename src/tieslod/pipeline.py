"""The scalable build's middle: plan one task per named graph, make (or reuse) every chunk on both
cores, update the store incrementally, and merge the three validation reports (see shards.py)."""
from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox

from . import shards
from .cache import Cache, key_of
from .chunks import Chunk, Task, gz, init_worker, make_chunks
from .config import Settings
from .dumps import dump_prefixes, load_context, without_triples
from .errors import InputError, UsageError
from .graph import _labels
from .sources import parse_turtle
from .validation import Violation

Progress = Callable[[str], None]
BATCH = 24            # parts per pyshacl call: amortises its per-call cost (~20 ms)
INLINE_MAX = 4        # this few parts to make: no process pool (its start-up costs more)
RESERVED = ("entities", "ontology", "lifecycle")


@dataclass
class Plan:
    settings: Settings
    digests: dict[Path, str]                  # every input file -> sha256
    tasks: list[Task] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    shapes_text: str = ""
    subclass_nt: bytes = b""


def file_digests(settings: Settings) -> dict[Path, str]:
    out = {}
    for root in (settings.data_dir, settings.ontology_dir, settings.shapes_dir):
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                out[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def plan(settings: Settings, digests: dict[Path, str]) -> Plan:
    """One task per named graph, each with the cache key of everything its chunk depends on."""
    data = settings.data_dir
    if not data.is_dir():
        raise UsageError(f"data directory not found: {data}")
    result = Plan(settings, digests, shapes_text=shards.load_shapes_text(settings.shapes_dir))
    entity_files = sorted((data / "entities").glob("*.ttl"))
    ontology = settings.ontology_dir / "tieslod.ttl"
    onto = parse_turtle(ontology, settings.base_uri)
    result.labels = {**_labels(onto.quads),
                     **_labels([q for p in entity_files for q in parse_turtle(p, settings.base_uri).quads])}
    result.subclass_nt = shards.subclass_triples(onto.quads)
    shapes_digest = hashlib.sha256(result.shapes_text.encode()).hexdigest()
    context = "".join(digests[p] for p in [*entity_files, ontology]) + shapes_digest
    common = (settings.base_uri, context)
    plain = [("entities", tuple(entity_files)), ("ontology", (ontology,)),
             ("lifecycle", tuple(p for p in [data / "lifecycle.ttl"] if p.is_file()))]
    for key, paths in plain:
        if paths:
            result.tasks.append(Task(key, "plain", paths, key_of(*common, key, *(digests[p] for p in paths))))
    articles = sorted((data / "articles").glob("*.ttl"))
    if not articles:
        raise UsageError(f"no article files under {data / 'articles'}")
    for path in articles:
        text = data / "sources" / f"{path.stem}.txt"
        if path.stem in RESERVED:
            raise InputError(f"article key {path.stem!r} clashes with a reserved graph name", path)
        if not text.is_file():
            raise InputError(f"no source text {text.name} for this article file", path)
        result.tasks.append(Task(path.stem, "article", (path, text),
                                 key_of(*common, path.stem, digests[path], digests[text])))
    result.tasks.sort(key=lambda t: t.key)
    return result


@dataclass
class Made:
    """What the rest of the build needs of every chunk (its bodies stay on disk until the dumps)."""

    metas: list[Chunk]               # in graph-key order, bodies emptied
    remade: set[str]                 # keys of parts made in this build


def _batches(tasks: list[Task]) -> Iterator[list[Task]]:
    for start in range(0, len(tasks), BATCH):
        yield tasks[start:start + BATCH]


def _store_chunk(cache: Cache, chunk: Chunk, key: str) -> Chunk:
    cache.put("nq", key, (chunk.bodies.pop("nq"), chunk.gz.pop("nq")))
    union = {k: chunk.bodies.pop(k) for k in ("nt", "ttl")}, {k: chunk.gz.pop(k) for k in ("nt", "ttl")}
    cache.put("union", key, union)
    cache.put("body", key, (chunk.bodies, chunk.gz))
    cache.put("facts", key, chunk.facts)
    meta = replace(chunk, bodies={}, gz={}, facts=b"")
    cache.put("meta", key, meta)
    return meta


def make_all(work: Plan, cache: Cache, progress: Progress) -> Made:
    metas: dict[str, Chunk] = {}
    todo = []
    for task in work.tasks:
        meta = cache.get("meta", task.cache_key)
        if meta is not None and all(cache.has(kind, task.cache_key) for kind in ("body", "nq", "union", "facts")):
            metas[task.key] = meta
        else:
            todo.append(task)
    progress(f"chunks: {len(work.tasks) - len(todo)} cached, {len(todo)} to make")
    settings = work.settings
    args = (settings, work.labels, load_context(settings)["@context"], dump_prefixes(settings),
            shards.LocalChecker(work.shapes_text, work.subclass_nt))
    keys = {t.key: t.cache_key for t in todo}
    if len(todo) <= INLINE_MAX:
        init_worker(*args)
        results: Iterator[list[Chunk]] = iter([make_chunks(todo)] if todo else [])
        _collect(results, metas, keys, cache, progress, len(todo))
    else:
        workers = max(1, min(2, os.cpu_count() or 1))
        with ProcessPoolExecutor(workers, initializer=init_worker, initargs=args) as pool:
            _collect(pool.map(make_chunks, _batches(todo)), metas, keys, cache, progress, len(todo))
    return Made([metas[t.key] for t in work.tasks], set(keys))


def _collect(results: Iterator[list[Chunk]], metas: dict[str, Chunk], keys: dict[str, str], cache: Cache,
             progress: Progress, total: int) -> None:
    done, last = 0, time.monotonic()
    for batch in results:
        for chunk in batch:
            metas[chunk.key] = _store_chunk(cache, chunk, keys[chunk.key])
        done += len(batch)
        if time.monotonic() - last > 2 or done == total:
            progress(f"chunks: {done}/{total} made")
            last = time.monotonic()


def nq_bodies(cache: Cache, work: Plan) -> Iterator[tuple[dict[str, bytes], dict[str, bytes]]]:
    """Each chunk's N-Quads (and its gzip member), in graph-key order, one at a time."""
    for task in work.tasks:
        nq, member = cache.get("nq", task.cache_key)
        yield {"nq": nq}, {"nq": member}


def bodies(cache: Cache, work: Plan) -> Iterator[tuple[dict[str, bytes], dict[str, bytes]]]:
    """Each chunk's TriG and JSON-LD bodies in graph-key order, one at a time (memory stays flat)."""
    for task in work.tasks:
        yield cache.get("body", task.cache_key)


def union_bodies(cache: Cache, work: Plan, made: Made,
                 drop: dict[str, set[ox.Triple]]) -> Iterator[tuple[dict[str, bytes], dict[str, bytes]]]:
    """Each chunk's N-Triples and Turtle bodies, without the triples an earlier graph states: those
    re-made bodies are cached by chunk and dropped triples, so a build remakes only new combinations."""
    prefixes = dump_prefixes(work.settings)
    for task, meta in zip(work.tasks, made.metas):
        if meta.graph not in drop:
            yield cache.get("union", task.cache_key)
            continue
        dropped = sorted(ox.serialize([t], format=ox.RdfFormat.N_TRIPLES) for t in drop[meta.graph])
        key = key_of(task.cache_key, *dropped)
        found = cache.get("union-less", key)
        if found is None:
            (full, _gzs), nquads = cache.get("union", task.cache_key), cache.get("nq", task.cache_key)[0]
            less = without_triples(full["nt"], nquads, drop[meta.graph], prefixes)
            found = less, {k: gz(v) for k, v in less.items()}
            cache.put("union-less", key, found)
        yield found


def facts_reader(cache: Cache, work: Plan) -> Callable[[int], bytes]:
    return lambda i: cache.get("facts", work.tasks[i].cache_key)


# ---------------------------------------------------------------- store

@dataclass
class StoreUpdate:
    """How the release store was made, and for an incremental update the nodes whose triples changed
    (subjects and objects of every quad removed or added): the cross-document rules need only look
    near them (validate_all)."""

    mode: str                                  # "fresh" or "incremental"
    subjects: set[ox.Term] = field(default_factory=set)
    objects: set[ox.Term] = field(default_factory=set)
    reserved_changed: bool = False             # entities/ontology/lifecycle: subclass closure, labels


def write_store(path: Path, made: Made, work: Plan, cache: Cache, previous: Path | None,
                nquads: Path) -> StoreUpdate:
    """A fresh bulk load of the N-Quads dump, or the previous release's store (hard-linked backup)
    with only the changed graphs replaced."""
    old = _previous_chunks(previous)
    now = {m.graph: t.cache_key for m, t in zip(made.metas, work.tasks)}
    changed = [g for g, k in now.items() if old.get(g) != k]
    if old and previous is not None and (previous / "store").is_dir() and len(changed) <= len(now) // 4:
        ox.Store.read_only(str(previous / "store")).backup(str(path))
        store = ox.Store(str(path))
        update = StoreUpdate("incremental")
        reserved = {work.settings.graph_iri(k) for k in RESERVED}
        for graph in [g for g in old if g not in now] + changed:
            _touch(update, store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
            update.reserved_changed |= graph in reserved
            store.remove_graph(ox.NamedNode(graph))
        for graph, key in now.items():
            if graph in changed:
                data = cache.get("nq", key)[0]
                _touch(update, ox.parse(data, format=ox.RdfFormat.N_QUADS))
                store.load(data, format=ox.RdfFormat.N_QUADS)
        store.flush()
        return update
    store = ox.Store(str(path))
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    store.flush()
    return StoreUpdate("fresh")


def _touch(update: StoreUpdate, quads: Iterator[ox.Quad]) -> None:
    for q in quads:
        update.subjects.add(q.subject)
        update.objects.add(q.object)


def _previous_chunks(previous: Path | None) -> dict[str, str]:
    import json
    if previous is None or not (previous / "manifest.json").is_file():
        return {}
    graphs = json.loads((previous / "manifest.json").read_text(encoding="utf-8")).get("graphs", {})
    return {g["iri"]: g.get("chunk", "") for g in graphs.values()}


# ---------------------------------------------------------------- validation

def shared_subjects(metas: list[Chunk]) -> list[str]:
    seen = Counter(s for m in metas for s in m.subjects)
    return sorted(s for s, n in seen.items() if n > 1)


class _Paths(dict):
    """node -> file, kept as strings: a Path per node cost seconds at a million triples, and only the
    few nodes a report names are ever looked up."""

    def get(self, key: str, default: Path | None = None) -> Path | None:  # type: ignore[override]
        found = super().get(key)
        return Path(found) if found is not None else default


def locations(metas: list[Chunk]) -> dict[str, Path]:
    out = _Paths()
    for m in metas:
        origins = m.origins
        for s in m.subjects:
            if s not in out:
                dict.__setitem__(out, s, origins.get(s, m.origin))
    return out


FOCUS_MAX = 50_000    # more nodes near the change than this: checking the whole store is as cheap


def cross_focus(store: ox.Store, update: StoreUpdate) -> list[str] | None:
    """The nodes whose cross-document results an incremental update can have changed, or None for all.

    Every cross-document rule (shards.cross_rules) looks one hop from its focus node: the node's own
    triples (its types, its values), the triples of its values (their types and labels) and the
    triples that point at it (a claim's tl:tie). So a result can only change for a node whose triples
    changed, a node some changed triple points at, or a node pointing at a node whose triples changed.
    Everywhere else the previous release's results stand, and they were empty: a release exists only
    if it conforms. A change to the entities, ontology or lifecycle graph (subclass closure, labels used
    everywhere) or to blank nodes (which no query can name) means checking everything."""
    if update.mode != "incremental" or update.reserved_changed:
        return None
    near = update.subjects | {o for o in update.objects if not isinstance(o, ox.Literal)}
    if any(isinstance(n, ox.BlankNode) for n in near):
        return None
    subjects = sorted(s.value for s in update.subjects)
    found = {n.value for n in near}
    for start in range(0, len(subjects), 5000):
        values = " ".join(f"<{s}>" for s in subjects[start:start + 5000])
        query = f"SELECT DISTINCT ?x WHERE {{ VALUES ?s {{ {values} }} ?x ?p ?s }}"
        found.update(r["x"].value for r in store.query(query, use_default_graph_as_union=True)
                     if isinstance(r["x"], ox.NamedNode))
        if len(found) > FOCUS_MAX:
            return None
    return sorted(found)


def validate_all(store: ox.Store, made: Made, work: Plan, cache: Cache, shared: list[str],
                 shared_q: list[ox.Quad], update: StoreUpdate) -> list[Violation]:
    """Local results (minus shared nodes) + the shared shard + cross-document SPARQL, sorted."""
    skip = set(shared)
    found = [v for m in made.metas for v in m.violations if v.focus not in skip]
    where = locations(made.metas)
    key = shards.shared_key(shared_q, work.shapes_text, work.subclass_nt)
    cached = cache.get("shared", key)
    if cached is None:
        cached = shards.run_shared(shared_q, work.shapes_text, work.subclass_nt, where)
        cache.put("shared", key, cached)
    found += cached + shards.run_cross(store, work.shapes_text, where, cross_focus(store, update))
    return sorted(set(found), key=lambda v: (v.file, v.line or 0, v.focus, v.message, v.path, v.value))
