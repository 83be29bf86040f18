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
from typing import TypeVar

import pyoxigraph as ox

from ..config import __version__
from .lifetime import locked
from ..config import Settings
from .cache import Cache
from .void import TIE_CLASSES, FileInfo, describe
from .claims_csv import write_claim_files
from .dumpwriters import EarlyDumps
from .forked import Forked
from .dumps import DUMP_KINDS, dump_prefixes, write_chunked
from .splice import load_index, write_index
from .pipeline import (Made, Plan, relative, facts_reader, file_digests, input_files, make_all, plan,
                       shared_quads, UnionPieces, validate_all)
from .storeupdate import StoreUpdate, changed_graphs, load_store, sst_sums, update_or_load, verified_store
from ..errors import DamagedCache, DiskFull, IncompleteRelease, NonConformance, disk_full
from .manifest import differences, find_release, new_release_dir, read_manifest, settings_record
from ..formats import CSV_DUMP, Format, media_type, rdf_format
from ..validation.ledger import enforce as enforce_ledger
from ..validation.shacl import Report
from ..vocab import TL

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
    collecting, and reference counting still frees everything else. Worker processes turn it back on
    (pipeline._init): they inherit this state when forked."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _manifest_json(manifest: dict) -> str:
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


def _prune(releases: Path, keep: set[Path], count: int = KEEP_RELEASES, tmps: bool = True) -> None:
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


def load_manifest(release: Path) -> dict:
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
        self.say, self.times = say, {}
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


def _previous(settings: Settings, say: Progress) -> tuple[Path | None, dict]:
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
    tmp = releases / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "dumps").mkdir(parents=True)
        # unchanged pieces are copied from the previous release's dumps (splice.py), from now on
        recorded = old_manifest.get("build", {})
        old = load_index(previous, stage.say, recorded.get("index_sha256"))
        # the previous store's table files are checked while the chunks are made (needed by _rest)
        checking = ThreadPoolExecutor(1)
        store_sums = checking.submit(verified_store, previous, recorded.get("store_crc32"), stage.say)
        checking.shutdown(wait=False)
        with EarlyDumps(tmp / "dumps", cache, work, settings, old, previous, store_sums) as early:
            with stage("chunks"):
                made = make_all(work, cache, stage.say)
            early.go()
            result = _write_release(work, made, cache, tmp, version, settings, stage, early)
        pruning.shutdown(wait=True)
        tmp.rename(target)
    finally:
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
                   stage: _Stages, early: EarlyDumps) -> BuildResult:
    dumps = tmp / "dumps"
    sinks = early.sinks
    try:
        drop, update, csv_files = _dumps_and_checks(work, made, cache, dumps, settings, stage, early)
    except BaseException:
        for sink in sinks.values():     # stop their threads before the caller removes tmp
            with contextlib.suppress(Exception):
                sink.close()
        raise
    # the store's checksums, for the next build, while the last dump copies and hashes finish
    verified = early.store_sums.result() if early.store_sums is not None else None
    summing = ThreadPoolExecutor(1)
    sums = summing.submit(sst_sums, tmp / "store", verified, early.previous / "store" if early.previous else None)
    summing.shutdown(wait=False)
    with stage("dumps"):
        for sink in sinks.values():     # wait for the last copies and hashes
            sink.close()
    index_sha256 = write_index(tmp, sinks)
    infos = _infos(sinks, csv_files)
    counts = _summary_counts(made, drop)
    with stage("describe"):
        summary = (counts, [(m.key, ox.NamedNode(m.graph), m.quads) for m in made.metas])
        void = ox.serialize(describe(None, infos, version, settings, summary), format=ox.RdfFormat.TURTLE,
                            prefixes=dump_prefixes(settings))
        (dumps / "void.ttl").write_bytes(void)
        infos.append(_file_info(dumps / "void.ttl", media_type("turtle")))
        (dumps / "SHA256SUMS").write_text("".join(f"{i.sha256}  {i.name}\n" for i in infos))
    manifest = {"version": version, "release_name": settings.release_name, "base_uri": settings.base_uri,
                "settings": settings_record(settings), "tieslod": __version__, "counts": counts,
                "graphs": {m.key: {"iri": m.graph, "quads": m.quads, "digest": m.digest, "chunk": t.cache_key}
                           for m, t in sorted(zip(made.metas, work.tasks), key=lambda x: x[0].key)},
                "files": [i.__dict__ for i in infos],
                "build": {"store": update.mode, "remade": len(made.remade), "stages": stage.times,
                          "index_sha256": index_sha256, "store_crc32": sums.result()}}
    (tmp / "manifest.json").write_text(_manifest_json(manifest))
    return BuildResult(tmp, version, counts, infos, report=Report([], manifest["counts"]["quads"]))


