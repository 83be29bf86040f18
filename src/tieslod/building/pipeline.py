"""The scalable build's middle: plan one task per named graph, make (or reuse) every chunk on both
cores, update the store incrementally, and merge the three validation reports (see shards.py)."""
from __future__ import annotations

import functools
import gc
import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Self

import pyoxigraph as ox

from ..config import Settings
from ..errors import InputError, UsageError
from ..formats import serialize_rdf
from ..model.graph import labels_of
from ..model.sources import parse_turtle
from ..validation import compiled, shards
from .bodies import gz
from .cache import Cache, key_of
from .dumpparts import Bodies, Source
from .dumps import dump_prefixes, load_context, without_triples
from .lifetime import die_with_parent
from .parts import Chunk, Task, init_worker, make_chunks, make_less
from .plan import Made, Plan
from .storeupdate import RESERVED

Progress = Callable[[str], None]
BATCH = 24            # parts per pyshacl call: amortises its per-call cost (~20 ms)
INLINE_MAX = 4        # this few parts to make: no process pool (its start-up costs more)


# Worker processes are spawned (a fresh interpreter), never forked from the build: the build runs
# threads (store checks, pruning) when its pools start, and a fork copies the locks they hold. Not
# forkserver (Python 3.14's default): its server is process-wide state that outlives the build, and
# a process that builds and then forks (`tieslod serve`'s HTTP workers) inherits a server that is
# not its child, which the query workers' own fork server then fails on (ChildProcessError).
POOL_CONTEXT = multiprocessing.get_context("spawn")
RACY_NS = 2_000_000_000     # a file written this close to when its digest was taken is hashed again


def relative(path: Path, root: Path) -> str:
    """path relative to root, as a string: by slicing when path's string starts with root's (always,
    for files input_files lists under an absolute or plain relative root), which is ~10x cheaper than
    Path.relative_to, and that ~5,000 times a rebuild."""
    base = str(root)
    name = str(path)
    if name.startswith(base + "/"):
        return name[len(base) + 1:]
    return str(path.relative_to(root))


def input_files(root: Path) -> list[Path]:
    """The files under root a build reads (hidden names skipped), sorted as Paths."""
    found = []
    for folder, _dirs, names in os.walk(root):      # os.walk: rglob + is_file cost ~0.1 s per 5k files
        found += [f"{folder}/{n}" for n in names if not n.startswith(".") and os.path.isfile(f"{folder}/{n}")]
    # sorted as strings split at "/" (the order Path comparison gives): sorting 5k Paths cost ~0.15 s
    return [Path(name) for name in sorted(found, key=lambda name: name.split("/"))]


class Digests(dict[Path, str]):
    """path -> sha256 of every input file, with the listing each root gave (input_version walks the
    same files in the same order: listing them twice cost ~0.15 s of a rebuild at 1M quads)."""

    listing: dict[Path, list[Path]]


