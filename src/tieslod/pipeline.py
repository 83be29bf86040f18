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
from .chunks import Chunk, Task, init_worker, make_chunks
from .config import Settings
from .dumps import dump_prefixes, load_context
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
    cache.put("body", key, (chunk.bodies, chunk.gz, chunk.facts))
    meta = replace(chunk, bodies={}, gz={}, facts=b"")
    cache.put("meta", key, meta)
    return meta


def make_all(work: Plan, cache: Cache, progress: Progress) -> Made:
    metas: dict[str, Chunk] = {}
    todo = []
    for task in work.tasks:
        meta = cache.get("meta", task.cache_key)
        if meta is not None and cache.has("body", task.cache_key) and cache.has("nq", task.cache_key):
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


def nq_bodies(cache: Cache, work: Plan) -> Iterator[tuple[dict[str, bytes], dict[str, bytes], bytes]]:
    """Each chunk's N-Quads (and its gzip member), in graph-key order, one at a time."""
    for task in work.tasks:
        nq, member = cache.get("nq", task.cache_key)
        yield {"nq": nq}, {"nq": member}, b""


def bodies(cache: Cache, work: Plan, made: Made,
           with_nq: set[str]) -> Iterator[tuple[dict[str, bytes], dict[str, bytes], bytes]]:
    """Each chunk's other bodies in graph-key order, one at a time (memory stays flat); the N-Quads
    too for the graphs whose union bodies must be re-made."""
    for task, meta in zip(work.tasks, made.metas):
        body, members, facts = cache.get("body", task.cache_key)
        if meta.graph in with_nq:
            body = {**body, "nq": cache.get("nq", task.cache_key)[0]}
        yield body, members, facts


# ---------------------------------------------------------------- store

def write_store(path: Path, made: Made, work: Plan, cache: Cache, previous: Path | None,
                nquads: Path) -> str:
    """A fresh bulk load of the N-Quads dump, or the previous release's store (hard-linked backup)
    with only the changed graphs replaced. Returns "fresh" or "incremental"."""
    old = _previous_chunks(previous)
    now = {m.graph: t.cache_key for m, t in zip(made.metas, work.tasks)}
    changed = [g for g, k in now.items() if old.get(g) != k]
    if old and previous is not None and (previous / "store").is_dir() and len(changed) <= len(now) // 4:
        ox.Store.read_only(str(previous / "store")).backup(str(path))
        store = ox.Store(str(path))
        for graph in [g for g in old if g not in now] + changed:
            store.remove_graph(ox.NamedNode(graph))
        for graph, key in now.items():
            if graph in changed:
                store.load(cache.get("nq", key)[0], format=ox.RdfFormat.N_QUADS)
        store.flush()
        return "incremental"
    store = ox.Store(str(path))
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    store.flush()
    return "fresh"


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


def locations(metas: list[Chunk]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for m in metas:
        for s in m.subjects:
            out.setdefault(s, Path(m.origins.get(s, m.origin)))
    return out


def validate_all(store: ox.Store, made: Made, work: Plan, cache: Cache, shared: list[str],
                 shared_q: list[ox.Quad]) -> list[Violation]:
    """Local results (minus shared nodes) + the shared shard + cross-document SPARQL, sorted."""
    skip = set(shared)
    found = [v for m in made.metas for v in m.violations if v.focus not in skip]
    where = locations(made.metas)
    key = shards.shared_key(shared_q, work.shapes_text, work.subclass_nt)
    cached = cache.get("shared", key)
    if cached is None:
        cached = shards.run_shared(shared_q, work.shapes_text, work.subclass_nt, where)
        cache.put("shared", key, cached)
    found += cached + shards.run_cross(store, work.shapes_text, where)
    return sorted(set(found), key=lambda v: (v.file, v.line or 0, v.focus, v.message, v.path, v.value))
