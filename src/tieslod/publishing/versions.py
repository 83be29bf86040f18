"""Versioned releases: immutable dumps per version, an index, a changelog and a feed to poll.

On disk, under <out>/archive/, laid out as the server serves it so that relative links work
from a web server, a static host or a plain copy alike:

    dumps/<version>/   the build's dumps + manifest.json, and changes.json, changes.ttl,
                       removed.nq, added.nq (the patch from the previous release); never rewritten
    dumps/latest       symlink to the newest version
    releases/index.json, releases/feed.atom

A mirror polls feed.atom, walks `previous` back to the version it holds, and applies each
version's removed.nq then added.nq; the result equals a fresh download of tieslod.nq."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..building.dumps import dump_prefixes, ordered_quads, write_atomic
from ..building.lifetime import locked
from ..building.manifest import find_release
from ..building.release import Progress, build
from ..building.void import TIE_CLASSES
from ..config import Settings
from ..errors import UsageError
from ..formats import serialize_rdf
from ..vocab import DCT, LABEL, TL, TYPE, value_of
from . import feeds
from .changelog import Changelog

VERSION_RE = re.compile(r"^[0-9a-f]{16}$")
KINDS = ("entities", "ties", "claims", "sources")
FULL_DUMP = "tieslod.nq"


def archive_root(settings: Settings) -> Path:
    return settings.out_dir / "archive"


def read_quads(path: Path) -> set[ox.Quad]:
    try:
        return set(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    except (OSError, SyntaxError) as exc:
        raise UsageError(f"cannot read N-Quads from {path}: {exc}") from exc


def _kinds(quads: set[ox.Quad], base_uri: str) -> dict[str, set[str]]:
    """Which resources are entities, ties, claims and sources in one build."""
    tie_types = {TL + c for c in TIE_CLASSES}
    entities_graph = base_uri + "graph/entities"
    out: dict[str, set[str]] = {k: set() for k in KINDS}
    for q in quads:
        s = value_of(q.subject)
        if q.predicate == TYPE:
            kind = value_of(q.object)
            if kind in tie_types:
                out["ties"].add(s)
            elif kind == TL + "Claim":
                out["claims"].add(s)
            elif kind == TL + "Source":
                out["sources"].add(s)
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == entities_graph \
                and s.startswith(base_uri + "id/") and "#" not in s:
            out["entities"].add(s)
    return out


def _owner(quad: ox.Quad) -> str:
    """The resource a quad describes: fragments (#evidence-1, #amount) belong to their document."""
    return value_of(quad.subject).split("#", 1)[0]


def _digests(quads: set[ox.Quad]) -> dict[str, str]:
    lines: dict[str, list[str]] = {}
    for q in quads:
        lines.setdefault(_owner(q), []).append(str(q))
    return {k: hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest() for k, v in lines.items()}


def diff_quads(old: set[ox.Quad], new: set[ox.Quad], base_uri: str,
               old_name: str | None, new_name: str) -> Changelog:
    """Resources added, changed (any quad about them or their fragments differs) or withdrawn."""
    old_kinds, new_kinds = _kinds(old, base_uri), _kinds(new, base_uri)
    old_dig, new_dig = _digests(old), _digests(new)
    changes: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        before, after = old_kinds[kind], new_kinds[kind]
        changes[kind] = {"added": sorted(after - before),
                         "changed": sorted(u for u in before & after if old_dig.get(u) != new_dig.get(u)),
                         "withdrawn": sorted(before - after)}
    touched = {u for ops in changes.values() for v in ops.values() for u in v}
    labels = {value_of(q.subject): value_of(q.object) for quads in (old, new) for q in quads
              if q.predicate == LABEL and value_of(q.subject) in touched}
    replaced = {value_of(q.subject): value_of(q.object) for q in new
                if q.predicate.value == DCT + "isReplacedBy" and value_of(q.subject) in touched}
    return Changelog(old_name, new_name, changes, labels, replaced,
                     ordered_quads(list(new - old)), ordered_quads(list(old - new)))


def _dump_of(ref: str, settings: Settings) -> Path:
    """An N-Quads dump from a version id, a release/version directory or an .nq file."""
    path = Path(ref)
    if path.is_file():
        return path
    candidates = [path / FULL_DUMP, path / "dumps" / FULL_DUMP] if path.is_dir() else []
    if VERSION_RE.match(ref) or ref == "latest":
        built = find_release(settings.out_dir, ref)     # (a forced rebuild's directory has a suffix)
        candidates += [archive_root(settings) / "dumps" / ref / FULL_DUMP,
                       (built or settings.out_dir / "releases" / ref) / "dumps" / FULL_DUMP]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError(f"no build found for {ref!r}: give a version, a release directory or an .nq file")


def _version_of(ref: str, dump: Path) -> str:
    manifest = dump.parent / "manifest.json"
    if not manifest.is_file():
        manifest = dump.parent.parent / "manifest.json"
    if manifest.is_file():
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    return ref


def diff_builds(settings: Settings, old_ref: str, new_ref: str) -> Changelog:
    """`tieslod diff OLD NEW`."""
    old_path, new_path = _dump_of(old_ref, settings), _dump_of(new_ref, settings)
    return diff_quads(read_quads(old_path), read_quads(new_path), settings.base_uri,
                      _version_of(old_ref, old_path), _version_of(new_ref, new_path))


# ------------------------------------------------------------------------- the archive

def read_index(root: Path) -> dict[str, Any]:
    path = root / "releases" / "index.json"
    if not path.is_file():
        return {"versions": [], "latest": None}
    index: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return index


def _file_list(folder: Path, version: str) -> list[dict[str, object]]:
    out = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        data = path.read_bytes()
        out.append({"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "url": f"../dumps/{version}/{path.name}"})
    return out


def _write_changes(folder: Path, log: Changelog, settings: Settings, published: str) -> None:
    nq = ox.RdfFormat.N_QUADS
    (folder / "added.nq").write_bytes(serialize_rdf(log.added, nq) if log.added else b"")
    (folder / "removed.nq").write_bytes(serialize_rdf(log.removed, nq) if log.removed else b"")
    (folder / "changes.json").write_text(json.dumps(log.as_json(), indent=2, ensure_ascii=False) + "\n")
    triples = feeds.changes_rdf(log, settings.base_uri, published)
    (folder / "changes.ttl").write_bytes(
        serialize_rdf(triples, ox.RdfFormat.TURTLE, prefixes={**{k: v for k, v in dump_prefixes(settings).items()
                                                                 if k in ("e", "tie", "claim", "source", "xsd", "owl")},
                                                              **feeds.PREFIXES}))


@dataclass(frozen=True)
class ReleaseResult:
    version: str
    release_name: str
    folder: Path
    previous: str | None
    changelog: Changelog | None    # None when this version had been released already


def _switch_latest(dumps: Path, version: str) -> None:
    tmp = dumps / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(version, tmp)
    os.replace(tmp, dumps / "latest")


def release(settings: Settings, progress: Progress | None = None, name: str | None = None,
            now: datetime | None = None) -> ReleaseResult:
    """`tieslod release`: build (if needed), archive the dumps under their version, publish the changes."""
    if name:
        settings = settings.with_(release_name=name)
    built = build(settings, progress)
    root = archive_root(settings)
    (root / "dumps").mkdir(parents=True, exist_ok=True)
    with locked(root):
        index = read_index(root)
        version, previous = built.version, index.get("latest")
        folder = root / "dumps" / version
        if folder.is_dir():
            if version != previous:
                raise UsageError(f"version {version} was released before; give a new --name to publish it again")
            return ReleaseResult(version, settings.release_name, folder, None, None)
        published = (now or datetime.now(UTC)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        old = read_quads(root / "dumps" / previous / FULL_DUMP) if previous else set()
        log = diff_quads(old, read_quads(built.release_dir / "dumps" / FULL_DUMP), settings.base_uri,
                         previous, version)
        tmp = root / "dumps" / f".tmp-{version}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(built.release_dir / "dumps", tmp)
        manifest = json.loads((built.release_dir / "manifest.json").read_text(encoding="utf-8"))
        manifest.get("settings", {}).pop("data_dir", None)    # a local path: not for publishing
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        _write_changes(tmp, log, settings, published)
        tmp.rename(folder)
        entry = {"version": version, "release_name": settings.release_name, "published": published,
                 "previous": previous, "counts": built.counts, "summary": log.summary(),
                 "changelog": f"../dumps/{version}/changes.json",
                 "patch": {"removed": f"../dumps/{version}/removed.nq", "added": f"../dumps/{version}/added.nq"},
                 "files": _file_list(folder, version)}
        _publish_index(root, settings, entry, index)
        return ReleaseResult(version, settings.release_name, folder, previous, log)


def _publish_index(root: Path, settings: Settings, entry: dict[str, Any], index: dict[str, Any]) -> None:
    """index.json and feed.atom with the new entry first, then `latest` moves: readers see old or new."""
    index = {"dataset": settings.base_uri + "dataset", "latest": entry["version"], "feed": "feed.atom",
             "versions": [entry] + [v for v in index.get("versions", []) if v["version"] != entry["version"]]}
    (root / "releases").mkdir(parents=True, exist_ok=True)
    write_atomic(root / "releases" / "feed.atom", feeds.atom(index, settings.base_uri))
    write_atomic(root / "releases" / "index.json", (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode())
    _switch_latest(root / "dumps", entry["version"])
