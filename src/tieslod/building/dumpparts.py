"""Every RDF dump as content-addressed parts, one per bucket of graphs, and the whole file as their
concatenation.

A dump is a header, each graph's body in graph-key order (JSON-LD with a separator between graphs)
and a footer. The graphs are cut into buckets (runs of ~BUCKET graphs, ending where a graph's own key
says: content-defined, so adding or changing one article changes only its own bucket), and each
bucket's bodies, concatenated, are one part: `parts/<key>.<ext>` and its `.gz` (gzip members
concatenate, so the part's .gz is its pieces' members one after the other). A part's key names its
exact bytes (the chunk cache keys of its graphs, and the dropped triples for the union dumps), and the
manifest records every part's size, SHA-256 and CRC-32 (and the SHA-256 of that record). A rebuild
takes a part whose key the previous release recorded by hard link, after checking its CRC-32 against
the record (a flipped bit is made again from the cache, never published); the rest are written from
the cache. The whole files are the
concatenation of header, parts and footer (the same for the .gz): byte-identical to a full build.

Making the parts (`Parts.make`) happens in the build's private directory while the store loads;
`Parts.assemble` writes the published dumps, and runs only after the data passed validation.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .bodies import gz
from .cache import key_of

BUCKET = 32               # graphs per part, on average (a one-article rebuild remakes one part per dump)
PARTS = "parts"           # the folder of a release that holds them

Bodies = tuple[dict[str, bytes], dict[str, bytes]]      # kind -> body, kind -> its gzip member
# One graph's pieces: kind -> key naming the bytes, and a loader of the bodies (called only if needed).
Source = tuple[dict[str, str], Callable[[], Bodies]]
Say = Callable[[str], None]


def buckets(keys: list[str]) -> list[range]:
    """Contiguous runs of graph indices; a run ends after a graph whose key hashes low enough."""
    out, start = [], 0
    for i, key in enumerate(keys):
        if hashlib.sha256(key.encode()).digest()[0] < 256 // BUCKET or i == len(keys) - 1:
            out.append(range(start, i + 1))
            start = i + 1
    return out


@dataclass
class Part:
    """One part as the manifest records it (and where it lies in the build's private directory)."""

    key: str
    size: int
    sha256: str                   # for SHA256SUMS
    gz_size: int
    gz_sha256: str
    crc32: int                    # for the next build's check before reuse (7x faster than SHA-256 here)
    gz_crc32: int

    def record(self) -> list[str | int]:
        return [self.key, self.size, self.sha256, self.gz_size, self.gz_sha256, self.crc32, self.gz_crc32]

    @classmethod
    def of(cls, entry: list[str | int]) -> Part:
        key, size, sha, gz_size, gz_sha, crc, gz_crc = entry
        return cls(str(key), int(size), str(sha), int(gz_size), str(gz_sha), int(crc), int(gz_crc))


def records_digest(records: dict[str, list[list[str | int]]]) -> str:
    """The SHA-256 of a parts record as the manifest holds it: a changed record (bit rot, a hand edit)
    is not trusted, since the checksums in it are what a reused part is checked against."""
    return hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()


@dataclass
class Planned:
    """A part of one dump: its key, the graphs' pieces it holds, and (once made) its record."""

    key: str
    sources: list[Source]
    first: bool                       # holds the dump's first graph (no separator before it)
    made: Part | None = None          # written in this build
    reuse: Part | None = None         # recorded by the previous release: checked, then linked


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """An OSError from writing to a file object names no file (a full disk): name this one."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Parts:
    """The parts of every dump of one build (tmp: the build's private release directory)."""

    def __init__(self, tmp: Path, previous: Path | None, recorded: dict[str, list[list[str | int]]],
                 extensions: dict[str, str], separators: dict[str, bytes], say: Say,
                 digest: str | None = None) -> None:
        self.dir = tmp / PARTS
        self.dir.mkdir(parents=True, exist_ok=True)
        self.previous = previous / PARTS if previous is not None else None
        self.old = _records(recorded, previous, say, digest)
        self.ext, self.separators, self.say = extensions, separators, say
        self.planned: dict[str, list[Planned]] = {}

    def file(self, kind: str, key: str, root: Path | None = None) -> Path:
        return (root or self.dir) / f"{key}.{self.ext[kind]}"

    def make(self, kinds: tuple[str, ...], sources: list[Source], graphs: list[str]) -> None:
        """Plan the parts of these dumps (they share their sources; `graphs`: the graph keys, which
        cut the buckets) and write those the previous release does not record; a graph's bodies are
        loaded once for all its kinds."""
        runs = buckets(graphs)
        for kind in kinds:
            self.planned[kind] = []
            for run in runs:
                mine = sources[run.start:run.stop]
                key = key_of("part", kind, str(run.start == 0), *(keys[kind] for keys, _ in mine))
                old = self.old.get(kind, {}).get(key)
                here = self.previous is not None and old is not None and self.file(kind, key, self.previous).is_file()
                self.planned[kind].append(Planned(key, mine, run.start == 0, reuse=old if here else None))
        for i in range(len(runs)):
            todo = [kind for kind in kinds if self.planned[kind][i].reuse is None]
            if todo:
                loaded = [load() for _keys, load in self.planned[todo[0]][i].sources]
                for kind in todo:
                    self._write(kind, self.planned[kind][i], loaded)

    def _write(self, kind: str, part: Planned, loaded: list[Bodies]) -> None:
        sep = self.separators.get(kind)
        body, member = [], []
        for n, (bodies, members) in enumerate(loaded):
            if sep is not None and (n or not part.first):
                body.append(sep)
                member.append(gz(sep))
            body.append(bodies[kind])
            member.append(members[kind])
        data, gz_data = b"".join(body), b"".join(member)
        path = self.file(kind, part.key)
        for target, blob in ((path, data), (path.with_name(path.name + ".gz"), gz_data)):
            with naming(target), open(target, "wb") as handle:
                handle.write(blob)
        part.made = Part(part.key, len(data), _sha(data), len(gz_data), _sha(gz_data), zlib.crc32(data),
                         zlib.crc32(gz_data))

    def _reused(self, kind: str, part: Planned) -> tuple[bytes, bytes] | None:
        """The previous release's part, linked into this one, if its bytes have the recorded CRC-32s (as
        gzip and zip check against corruption; the record itself is checked by its SHA-256)."""
        assert self.previous is not None and part.reuse is not None
        old = self.file(kind, part.key, self.previous)
        try:
            data, gz_data = old.read_bytes(), old.with_name(old.name + ".gz").read_bytes()
        except OSError as exc:
            self.say(f"{old}: {exc.strerror or exc}: made again")
            return None
        if (zlib.crc32(data), zlib.crc32(gz_data)) != (part.reuse.crc32, part.reuse.gz_crc32):
            self.say(f"{old} or its .gz does not match its recorded checksum: made again")
            return None
        new = self.file(kind, part.key)
        for src, dst in ((old, new), (old.with_name(old.name + ".gz"), new.with_name(new.name + ".gz"))):
            try:
                os.link(src, dst)
            except OSError:        # another file system, or links not allowed: a copy will do
                with naming(dst):
                    dst.write_bytes(src.read_bytes())
        part.made = part.reuse
        return data, gz_data

    def _bytes(self, kind: str, part: Planned) -> tuple[bytes, bytes]:
        if part.made is None and part.reuse is not None:
            found = self._reused(kind, part)
            if found is not None:
                return found
        if part.made is None:
            self._write(kind, part, [load() for _keys, load in part.sources])
        path = self.file(kind, part.key)
        return path.read_bytes(), path.with_name(path.name + ".gz").read_bytes()

    def assemble(self, kind: str, path: Path, head: bytes, foot: bytes) -> tuple[tuple[int, str], tuple[int, str]]:
        """The whole dump and its .gz: header, every part, footer. Returns (size, sha256) of each."""
        gz_path = path.with_name(path.name + ".gz")
        sha, gz_sha, size, gz_size = hashlib.sha256(), hashlib.sha256(), 0, 0
        with open(path, "wb") as raw, open(gz_path, "wb") as packed:
            pieces: Iterable[tuple[bytes, bytes]] = (self._bytes(kind, p) for p in self.planned[kind])
            for data, gz_data in _framed(head, pieces, foot):
                with naming(path):
                    raw.write(data)
                with naming(gz_path):
                    packed.write(gz_data)
                sha.update(data)
                gz_sha.update(gz_data)
                size, gz_size = size + len(data), gz_size + len(gz_data)
            _close(raw, path)
            _close(packed, gz_path)
        return (size, sha.hexdigest()), (gz_size, gz_sha.hexdigest())

    def records(self) -> dict[str, list[list[str | int]]]:
        """kind -> its parts in order, as the manifest keeps them."""
        out = {}
        for kind, planned in sorted(self.planned.items()):
            out[kind] = [p.made.record() for p in planned if p.made is not None]
        return out

    def sums(self) -> str:
        """SHA256SUMS over the parts (sha256sum -c runs in the parts folder)."""
        lines = []
        for kind, planned in sorted(self.planned.items()):
            for p in planned:
                if p.made is not None:
                    name = self.file(kind, p.key).name
                    lines += [f"{p.made.sha256}  {name}\n", f"{p.made.gz_sha256}  {name}.gz\n"]
        return "".join(lines)


def _records(recorded: object, previous: Path | None, say: Say, digest: str | None) -> dict[str, dict[str, Part]]:
    """kind -> key -> Part as the previous manifest records them; a record that is not what this
    module writes, or not the one the manifest's checksum names (a hand edit, a damaged disk), is
    named, and no part of that release is reused."""
    if previous is None:
        return {}
    try:
        if not isinstance(recorded, dict):
            raise TypeError(f"a {type(recorded).__name__}, not an object")
        if digest != records_digest(recorded):
            raise ValueError("not the record its checksum names")
        return {str(kind): {str(e[0]): Part.of(e) for e in entries} for kind, entries in recorded.items()}
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        say(f"{previous / 'manifest.json'}: its record of the parts is unreadable ({exc}): "
            "previous parts not reused, made again")
        return {}


def _framed(head: bytes, pieces: Iterable[tuple[bytes, bytes]], foot: bytes) -> Iterator[tuple[bytes, bytes]]:
    if head:
        yield head, gz(head)
    yield from pieces
    if foot:
        yield foot, gz(foot)


def _close(handle: IO[bytes], path: Path) -> None:
    with naming(path):
        handle.close()
