"""A content-addressed cache of per-article build products under <out>/cache/.

Entries are keyed by a hash of everything that went into them (input file digests, the labels and
shapes they were checked against, the code version), so a hit is always safe to reuse; an entry that
no build asked for is pruned at the end of the next build. Writes are atomic (tmp + rename), so an
interrupted build leaves at worst a missing entry, never a half one. Each entry ends with the CRC-32
of its pickle: an entry whose bytes changed since (bit rot, a hand edit) is deleted and made again,
never published (get returns None; need raises DamagedCache, and build() runs once more).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

from ..config import __version__
from ..errors import DamagedCache, InternalError
from ..errors import DamagedEntry as _Damaged

# Bump when the shape of cached objects or the way they are made changes.
CACHE_FORMAT = f"tieslod-{__version__}-chunks-8"   # 6 twice: issue 10 (model) and issue 11 (CRC trailers); 8: issue 12 (coverage)
CHUNK_KINDS = ("nq", "union", "body", "facts")     # made with a "meta" entry, which marks them made
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

    def _read(self, path: str) -> Any | None:
        """The entry at path; None if there is none. Raises _Damaged if its checksum does not hold."""
        try:
            with open(path, "rb") as handle:
                blob = handle.read()
        except OSError:
            return None
        body = memoryview(blob)[:-4]
        if len(blob) < 4 or zlib.crc32(body) != int.from_bytes(blob[-4:], "big"):
            raise _Damaged(path)
        try:
            return pickle.loads(body)
        except Exception as exc:
            raise _Damaged(path) from exc

    def _get(self, kind: str, key: str, use: bool) -> Any | None:
        path = self._path(kind, key)
        try:
            value = self._read(path)
        except _Damaged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)         # made again by the caller (or, for a chunk's part, the retry)
            raise
        if value is not None and use:
            self.used.add(path)
        return value

    def get(self, kind: str, key: str) -> Any | None:
        try:
            return self._get(kind, key, True)
        except _Damaged:
            return None

    def need(self, kind: str, key: str) -> Any:
        """get() for an entry the build knows it wrote: missing means the cache was tampered with;
        damaged, the entry and the chunk it belongs to are dropped and DamagedCache raised (build()
        then runs once more, making them again)."""
        try:
            value = self._get(kind, key, True)
        except _Damaged as exc:
            if kind in CHUNK_KINDS:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._path("meta", key))
            raise DamagedCache(f"build cache entry {exc.args[0]} did not match its checksum; "
                               "it was deleted and is made again") from None
        if value is None:
            raise InternalError(f"build cache entry {kind}/{key} is missing: delete {self.root} and build again")
        return value

    def peek(self, kind: str, key: str) -> Any | None:
        """get() without marking the entry used: a look at what an earlier build left, which this
        build does not itself need kept."""
        try:
            return self._get(kind, key, False)
        except _Damaged:
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
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.write(zlib.crc32(data).to_bytes(4, "big"))
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)          # (a full disk: no half entry left behind)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = path     # (a failed write does not say which file)
            raise
        os.replace(tmp, path)
        self.used.add(path)

    def discard_unrecorded(self) -> int:
        """After a build failed for want of space: delete every entry the last successful build did
        not record as used, and every temporary file, so the failed build leaves the disk as it found
        it (a cold build: the whole cache). Returns how many files went."""
        try:
            with open(os.path.join(self.base, USED), encoding="utf-8") as handle:
                keep = set(handle.read().splitlines())
        except OSError:
            keep = set()
        removed = 0
        for folder, _dirs, names in os.walk(self.base, topdown=False):
            for name in names:
                path = os.path.join(folder, name)
                if (name.endswith(".pickle") and path not in keep) or name.endswith(".tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                        removed += 1
            if folder != self.base:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)        # only if empty
        return removed

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
