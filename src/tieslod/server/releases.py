"""Which release the server answers from, and moving to a new one atomically.

`tieslod build` writes a whole release into a new directory and only then switches the
`out_dir/current` symlink with one rename. The server re-reads the link every `interval` seconds
(and at once on SIGHUP) and moves to its target only when it is complete (manifest and store both
present), so it never serves a half-written store. Each query captures the release path when it
starts and carries it to its worker, so a request is answered from exactly one release; old
releases stay on disk (build keeps several) for the queries still running on them."""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger("tieslod.server")


def complete(release: Path) -> bool:
    return (release / "manifest.json").is_file() and (release / "store" / "CURRENT").is_file()


class ReleaseWatcher:
    def __init__(self, out_dir: Path, initial: Path) -> None:
        self.link = out_dir / "current"
        self._current = initial.resolve()

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
        if target == self._current or not complete(target):
            return False
        log.info("now serving release %s (was %s)", target.name, self._current.name)
        self._current = target
        return True

    async def watch(self, interval: float) -> None:
        """Poll the link until cancelled (at lifespan shutdown)."""
        while True:
            await asyncio.sleep(interval)
            self.refresh()
