"""`tieslod build`: validate, then write every dump, checksums, the VoID/DCAT description and the
Oxigraph store into a new release directory, and only then switch `current` to it (atomic)."""
from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from . import __version__
from .config import Settings
from . import shards
from .cache import Cache
from .describe import TIE_CLASSES, FileInfo, counts, describe
from .csvrows import Table, claims_csv
from .dumps import DUMP_KINDS, dump_prefixes, duplicate_triples, write_chunked
from .splice import load_index, write_index
from .pipeline import (Made, Plan, bodies, facts_reader, file_digests, input_files, make_all, nq_bodies, plan,
                       shared_quads, shared_subjects, union_bodies, validate_all, write_store)
from .errors import NonConformance
from .formats import CSV_DUMP, Format, rdf_format
from .graph import Dataset, assemble
from .ledger import enforce as enforce_ledger
from .sources import read_inputs
from .validation import Report, validate
from .vocab import TL

DUMP_NAMES: tuple[tuple[str, Format], ...] = tuple(
    [(f"tieslod.{rdf_format(name).extension}", rdf_format(name))
     for name in ("turtle", "jsonld", "ntriples", "nquads", "trig")] + [("tieslod-claims.csv", CSV_DUMP)])
KEEP_RELEASES = 3

Progress = Callable[[str], None]
T = TypeVar("T")


@dataclass
class BuildResult:
    release_dir: Path
    version: str
    counts: dict[str, int]
    files: list[FileInfo] = field(default_factory=list)
    reused: bool = False
    report: Report | None = None


def _files_under(root: Path) -> Iterator[Path]:
    yield from input_files(root)


