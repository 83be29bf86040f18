"""A content-addressed cache of per-article build products under <out>/cache/.

Entries are keyed by a hash of everything that went into them (input file digests, the labels and
shapes they were checked against, the code version), so a hit is always safe to reuse; an entry that
no build asked for is pruned at the end of the next build. Writes are atomic (tmp + rename), so an
interrupted build leaves at worst a missing entry, never a half one.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from . import __version__

# Bump when the shape of cached objects or the way they are made changes.
CACHE_FORMAT = f"tieslod-{__version__}-chunks-2"


def key_of(*parts: str | bytes) -> str:
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:32]


class Cache:
    """kind/key -> pickled object on disk; remembers which keys this build touched."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.used: set[Path] = set()

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.pickle"

    def get(self, kind: str, key: str) -> Any | None:
        path = self._path(kind, key)
        try:
            with open(path, "rb") as handle:
                value = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None
        self.used.add(path)
        return value

    def has(self, kind: str, key: str) -> bool:
        path = self._path(kind, key)
        if path.is_file():
            self.used.add(path)
            return True
        return False

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        self.used.add(path)

    def prune(self) -> int:
        """Delete entries this build did not use; returns how many."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.rglob("*.pickle"):
            if path not in self.used:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