def _dumps_and_checks(work: Plan, made: Made, cache: Cache, dumps: Path, settings: Settings, stage: _Stages,
                      early: EarlyDumps) -> tuple[dict[str, set[ox.Triple]], StoreUpdate, dict[str, tuple[int, str]]]:
    """Every dump (into `sinks`, left open), the store, the checks; returns the triples the union dumps
    dropped and how the store was made. The sinks are closed by the caller: their threads copy and hash
    (~650 MB at 1M quads) while this thread validates, instead of each stage waiting for its own."""
    # The claim table is pure Python (~5 CPU-s at 1M quads, ~1 s of a rebuild): made in a forked
    # child on the other core while this thread writes the other dumps and validates. (The child
    # touches no store: the dump writers' threads and RocksDB's may be running when it forks.)
    with Forked(write_claim_files, made.metas, [t.cache_key for t in work.tasks], facts_reader(cache, work),
                made.describers, cache, dumps) as claims:
        drop, update = _rest(work, made, cache, dumps, settings, stage, early)
        with stage("dumps"):
            used, csv_files = claims.result()
            cache.used |= used
    return drop, update, csv_files


def _rest(work: Plan, made: Made, cache: Cache, dumps: Path, settings: Settings, stage: _Stages,
          early: EarlyDumps) -> tuple[dict[str, set[ox.Triple]], StoreUpdate]:
    """The union dumps, the store and the checks (the claim table is made beside them, the other
    dumps by `early`)."""
    sinks = early.sinks
    verified = early.store_sums.result() if early.store_sums is not None else None
    previous = early.previous if verified is not None else None      # its store: updated, or not used
    with stage("dumps"):
        # the union dumps' duplicates come from the chunks, not the store: their bodies can then be
        # re-made (in workers, UnionPieces) and written while the store loads
        shared = shared_quads(made, work, cache)
        drop = shared.drop

    def nquads() -> Path:
        early.nq.result()
        sinks["nq"].close()
        return dumps / "tieslod.nq"
    graphs = changed_graphs(made, work, previous)
    # The store is made in a thread while this one writes the union dumps (Oxigraph releases the GIL;
    # a fresh bulk load of 1M quads is ~14 CPU-s on one core, the floor's own work). Not in a
    # forked child: RocksDB's own threads in a process that opened stores before can hold locks the
    # child would wait for forever (a test run hung so).
    with ThreadPoolExecutor(1) as pool, UnionPieces(cache, work, made, drop) as union:
        if graphs is not None and previous is not None:
            loading = pool.submit(_timed, update_or_load, dumps.parent / "store", made, work, cache, previous,
                                  graphs, nquads, stage.say)
        else:
            loading = pool.submit(_timed, load_store, dumps.parent / "store", nquads)
        with stage("dumps"):
            write_chunked(dumps, ("nt", "ttl"), iter(union), settings, early.old, False, sinks)
        update, stage.times["store"] = loading.result()
    with stage("dump tieslod.nq"):
        early.nq.result()
        early.rdf.result()
    store = ox.Store(str(dumps.parent / "store"))
    with stage("validate"):
        violations = validate_all(store, made, work, cache, shared, update)
        enforce_ledger(store, settings, stage.say)   # a published URI may never silently disappear
        del store
        if violations:
            report = Report(violations, sum(m.quads for m in made.metas))
            raise NonConformance(f"the data does not conform: {len(violations)} violation(s)", report)
    return drop, update


def _timed(func: Callable[..., T], *args: object) -> tuple[T, float]:
    """func(*args) and its wall time in seconds (a stage run in a thread or a child process)."""
    began = time.monotonic()
    return func(*args), round(time.monotonic() - began, 3)


def _infos(sinks: dict, csv_files: dict[str, tuple[int, str]]) -> list[FileInfo]:
    """Size and sha256 of every dump: from the sinks that wrote them, and from the claim-table child."""
    infos = []
    for name, fmt in DUMP_NAMES:
        if fmt is CSV_DUMP:
            infos += [FileInfo(name, fmt.media_type, *csv_files[name]),
                      FileInfo(f"{name}.gz", "application/gzip", *csv_files[f"{name}.gz"], "gzip")]
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
