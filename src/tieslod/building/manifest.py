"""What a release is: its manifest, read and checked in one place, and the settings it was built with.

A release directory is usable only when its manifest parses, has every part a reader needs, lists
files that are there with the sizes it records, and its store is present: a build writes the
manifest last, so anything less is a build that died or a disk that lost data. Readers (serve,
query, export, ...) refuse such a release (UsageError, exit 2); a build that finds one as its
previous release builds from scratch instead (build.py).

A release also records the settings that shape its bytes (base URI, data directory): a command
uses the release built for its own settings, and nothing moves `current`, which servers follow,
to a release built for another base (build.ensure_built, server/releases.py).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import IncompleteRelease

NAME = "manifest.json"
REQUIRED = ("version", "base_uri", "counts", "graphs", "files", "build")


def _load(release: Path) -> tuple[dict[str, Any] | None, Path, str]:
    """(manifest, None, "") or (None, the file at fault, what is wrong with it)."""
    path = release / NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, path, "is missing"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, path, f"is unreadable ({exc})"
    missing = [k for k in REQUIRED if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        return None, path, f"lacks {', '.join(missing)}"
    for entry in manifest["files"]:
        try:
            size = (release / "dumps" / entry["name"]).stat().st_size
        except (OSError, KeyError, TypeError):
            size = None
        if size is None or size != entry.get("size"):
            name = entry.get("name", "?") if isinstance(entry, dict) else "?"
            return None, release / "dumps" / name, f"is missing or not the size {NAME} records"
    if not (release / "store" / "CURRENT").is_file():
        return None, release / "store", "is missing"
    return manifest, path, ""


def read_manifest(release: Path) -> dict[str, Any]:
    """The release's manifest, or IncompleteRelease naming the file at fault and what is wrong."""
    manifest, path, problem = _load(release)
    if manifest is None:
        raise IncompleteRelease(f"{path} {problem}: {release} is not a complete release "
                                "(`tieslod build` makes a new one)", path, problem)
    return manifest


def complete(release: Path) -> bool:
    return _load(release)[0] is not None


def settings_record(settings: Settings) -> dict[str, str]:
    """The settings a release is built with, as its manifest records them."""
    return {"base_uri": settings.base_uri, "data_dir": os.path.abspath(settings.data_dir)}


def recorded(manifest: dict[str, Any]) -> dict[str, str]:
    """The settings a release was built with (a release from before they were recorded: its base)."""
    return manifest.get("settings") or {"base_uri": manifest["base_uri"]}


def differences(manifest: dict[str, Any], settings: Settings) -> dict[str, tuple[str, str]]:
    """setting -> (the release's value, these settings' value), for each that differs."""
    mine, theirs = settings_record(settings), recorded(manifest)
    return {k: (theirs[k], mine[k]) for k in mine if k in theirs and theirs[k] != mine[k]}


def find_release(out_dir: Path, version: str) -> Path | None:
    """The newest complete release of a version: `releases/<version>`, or `releases/<version>.<n>`
    (a forced rebuild writes a new directory beside the one it replaces)."""
    releases = out_dir / "releases"
    if not releases.is_dir():
        return None
    found = [p for p in releases.iterdir() if p.name == version or p.name.startswith(version + ".")]
    for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True):
        if complete(path):
            return path
    return None


def new_release_dir(releases: Path, version: str) -> Path:
    """releases/<version>, or beside it when that exists (a forced rebuild, or a damaged release):
    the release being replaced stays whole, and may stay current, until the switch."""
    target = releases / version
    while target.exists():
        target = releases / f"{version}.{time.time_ns()}"
    return target
