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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from . import __version__
from .config import Settings
from .describe import FileInfo, counts, describe
from .dumps import dump_prefixes, ordered_quads, serialize, write_atomic
from .errors import NonConformance
from .formats import CSV_DUMP, Format, rdf_format
from .graph import Dataset, assemble
from .ledger import enforce as enforce_ledger
from .sources import read_inputs
from .validation import Report, validate

DUMP_NAMES: tuple[tuple[str, Format], ...] = tuple(
    [(f"tieslod.{rdf_format(name).extension}", rdf_format(name))
     for name in ("turtle", "jsonld", "ntriples", "nquads", "trig")] + [("tieslod-claims.csv", CSV_DUMP)])
KEEP_RELEASES = 3

Progress = Callable[[str], None]


@dataclass
class BuildResult:
    release_dir: Path
    version: str
    counts: dict[str, int]
    files: list[FileInfo] = field(default_factory=list)
    reused: bool = False
    report: Report | None = None


def _files_under(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path


def input_version(settings: Settings) -> str:
    """A content hash of everything a build reads: same inputs, same version, same bytes out."""
    digest = hashlib.sha256(f"{__version__}\n{settings.base_uri}\n{settings.release_name}\n".encode())
    for root in (settings.data_dir, settings.ontology_dir, settings.shapes_dir):
        for path in _files_under(root):
            digest.update(f"{path.relative_to(root)}\n".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
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


def write_dumps(dataset: Dataset, dumps: Path, settings: Settings, progress: Progress) -> list[FileInfo]:
    quads = dataset.quads()
    infos = []
    for name, fmt in DUMP_NAMES:
        progress(f"dump {name}")
        data = serialize(quads, fmt, settings)
        (dumps / name).write_bytes(data)
        gz = dumps / f"{name}.gz"
        gz.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
        infos += [_file_info(dumps / name, fmt.media_type), _file_info(gz, "application/gzip", "gzip")]
    return infos


def write_store(dataset: Dataset, path: Path, progress: Progress) -> None:
    progress("store")
    store = ox.Store(str(path))
    store.bulk_load(ox.serialize(ordered_quads(dataset.quads()), format=ox.RdfFormat.N_QUADS),
                    format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store


def _write_release(dataset: Dataset, tmp: Path, version: str, settings: Settings,
                   progress: Progress) -> list[FileInfo]:
    dumps = tmp / "dumps"
    dumps.mkdir(parents=True)
    infos = write_dumps(dataset, dumps, settings, progress)
    progress("describe")
    void = ox.serialize(describe(dataset, infos, version, settings), format=ox.RdfFormat.TURTLE,
                        prefixes=dump_prefixes(settings))
    (dumps / "void.ttl").write_bytes(void)
    infos.append(_file_info(dumps / "void.ttl", "text/turtle"))
    (dumps / "SHA256SUMS").write_text("".join(f"{i.sha256}  {i.name}\n" for i in infos))
    write_store(dataset, tmp / "store", progress)
    manifest = {"version": version, "release_name": settings.release_name, "base_uri": settings.base_uri,
                "tieslod": __version__, "counts": counts(dataset),
                "graphs": {k: {"iri": p.graph.value, "quads": len(p.quads), "digest": p.digest}
                           for k, p in sorted(dataset.parts.items())},
                "files": [i.__dict__ for i in infos]}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return infos


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


def build(settings: Settings, progress: Progress | None = None, force: bool = False) -> BuildResult:
    """Build the dataset into settings.out_dir; on any error the previous release stays current."""
    say = progress or (lambda _msg: None)
    with _lock(settings.out_dir):
        version = input_version(settings)
        releases = settings.out_dir / "releases"
        target = releases / version
        if not force and target.is_dir() and (target / "manifest.json").is_file():
            _switch(settings.out_dir, target)
            manifest = load_manifest(target)
            return BuildResult(target, version, manifest["counts"],
                               [FileInfo(**f) for f in manifest["files"]], reused=True)
        say("read")
        dataset = assemble(read_inputs(settings), settings)
        say("ledger")
        enforce_ledger(dataset, settings, say)   # a published URI may never silently disappear
        say("validate")
        report = validate(dataset, settings)
        if not report.conforms:
            raise NonConformance(f"the data does not conform: {len(report.violations)} violation(s)", report)
        releases.mkdir(parents=True, exist_ok=True)
        tmp = releases / f".tmp-{version}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            infos = _write_release(dataset, tmp, version, settings, say)
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _switch(settings.out_dir, target)
        _prune(releases, target)
        say("done")
        return BuildResult(target, version, counts(dataset), infos, report=report)


def ensure_built(settings: Settings, progress: Progress | None = None) -> Path:
    """The current release, building it first if there is none or the inputs changed."""
    current = current_release(settings)
    if current is not None and current.name == input_version(settings):
        return current
    return build(settings, progress).release_dir