def input_version(settings: Settings, digests: dict[Path, str] | None = None) -> str:
    """A content hash of everything a build reads: same inputs, same version, same bytes out."""
    digests = digests if digests is not None else file_digests(settings)
    digest = hashlib.sha256(f"{__version__}\n{settings.base_uri}\n{settings.release_name}\n".encode())
    for root in (settings.data_dir, settings.ontology_dir, settings.shapes_dir):
        for path in _files_under(root):
            digest.update(f"{path.relative_to(root)}\n".encode())
            digest.update(bytes.fromhex(digests[path]) if path in digests
                          else hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def current_release(settings: Settings) -> Path | None:
    link = settings.out_dir / "current"
    if not link.exists():
        return None
    return link.resolve()


@contextlib.contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    """One build at a time per output directory."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _file_info(path: Path, media_type: str, encoding: str = "") -> FileInfo:
    data = path.read_bytes()
    return FileInfo(path.name, media_type, len(data), hashlib.sha256(data).hexdigest(), encoding)


def _switch(out_dir: Path, release: Path) -> None:
    """Point out_dir/current at release in one rename, so readers never see a half state."""
    tmp_link = out_dir / ".current.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(os.path.relpath(release, out_dir), tmp_link)
    os.replace(tmp_link, out_dir / "current")


def _prune(releases: Path, keep: Path) -> None:
    """Keep a few old releases: a server may still be answering a request from one."""
    old = sorted((p for p in releases.iterdir() if p.is_dir() and p != keep and not p.name.startswith(".")),
                 key=lambda p: p.stat().st_mtime, reverse=True)
    for path in old[KEEP_RELEASES:]:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in releases.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def load_manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text(encoding="utf-8"))


class _Stages:
    """Names each stage for the progress callback and records its wall time (manifest, benchmarks)."""

    def __init__(self, say: Progress) -> None:
        self.say, self.times = say, {}
        self.start = time.monotonic()

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.say(name)
        began = time.monotonic()
        yield
        # a stage may come in several parts (the dumps): its time is their sum
        self.times[name] = round(self.times.get(name, 0.0) + time.monotonic() - began, 3)

    def timed(self, name: str, func: Callable[..., T], *args: object) -> T:
        """Run func(*args) as the stage `name` (from a worker thread: times only, no progress line)."""
        began = time.monotonic()
        try:
            return func(*args)
        finally:
            self.times[name] = round(time.monotonic() - began, 3)


def _reuse(settings: Settings, target: Path, version: str) -> BuildResult:
    _switch(settings.out_dir, target)
    manifest = load_manifest(target)
    return BuildResult(target, version, manifest["counts"], [FileInfo(**f) for f in manifest["files"]], reused=True)


def build(settings: Settings, progress: Progress | None = None, force: bool = False) -> BuildResult:
    """Build the dataset into settings.out_dir; on any error the previous release stays current.

    Scales by never holding the dataset in one process: each named graph becomes a cached chunk
    (pipeline.py, chunks.py), the store is updated in place of a full load when few graphs changed,
    validation is sharded (shards.py), and every dump is a concatenation of chunk bodies (dumps.py).
    """
    stage = _Stages(progress or (lambda _msg: None))
    with _lock(settings.out_dir):
        with stage("read"):
            digests = file_digests(settings)
            version = input_version(settings, digests)
            releases = settings.out_dir / "releases"
            target = releases / version
            if not force and target.is_dir() and (target / "manifest.json").is_file():
                return _reuse(settings, target, version)
            cache = Cache(settings.out_dir / "cache")
            work = plan(settings, digests, cache)
        with stage("chunks"):
            made = make_all(work, cache, stage.say)
        releases.mkdir(parents=True, exist_ok=True)
        tmp = releases / f".tmp-{version}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            result = _write_release(work, made, cache, tmp, version, settings, stage)
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        result.release_dir = target
        _switch(settings.out_dir, target)
        _prune(releases, target)
        cache.prune()
        stage.say("done")
        return result


def _write_release(work: Plan, made: Made, cache: Cache, tmp: Path, version: str, settings: Settings,
                   stage: _Stages) -> BuildResult:
    dumps = tmp / "dumps"
    dumps.mkdir(parents=True)
    graphs = [m.graph for m in made.metas]
    previous = current_release(settings)
    old = load_index(previous)     # unchanged pieces are copied from its dumps (splice.py)
    with stage("dump tieslod.nq"):
        sinks = write_chunked(dumps, ("nq",), nq_bodies(cache, work), settings, old)
    # The store loads in a thread while this one writes the dumps that need nothing from it: Oxigraph
    # releases the GIL and its bulk load mostly waits on the disk (~7 CPU-s of 19 s wall at 1M quads).
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(stage.timed, "store", write_store, tmp / "store", made, work, cache,
                              previous, dumps / "tieslod.nq")
        with stage("dumps"):
            sinks.update(write_chunked(dumps, ("jsonld", "trig"), bodies(cache, work), settings, old))
            csv = claims_csv(Table(made.metas, [t.cache_key for t in work.tasks], facts_reader(cache, work)), cache)
            (dumps / "tieslod-claims.csv").write_bytes(csv)
            (dumps / "tieslod-claims.csv.gz").write_bytes(gzip.compress(csv, compresslevel=6, mtime=0))
        update = loading.result()
    store = ox.Store(str(tmp / "store"))
    with stage("validate"):
        shared = shared_subjects(made.metas)
        shared_q = shared_quads(store, made, work, cache, shared)
        violations = validate_all(store, made, work, cache, shared, shared_q, update)
        enforce_ledger(store, settings, stage.say)   # a published URI may never silently disappear
        del store
        if violations:
            report = Report(violations, sum(m.quads for m in made.metas))
            raise NonConformance(f"the data does not conform: {len(violations)} violation(s)", report)
    with stage("dumps"):
        drop = duplicate_triples(shared_q, graphs)
        sinks.update(write_chunked(dumps, ("ttl", "nt"), union_bodies(cache, work, made, drop), settings, old))
    write_index(tmp, sinks)
    infos = _infos(dumps, sinks)
    counts = _summary_counts(made, drop)
    with stage("describe"):
        summary = (counts, [(m.key, ox.NamedNode(m.graph), m.quads) for m in made.metas])
        void = ox.serialize(describe(None, infos, version, settings, summary), format=ox.RdfFormat.TURTLE,
                            prefixes=dump_prefixes(settings))
        (dumps / "void.ttl").write_bytes(void)
        infos.append(_file_info(dumps / "void.ttl", "text/turtle"))
        (dumps / "SHA256SUMS").write_text("".join(f"{i.sha256}  {i.name}\n" for i in infos))
    manifest = {"version": version, "release_name": settings.release_name, "base_uri": settings.base_uri,
                "tieslod": __version__, "counts": counts,
                "graphs": {m.key: {"iri": m.graph, "quads": m.quads, "digest": m.digest, "chunk": t.cache_key}
                           for m, t in sorted(zip(made.metas, work.tasks), key=lambda x: x[0].key)},
                "files": [i.__dict__ for i in infos],
                "build": {"store": update.mode, "remade": len(made.remade), "stages": stage.times}}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return BuildResult(tmp, version, counts, infos, report=Report([], manifest["counts"]["quads"]))


def _infos(dumps: Path, sinks: dict) -> list[FileInfo]:
    infos = []
    for name, fmt in DUMP_NAMES:
        if fmt is CSV_DUMP:
            infos += [_file_info(dumps / name, fmt.media_type), _file_info(dumps / f"{name}.gz", "application/gzip", "gzip")]
            continue
        sink = sinks[next(k for k, f in DUMP_KINDS.items() if f == fmt.name)]
        infos += [FileInfo(name, fmt.media_type, sink.size, sink.sha.hexdigest()),
                  FileInfo(f"{name}.gz", "application/gzip", sink.gz_size, sink.gz_sha.hexdigest(), "gzip")]
    return infos


def _summary_counts(made: Made, drop: dict[str, set[ox.Triple]]) -> dict[str, int]:
    """The counts describe.counts() gives, from chunk metadata instead of the quads."""
    def typed(*classes: str) -> set[str]:
        return {s for m in made.metas for c in classes for s in m.typed.get(c, ())}
    quads = sum(m.quads for m in made.metas)
    ties = typed(*(TL + c for c in TIE_CLASSES))
    entities = next((len(m.subjects) for m in made.metas if m.key == "entities"), 0)
    return {"quads": quads, "triples": quads - sum(len(d) for d in drop.values()),
            "claims": len(typed(TL + "Claim")), "sources": len(typed(TL + "Source")),
            "ties": len(ties), "entities": entities}


def ensure_built(settings: Settings, progress: Progress | None = None) -> Path:
    """The current release, building it first if there is none or the inputs changed."""
    current = current_release(settings)
    if current is not None and current.name == input_version(settings):
        return current
    return build(settings, progress).release_dir