def file_digests(settings: Settings) -> Digests:
    """sha256 of every input file. A digest an earlier build took is reused while the file's size and
    mtime (ns) are unchanged, as git's index does (hashing 5,000 files cost ~0.4 s of a 3 s rebuild);
    like git, a file whose mtime is within RACY_NS of when its digest was taken is hashed again, since
    a second write in that window could leave size and mtime as they were."""
    memo_path = settings.out_dir / "cache" / "file-digests.json"
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    now, out, seen = time.time_ns(), Digests(), {}
    out.listing = {}
    for root in (settings.data_dir, settings.ontology_dir, settings.shapes_dir):
        out.listing[root] = input_files(root)
        for path in out.listing[root]:
            stat, name = path.stat(), str(path)
            entry = memo.get(name)
            if not (entry and entry[:2] == [stat.st_size, stat.st_mtime_ns] and stat.st_mtime_ns < entry[3] - RACY_NS):
                entry = [stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest(), now]
            out[path], seen[name] = entry[2], entry
    if seen != memo and settings.out_dir.is_dir():
        memo_path.parent.mkdir(exist_ok=True)
        tmp = memo_path.with_name(f".{memo_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(seen), encoding="utf-8")
        tmp.replace(memo_path)
    return out


def _vocabulary(settings: Settings, entity_files: list[Path], ontology: Path) -> tuple[dict[str, str], bytes]:
    """Labels of entities and ontology terms, and the ontology's subclass triples."""
    onto = parse_turtle(ontology, settings.base_uri)
    labels = {**labels_of(onto.quads),
              **labels_of([q for p in entity_files for q in parse_turtle(p, settings.base_uri).quads])}
    return labels, shards.subclass_triples(onto.quads)


def _compiled_shapes(text: str, cache: Cache | None) -> None:
    """The shapes' compiled checks (compiled.py) from the cache, or compiled and cached (a worker
    process reads them from the cache too)."""
    if cache is None:
        return
    key = key_of("compiled-shapes", text)
    found = cache.get("compiled-shapes", key)
    if not isinstance(found, compiled.Split):
        found = compiled.split(text)
        cache.put("compiled-shapes", key, found)
    compiled.remember(text, found)


def plan(settings: Settings, digests: dict[Path, str], cache: Cache | None = None) -> Plan:
    """One task per named graph, each with the cache key of everything its chunk depends on."""
    data = settings.data_dir
    if not data.is_dir():
        raise UsageError(f"data directory not found: {data}")
    result = Plan(settings, digests, shapes_text=shards.load_shapes_text(settings.shapes_dir))
    entity_files = sorted((data / "entities").glob("*.ttl"))
    ontology = settings.ontology_dir / "tieslod.ttl"
    # parsing the entity files for their labels took ~0.4 s at 1M quads: cached by their digests
    vocab_key = key_of(settings.base_uri, *(digests[p] for p in [*entity_files, ontology]))
    vocab = cache.get("vocabulary", vocab_key) if cache is not None else None
    if vocab is None:
        vocab = _vocabulary(settings, entity_files, ontology)
        if cache is not None:
            cache.put("vocabulary", vocab_key, vocab)
    result.labels, result.subclass_nt = vocab
    _compiled_shapes(result.shapes_text, cache)
    shards.warn_uncovered(result.shapes_text)     # loudly: pyshacl checks what the fast path does not
    shapes_digest = hashlib.sha256(result.shapes_text.encode()).hexdigest()
    # every file a chunk's bytes depend on: labels, the JSON-LD context its graph object is compacted
    # with, the shapes it was checked against (dump parts are keyed by these keys too)
    jsonld_context = settings.ontology_dir / "context.jsonld"
    context = "".join(digests[p] for p in [*entity_files, ontology, jsonld_context] if p in digests) + shapes_digest
    common = (settings.base_uri, context)
    plain = [("entities", tuple(entity_files)), ("ontology", (ontology,)),
             ("lifecycle", tuple(p for p in [data / "lifecycle.ttl"] if p.is_file()))]
    for key, paths in plain:
        if paths:
            result.tasks.append(Task(key, "plain", paths, key_of(*common, key, *(digests[p] for p in paths))))
    articles, texts = _article_files(data, digests)
    if not articles:
        raise UsageError(f"no article files under {data / 'articles'}")
    for stem, path in articles:
        text = texts.get(stem)
        if stem in RESERVED:
            raise InputError(f"article key {stem!r} clashes with a reserved graph name", path)
        if text is None:
            raise InputError(f"no source text {stem}.txt for this article file", path)
        result.tasks.append(Task(stem, "article", (path, text), key_of(*common, stem, digests[path], digests[text])))
    result.tasks.sort(key=lambda t: t.key)
    return result


def _article_files(data: Path, digests: dict[Path, str]) -> tuple[list[tuple[str, Path]], dict[str, Path]]:
    """(key, path) of each article file, in name order, and key -> its source text, from the listing
    file_digests made (string tests on the Paths it already holds: globbing, sorting and joining
    ~5,000 Paths again cost ~0.15 s of a 1M-quad rebuild); a plain listing without one."""
    listing = getattr(digests, "listing", {}).get(data)
    if listing is None:
        found = sorted((data / "articles").glob("*.ttl"))
        return [(p.stem, p) for p in found], {p.stem: p for p in (data / "sources").glob("*.txt")}
    articles, texts = [], {}
    for path in listing:        # sorted by name within a directory, as sorted() sorts Paths
        folder, _, name = relative(path, data).rpartition("/")
        if folder == "articles" and name.endswith(".ttl"):
            articles.append((name[:-4], path))
        elif folder == "sources" and name.endswith(".txt"):
            texts[name[:-4]] = path
    return articles, texts


def _batches(tasks: list[Task]) -> Iterator[list[Task]]:
    for start in range(0, len(tasks), BATCH):
        yield tasks[start:start + BATCH]


_CHUNK_KINDS = ("nq", "union", "body", "facts", "meta")
# Per worker process: the build cache it opened once in its initializer (opening it per task cost more).
_WORKER_CACHE: list[Cache] = []


def _store_chunk(cache: Cache, chunk: Chunk, key: str) -> Chunk:
    cache.put("nq", key, (chunk.bodies.pop("nq"), chunk.gz.pop("nq")))
    union = {k: chunk.bodies.pop(k) for k in ("nt", "ttl")}, {k: chunk.gz.pop(k) for k in ("nt", "ttl")}
    cache.put("union", key, union)
    cache.put("body", key, (chunk.bodies, chunk.gz))
    cache.put("facts", key, chunk.facts)
    meta = replace(chunk, bodies={}, gz={}, facts=b"")
    cache.put("meta", key, meta)
    return meta


def _init(cache_root: Path, *args: object) -> None:
    gc.enable()     # off in the building process (build._collector_paused); a worker runs rdflib code
    _WORKER_CACHE[:] = [Cache(cache_root)]
    checker = args[-1]
    if isinstance(checker, shards.LocalChecker):
        _compiled_shapes(checker.shapes_text, _WORKER_CACHE[0])
    init_worker(*args)  # type: ignore[arg-type]


def _pool_init(parent: int, *args: object) -> None:
    die_with_parent(parent)
    _init(*args)  # type: ignore[arg-type]


def _make_stored(batch: list[tuple[Task, str]]) -> list[Chunk]:
    """Worker entry point: make the chunks and write their cache entries here, returning only the
    metadata; passing the bodies back to the main process to pickle them again cost it ~9 CPU-s at
    1M quads, on a core the workers needed."""
    chunks = make_chunks([task for task, _ in batch])
    return [_store_chunk(_WORKER_CACHE[0], chunk, key) for chunk, (_, key) in zip(chunks, batch, strict=True)]


class Workers:
    """The build's two worker processes, spawned on first use and shared by the chunks and the union
    pieces (spawning a second pair cost ~1 s of a loaded 2-core machine). A context manager."""

    def __init__(self) -> None:
        self.args: tuple[object, ...] = ()
        self.pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1)), mp_context=POOL_CONTEXT,
                                            initializer=functools.partial(_pool_init, os.getpid(), *self.args))
        return self.pool

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def make_all(work: Plan, cache: Cache, progress: Progress, workers: Workers | None = None) -> Made:
    metas: dict[str, Chunk] = {}
    todo = []
    for task in work.tasks:
        # A chunk's metadata is written last (_store_chunk), and a build marks all five entries of a
        # chunk used or none, so the others exist where it does (checking 10k files took ~0.1 s).
        meta = cache.get("meta", task.cache_key)
        if meta is not None:
            for kind in ("body", "nq", "union", "facts"):
                cache.keep(kind, task.cache_key)
            metas[task.key] = meta
        else:
            todo.append(task)
    unchanged = len(work.tasks) - len(todo)
    progress(f"{len(todo)} of {len(work.tasks)} graphs to make (one per article, plus the entities and the "
             f"ontology); {unchanged} unchanged since an earlier build" if todo else
             f"all {len(work.tasks)} graphs unchanged since an earlier build")
    settings = work.settings
    args = (cache.root, settings, work.labels, load_context(settings)["@context"], dump_prefixes(settings),
            shards.LocalChecker(work.shapes_text, work.subclass_nt))
    batches = [[(t, t.cache_key) for t in batch] for batch in _batches(todo)]
    own = workers is None
    workers = workers if workers is not None else Workers()
    workers.args = args
    if len(todo) <= INLINE_MAX:
        _init(*args)
        _collect(map(_make_stored, batches), metas, cache, progress, len(todo))
    else:
        _collect(workers.get().map(_make_stored, batches), metas, cache, progress, len(todo))
    if own:
        workers.__exit__()
    for task in todo:     # written by the workers: this build used them (Cache.prune)
        for kind in _CHUNK_KINDS:
            cache.keep(kind, task.cache_key)
    return Made([metas[t.key] for t in work.tasks], {t.key for t in todo})


