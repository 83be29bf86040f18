"""`tieslod build`: validate, then write every dump, checksums, the VoID/DCAT description and the
Oxigraph store into a new release directory, and only then switch `current` to it (atomic)."""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from ..config import Settings, __version__
from ..errors import DamagedCache, DiskFull, IncompleteRelease, NonConformance, disk_full
from ..formats import CSV_DUMP, Format, media_type, rdf_format, serialize_rdf
from ..model import jsonld
from ..validation.shacl import Report
from ..vocab import TL
from .cache import Cache
from .checks import Shared, shared_quads, validation_report
from .claims_csv import Table, claims_csv, write_claim_files
from .dumpparts import PARTS, Parts, records_digest
from .dumps import DUMP_KINDS, dump_frame, dump_prefixes
from .lifetime import locked
from .manifest import differences, find_release, new_release_dir, read_manifest, settings_record
from .pipeline import (
    UnionPieces,
    Workers,
    bodies,
    facts_reader,
    file_digests,
    input_files,
    make_all,
    nq_bodies,
    plan,
    relative,
)
from .plan import Made, Plan
from .storeupdate import StoreUpdate, changed_graphs, load_store, sst_sums, update_or_load, verified_store
from .void import TIE_CLASSES, FileInfo, describe

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
    listing = getattr(digests, "listing", {})
    for root in (settings.data_dir, settings.ontology_dir, settings.shapes_dir):
        for path in listing.get(root) or _files_under(root):
            digest.update(f"{relative(path, root)}\n".encode())
            digest.update(bytes.fromhex(digests[path]) if path in digests
                          else hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def current_release(settings: Settings) -> Path | None:
    link = settings.out_dir / "current"
    if not link.exists():
        return None
    return link.resolve()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a build runs. A build allocates millions of small
    objects (chunk metadata, index entries, quads) that live until it ends, and the collector's full
    passes over them cost ~0.4 s of a ~3 s rebuild at 1M quads; the build makes no cycles that need
    collecting, and reference counting still frees everything else. (Worker processes start from a
    fork server and collect as usual.)"""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _manifest_json(manifest: dict[str, Any]) -> str:
    """Indented two levels deep, each graph and file on one line. json's indenting encoder is pure
    Python (~0.1 s for the 2,500 graphs of a 1M-quad build); the compact one is C."""
    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    def inner(value: object) -> str:
        if isinstance(value, dict) and value:
            return "{\n" + ",\n".join(f"    {dump(k)}: {dump(v)}" for k, v in value.items()) + "\n  }"
        if isinstance(value, list) and value:
            return "[\n" + ",\n".join(f"    {dump(v)}" for v in value) + "\n  ]"
        return dump(value)
    return "{\n" + ",\n".join(f"  {dump(k)}: {inner(v)}" for k, v in manifest.items()) + "\n}\n"


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


def _prune(releases: Path, keep: set[Path | None], count: int = KEEP_RELEASES, tmps: bool = True) -> None:
    """Keep a few old releases (besides `keep`): a server may still be answering a request from one."""
    if not releases.is_dir():
        return
    # by name: `current` comes resolved (absolute), the listing as `releases` is (relative by default)
    names = {p.name for p in keep if p is not None}
    old = sorted((p for p in releases.iterdir() if p.is_dir() and p.name not in names and not p.name.startswith(".")),
                 key=lambda p: p.stat().st_mtime, reverse=True)
    for path in old[count:]:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in releases.glob(".tmp-*") if tmps else ():
        shutil.rmtree(tmp, ignore_errors=True)


def load_manifest(release: Path) -> dict[str, Any]:
    """The manifest of a complete release, or UsageError (exit 2) naming what is wrong (manifest.py)."""
    return read_manifest(release)


# What a user reads for each stage, once (a stage such as the dumps comes in several parts); the
# short names stay the keys of manifest["build"]["stages"] (benchmarks read them).
STAGE_MESSAGES = {"read": "reading the data", "dumps": "writing the dumps and the store",
                  "validate": "checking the data (SHACL shapes, quotes, the URI ledger)",
                  "describe": "describing the release (VoID, checksums)"}


class _Stages:
    """Tells the progress callback what each stage does and records its wall time (manifest, benchmarks)."""

    def __init__(self, say: Progress) -> None:
        self.say = say
        self.times: dict[str, float] = {}
        self.start = time.monotonic()
        self._told: set[str] = set()

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        message = STAGE_MESSAGES.get(name)
        if message and message not in self._told:
            self._told.add(message)
            self.say(message)
        began = time.monotonic()
        yield
        # a stage may come in several parts (the dumps): its time is their sum
        self.times[name] = round(self.times.get(name, 0.0) + time.monotonic() - began, 3)


def _reuse(settings: Settings, target: Path, version: str, switch: bool) -> BuildResult:
    if switch:
        _switch(settings.out_dir, target)
    manifest = load_manifest(target)
    return BuildResult(target, version, manifest["counts"], [FileInfo(**f) for f in manifest["files"]], reused=True)


def _previous(settings: Settings, say: Progress) -> tuple[Path | None, dict[str, Any]]:
    """The release this build may reuse parts of, and its manifest: the current one, if its manifest
    is sound. One that is not (a disk that lost data, a hand edit) would wedge every later build: say
    which file, and build from scratch."""
    current = current_release(settings)
    if current is None:
        return None, {}
    try:
        return current, read_manifest(current)
    except IncompleteRelease as exc:
        say(f"{exc.path} {exc.problem}: previous release not reused, building from scratch")
        return None, {}


def build(settings: Settings, progress: Progress | None = None, force: bool = False,
          switch: bool = True) -> BuildResult:
    """Build the dataset into settings.out_dir; on any error the previous release stays current.
    switch=False leaves `current` where it is (a release for other settings, ensure_built).

    Scales by never holding the dataset in one process: each named graph becomes a cached chunk
    (pipeline.py, chunks.py), the store is updated in place of a full load when few graphs changed,
    validation is sharded (shards.py), and every dump is a concatenation of chunk bodies (dumps.py).
    """
    stage = _Stages(progress or (lambda _msg: None))
    with locked(settings.out_dir), _collector_paused():
        try:
            try:
                return _build(settings, stage, force, switch)
            except DamagedCache as exc:         # the damaged entry is gone now: it is made again
                stage.say(f"{exc}: building again")
                return _build(settings, stage, force, switch)
        except Exception as exc:
            full = disk_full(exc)
            if full is None:
                raise
            removed = Cache(settings.out_dir / "cache").discard_unrecorded()
            raise DiskFull(f"{full.filename or settings.out_dir}: {full.strerror or full}: nothing was published "
                           f"(the previous release is unchanged; {removed} cache file(s) this build wrote were "
                           "removed); free some space and build again") from None


def _build(settings: Settings, stage: _Stages, force: bool, switch: bool) -> BuildResult:
    with stage("read"):
        digests = file_digests(settings)
        version = input_version(settings, digests)
        releases = settings.out_dir / "releases"
        found = None if force else find_release(settings.out_dir, version)
        if found is not None:
            return _reuse(settings, found, version, switch)
        target = new_release_dir(releases, version)
        previous, old_manifest = _previous(settings, stage.say)
        # The oldest release goes while this build works (deleting a store took ~0.2 s of a
        # rebuild); with the new one there are as many as before. Never the current or the target.
        pruning = ThreadPoolExecutor(1)
        pruning.submit(_prune, releases, {target, current_release(settings)}, KEEP_RELEASES - 1, False)
        pruning.shutdown(wait=False)
        cache = Cache(settings.out_dir / "cache")
        work = plan(settings, digests, cache)
    releases.mkdir(parents=True, exist_ok=True)
    # Everything is made in this private directory; the release is published by renaming it, and
    # only once the checks have passed.
    tmp = releases / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    stack = contextlib.ExitStack()
    try:
        (tmp / "dumps").mkdir(parents=True)
        # the previous store's table files are checked while the chunks are made (needed for the store)
        checking = ThreadPoolExecutor(1)
        store_sums = checking.submit(verified_store, previous, old_manifest.get("build", {}).get("store_crc32"),
                                     stage.say)
        checking.shutdown(wait=False)
        workers = stack.enter_context(Workers())
        with stage("chunks"):
            made = make_all(work, cache, stage.say, workers)
        parts = Parts(tmp, previous, old_manifest.get("parts", {}),
                      {k: rdf_format(f).extension for k, f in DUMP_KINDS.items()},
                      {"jsonld": jsonld.SEPARATOR}, stage.say, old_manifest.get("build", {}).get("parts_sha256"))
        result = _write_release(work, made, cache, tmp, version, settings, stage, parts, previous,
                                store_sums.result(), workers)
        stack.close()
        pruning.shutdown(wait=True)
        tmp.rename(target)
    finally:
        stack.close()
        pruning.shutdown(wait=True)
        shutil.rmtree(tmp, ignore_errors=True)
    result.release_dir = target
    if switch:
        _switch(settings.out_dir, target)
    _prune(releases, {target, current_release(settings)})
    cache.prune()
    stage.say("done")
    return result


def _write_release(work: Plan, made: Made, cache: Cache, tmp: Path, version: str, settings: Settings,
                   stage: _Stages, parts: Parts, previous: Path | None,
                   verified: dict[str, int] | None, workers: Workers) -> BuildResult:
    """Store, parts and claim rows; the checks; then, only if they pass, the published files."""
    dumps = tmp / "dumps"
    drop, update, shared, csv_lines = _store_and_parts(work, made, cache, tmp, stage, parts, previous, verified,
                                                       workers)
    with stage("validate"):
        report = validation_report(tmp / "store", made, work, cache, shared, update, stage.say)
        if not report.conforms:
            raise NonConformance(f"the data does not conform: {len(report.violations)} violation(s)", report)
    # the store's checksums, for the next build, while the dumps are written
    summing = ThreadPoolExecutor(1)
    sums = summing.submit(sst_sums, tmp / "store", verified, previous / "store" if previous else None)
    summing.shutdown(wait=False)
    with stage("dumps"):
        infos = _publish_dumps(parts, dumps, settings, csv_lines, cache)
    counts = _summary_counts(made, drop)
    with stage("describe"):
        summary = (counts, [(m.key, ox.NamedNode(m.graph), m.quads) for m in made.metas])
        void = serialize_rdf(describe(None, infos, version, settings, summary), ox.RdfFormat.TURTLE,
                            prefixes=dump_prefixes(settings))
        (dumps / "void.ttl").write_bytes(void)
        infos.append(_file_info(dumps / "void.ttl", media_type("turtle")))
        (dumps / "SHA256SUMS").write_text("".join(f"{i.sha256}  {i.name}\n" for i in infos))
        (tmp / PARTS / "SHA256SUMS").write_text(parts.sums())
    manifest = {"version": version, "release_name": settings.release_name, "base_uri": settings.base_uri,
                "settings": settings_record(settings), "tieslod": __version__, "counts": counts,
                "graphs": {m.key: {"iri": m.graph, "quads": m.quads, "digest": m.digest, "chunk": t.cache_key}
                           for m, t in sorted(zip(made.metas, work.tasks, strict=True), key=lambda x: x[0].key)},
                "files": [i.__dict__ for i in infos],
                "parts": parts.records(),
                "build": {"store": update.mode, "remade": len(made.remade), "stages": stage.times,
                          "parts_sha256": records_digest(parts.records()), "store_crc32": sums.result()}}
    (tmp / "manifest.json").write_text(_manifest_json(manifest))
    return BuildResult(tmp, version, counts, infos, report=report)


def _store_and_parts(work: Plan, made: Made, cache: Cache, tmp: Path, stage: _Stages, parts: Parts,
                     previous: Path | None, verified: dict[str, int] | None, workers: Workers
                     ) -> tuple[dict[str, set[ox.Triple]], StoreUpdate, Shared, list[bytes]]:
    """The store (the checks run on it), every dump's parts and the claim table's lines, all in the
    build's private directory: the store loads in a thread (Oxigraph releases the GIL) and the parts
    are written in two more (file I/O and zlib release it) while this thread makes the claim rows."""
    with stage("dumps"):
        # the union dumps' duplicates come from the chunks, not the store: their bodies can then be
        # re-made (in workers, UnionPieces) and written while the store loads
        shared = shared_quads(made, work, cache)
    old = previous if verified is not None else None      # its store: updated, or not used
    graphs = changed_graphs(made, work, old)
    store = tmp / "store"

    def nquads() -> Iterator[bytes]:
        return (load()[0]["nq"] for _keys, load in nq_bodies(cache, work))
    with ThreadPoolExecutor(1) as loader, ThreadPoolExecutor(2) as writers, \
            UnionPieces(cache, work, made, shared.drop, workers) as union:
        if graphs is not None and old is not None:
            loading = loader.submit(_timed, update_or_load, store, made, work, cache, old, graphs, nquads, stage.say)
        else:
            loading = loader.submit(_timed, load_store, store, nquads)
        keys = [t.key for t in work.tasks]
        jobs = [writers.submit(parts.make, ("nq",), list(nq_bodies(cache, work)), keys),
                writers.submit(parts.make, ("jsonld", "trig"), list(bodies(cache, work)), keys),
                writers.submit(parts.make, ("nt", "ttl"), list(union), keys)]
        with stage("claims"):
            lines = claims_csv(Table(made.metas, [t.cache_key for t in work.tasks], facts_reader(cache, work),
                                     made.describers), cache)
        update, stage.times["store"] = loading.result()
        with stage("dumps"):
            for job in jobs:
                job.result()
    return shared.drop, update, shared, lines


def _publish_dumps(parts: Parts, dumps: Path, settings: Settings, csv_lines: list[bytes],
                   cache: Cache) -> list[FileInfo]:
    """Every dump assembled from its parts (two at a time: hashing and file I/O release the GIL),
    and the claim table; their sizes and SHA-256 in DUMP_NAMES order."""
    sums: dict[str, tuple[int, str]] = {}

    def one(kind: str) -> None:
        name = f"tieslod.{rdf_format(DUMP_KINDS[kind]).extension}"
        sums[name], sums[name + ".gz"] = parts.assemble(kind, dumps / name, *dump_frame(kind, settings))
    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(one, kind) for kind in ("nq", "ttl", "nt", "jsonld", "trig")]
        sums.update(write_claim_files(csv_lines, cache, dumps))
        for job in jobs:
            job.result()
    infos = []
    for name, fmt in DUMP_NAMES:
        infos += [FileInfo(name, fmt.media_type, *sums[name]),
                  FileInfo(f"{name}.gz", "application/gzip", *sums[f"{name}.gz"], "gzip")]
    return infos


def _timed(func: Callable[..., T], *args: object) -> tuple[T, float]:
    """func(*args) and its wall time in seconds (a stage run in a thread)."""
    began = time.monotonic()
    return func(*args), round(time.monotonic() - began, 3)


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
    """The release built for these settings: the current one if it is, else one built before, else a
    new build. `current` (which servers follow) moves only if there is none or it was built with these
    settings: a command run with another base never moves a running server off its own. A current
    release that is not complete is refused (UsageError, exit 2; `tieslod build` replaces it)."""
    current = current_release(settings)
    try:
        manifest = read_manifest(current) if current is not None else None
    except IncompleteRelease:
        found = find_release(settings.out_dir, input_version(settings))   # (another, complete one of ours)
        if found is None:
            raise
        return found
    if current is not None and manifest is not None and manifest["version"] == input_version(settings):
        return current
    switch = manifest is None or not differences(manifest, settings)
    return build(settings, progress, switch=switch).release_dir
