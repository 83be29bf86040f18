"""Which release the server answers from, and moving to a new one atomically.

`tieslod build` writes a whole release into a new directory and only then switches the
`out_dir/current` symlink with one rename. The server re-reads the link every `interval` seconds
(and at once on SIGHUP) and moves to its target only when it is complete (manifest and store both
present), so it never serves a half-written store. Each query captures the release path when it
starts and carries it to its worker, so a request is answered from exactly one release; old
releases stay on disk (build keeps several) for the queries still running on them.

A release built for another base URI is never followed (its entity URIs are not this server's):
the server logs a warning once and stays where it is. One built from another data directory is
followed, with a warning (manifest.differences)."""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from ..building.manifest import differences, read_manifest
from ..config import Settings
from ..errors import UsageError

log = logging.getLogger("tieslod.server")


def complete(release: Path) -> bool:
    try:
        read_manifest(release)
    except UsageError:
        return False
    return True


class ReleaseWatcher:
    def __init__(self, out_dir: Path, initial: Path, settings: Settings | None = None) -> None:
        self.link = out_dir / "current"
        self._current = initial.resolve()
        self.settings = settings
        self._refused: set[Path] = set()       # releases for another base: never followed

    def current(self) -> Path:
        return self._current

    def version(self) -> str:
        """The release's directory name: a content hash, usable as a validator (ETag)."""
        return self._current.name

    def refresh(self) -> bool:
        """Follow the link if it moved to a complete release; True if the release changed."""
        try:
            target = Path(os.path.realpath(self.link))
        except OSError:
            return False
        if target == self._current or target in self._refused:
            return False
        try:
            manifest = read_manifest(target)
        except UsageError:
            return False        # not complete (yet): look again later
        if not self._acceptable(target, manifest):
            return False
        log.info("now serving release %s (was %s)", target.name, self._current.name)
        self._current = target
        return True

    def _acceptable(self, target: Path, manifest: dict[str, Any]) -> bool:
        """Warn when `current` points at a release built with other settings;
        False for another base URI, which is never followed."""
        other = differences(manifest, self.settings) if self.settings is not None else {}
        if not other:
            return True
        said = "; ".join(f"{k} {theirs} (this server: {mine})" for k, (theirs, mine) in other.items())
        if "base_uri" in other:
            self._refused.add(target)
            log.warning("not switching to release %s (%s): it was built with %s; still serving %s",
                        target.name, self.link, said, self._current.name)
            return False
        log.warning("switching to release %s (%s), built with other settings: %s", target.name, self.link, said)
        return True

    async def watch(self, interval: float) -> None:
        """Poll the link until cancelled (at lifespan shutdown)."""
        while True:
            await asyncio.sleep(interval)
            self.refresh()