def _collect(results: Iterator[list[Chunk]], metas: dict[str, Chunk], cache: Cache, progress: Progress,
             total: int) -> None:
    done, last = 0, time.monotonic()
    for batch in results:
        for chunk in batch:
            metas[chunk.key] = chunk
        done += len(batch)
        if time.monotonic() - last > 2 or done == total:
            progress(f"making graphs: {done}/{total}")
            last = time.monotonic()


def nq_bodies(cache: Cache, work: Plan) -> Iterator[Source]:
    """Each chunk's N-Quads piece (key, loader of the body and its gzip member), in graph-key order."""
    for task in work.tasks:
        yield {"nq": "nq:" + task.cache_key}, _loader(cache, "nq", task.cache_key, "nq")


def bodies(cache: Cache, work: Plan) -> Iterator[Source]:
    """Each chunk's TriG and JSON-LD pieces in graph-key order; a body is loaded only if the previous
    release does not hold its part (dumpparts.py), one at a time (memory stays flat)."""
    for task in work.tasks:
        key = task.cache_key
        yield {"trig": "trig:" + key, "jsonld": "jsonld:" + key}, _loader(cache, "body", key)


def _loader(cache: Cache, kind: str, key: str, body: str = "") -> Callable[[], Bodies]:
    cache.keep(kind, key)     # a reused part's pieces still need their entries: the next build may not reuse it

    def load() -> Bodies:
        found = cache.need(kind, key)
        # the "nq" entry holds one (body, member) pair, the others dicts by kind
        return ({body: found[0]}, {body: found[1]}) if body else found
    return load


