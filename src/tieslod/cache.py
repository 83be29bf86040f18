"""A content-addressed cache of per-article build products under <out>/cache/.

Entries are keyed by a hash of everything that went into them (input file digests, the labels and
shapes they were checked against, the code version), so a hit is always safe to reuse; an entry that
no build asked for is pruned at the end of the next build. Writes are atomic (tmp + rename), so an
interrupted build leaves at worst a missing entry, never a half one.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InternalError

# Bump when the shape of cached objects or the way they are made changes.
CACHE_FORMAT = f"tieslod-{__version__}-chunks-5"
USED = "used.txt"             # the entries the last build used (Cache.prune)


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
        self.used: set[str] = set()
        self.base = str(root)

    def _path(self, kind: str, key: str) -> str:
        # plain strings: a build asks for ~10 entries per article, and pathlib costs ~15 µs a join
        return f"{self.base}/{kind}/{key[:2]}/{key}.pickle"

    def get(self, kind: str, key: str) -> Any | None:
        path = self._path(kind, key)
        try:
            with open(path, "rb") as handle:
                value = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None
        self.used.add(path)
        return value

    def need(self, kind: str, key: str) -> Any:
        """get() for an entry the build knows it wrote: missing means the cache was tampered with."""
        value = self.get(kind, key)
        if value is None:
            raise InternalError(f"build cache entry {kind}/{key} is missing: delete {self.root} and build again")
        return value

    def peek(self, kind: str, key: str) -> Any | None:
        """get() without marking the entry used: a look at what an earlier build left, which this
        build does not itself need kept."""
        try:
            with open(self._path(kind, key), "rb") as handle:
                return pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None

    def has(self, kind: str, key: str) -> bool:
        path = self._path(kind, key)
        if os.path.isfile(path):
            self.used.add(path)
            return True
        return False

    def keep(self, kind: str, key: str) -> None:
        """Mark an entry used without reading it (a build that copied its bytes from the previous
        release still wants it kept for the next one)."""
        self.used.add(self._path(kind, key))

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        folder, name = os.path.split(path)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        self.used.add(path)

    def prune(self) -> int:
        """Delete entries this build did not use; returns how many.

        Listing ~15k entries cost ~0.4 s of a 3 s rebuild, so each build records what it used
        (USED) and the next deletes what the previous used and it did not; without that record
        (first build, or one interrupted before pruning left entries nobody recorded) it lists all."""
        if not self.root.is_dir():
            return 0
        record = os.path.join(self.base, USED)
        try:
            with open(record, encoding="utf-8") as handle:
                candidates = handle.read().splitlines()
        except OSError:
            candidates = [os.path.join(folder, name) for folder, _dirs, names in os.walk(self.base)
                          for name in names if name.endswith(".pickle")]
        removed = 0
        inside = self.base + "/"     # a record copied with the cache names the original's files: not ours
        for path in candidates:
            if path not in self.used and path.startswith(inside):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed += 1
        tmp = f"{record}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{path}\n" for path in sorted(self.used)))
        os.replace(tmp, record)
        return removed