class UnionPieces:
    """Each chunk's N-Triples and Turtle pieces, without the triples an earlier graph states: those
    re-made bodies are cached by chunk and dropped triples, so a build remakes only new combinations,
    and their piece keys name the dropped triples too (a chunk's bodies differ with them). Many to
    remake (a full build): made ahead in two worker processes from the moment this is made, so they
    are ready when the union dumps are written; each piece waits only for its own. A context manager:
    leaving it stops the workers."""

    def __init__(self, cache: Cache, work: Plan, made: Made, drop: dict[str, set[ox.Triple]],
                 workers: Workers) -> None:
        self.cache, self.work, self.made, self.drop = cache, work, made, drop
        self.prefixes = dump_prefixes(work.settings)
        self.pieces = []
        for task, meta in zip(work.tasks, made.metas, strict=True):
            dropped = sorted(serialize_rdf([t], ox.RdfFormat.N_TRIPLES) for t in drop.get(meta.graph, ()))
            self.pieces.append((task, meta, key_of(task.cache_key, *dropped), b"".join(dropped)))
        jobs = [(cache.base, t.cache_key, key, nt, self.prefixes) for t, m, key, nt in self.pieces
                if m.graph in drop and not cache.has("union-less", key)
                and not any(isinstance(x, ox.BlankNode) for d in drop[m.graph] for x in (d.subject, d.object))]
        # (blank nodes: N-Triples would not carry their identity to a worker; those are made here)
        pool = workers.get() if len(jobs) > INLINE_MAX else None
        self.ahead = {job[2]: pool.submit(make_less, job) for job in jobs} if pool is not None else {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        for job in self.ahead.values():     # (the pool is the build's: Workers stops it)
            job.cancel()

    def __iter__(self) -> Iterator[Source]:
        for task, meta, key, _nt in self.pieces:
            if meta.graph not in self.drop:
                yield {"nt": "nt:" + task.cache_key, "ttl": "ttl:" + task.cache_key}, \
                    _loader(self.cache, "union", task.cache_key)
            else:
                yield {"nt": "nt-less:" + key, "ttl": "ttl-less:" + key}, \
                    _union_less(self.cache, task, key, self.drop[meta.graph], self.prefixes, self.ahead.get(key))


def _union_less(cache: Cache, task: Task, key: str, drop: set[ox.Triple], prefixes: dict[str, str],
                ahead: Future[None] | None = None) -> Callable[[], Bodies]:
    cache.keep("union-less", key)

    def load() -> Bodies:
        if ahead is not None:
            ahead.result()          # a worker is making it (or has): wait for that one only
        found = cache.get("union-less", key)
        if found is None:
            full, _gzs = cache.need("union", task.cache_key)
            less = without_triples(full["nt"], drop, prefixes)
            found = less, {k: gz(v) for k, v in less.items()}
            cache.put("union-less", key, found)
        return found
    return load


def facts_reader(cache: Cache, work: Plan) -> Callable[[int], bytes]:
    return lambda i: cache.need("facts", work.tasks[i].cache_key)
