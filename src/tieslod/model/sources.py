"""Read the authored inputs under data/: article texts and Turtle files, with file/line errors."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..config import Settings
from ..errors import InputError, UsageError

_POSITION = re.compile(r"line (\d+) column (\d+)")


@dataclass(frozen=True)
class TurtleFile:
    path: Path
    quads: tuple[ox.Quad, ...]   # all in the default graph as parsed; the build assigns the graph
    digest: str


@dataclass(frozen=True)
class Article:
    key: str
    ttl: TurtleFile
    text_path: Path
    text: str


@dataclass
class Inputs:
    """Everything under data/, parsed but not yet enriched."""

    base_uri: str
    articles: dict[str, Article] = field(default_factory=dict)
    entities: list[TurtleFile] = field(default_factory=list)
    lifecycle: TurtleFile | None = None
    ontology: TurtleFile | None = None
    ledger_path: Path | None = None

    def files(self) -> list[TurtleFile]:
        out = [*self.entities, *(a.ttl for a in self.articles.values())]
        return out + [f for f in (self.lifecycle, self.ontology) if f is not None]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_turtle(path: Path, base_uri: str) -> TurtleFile:
    """Parse one Turtle file with Oxigraph; a syntax error names the file, line and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path) from exc
    try:
        quads = tuple(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base_uri))
    except SyntaxError as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        found = _POSITION.search(message)
        line, col = (int(found[1]), int(found[2])) if found else (None, None)
        raise InputError(f"Turtle syntax error: {message}", path, line, col) from exc
    return TurtleFile(path, quads, sha256_bytes(data))


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read source text: {exc.strerror}", path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"source text is not UTF-8 (byte {exc.start})", path) from exc


def read_article(data_dir: Path, key: str, base_uri: str) -> Article:
    ttl_path = data_dir / "articles" / f"{key}.ttl"
    text_path = data_dir / "sources" / f"{key}.txt"
    if not text_path.is_file():
        raise InputError(f"no source text {text_path.name} for this article file", ttl_path)
    return Article(key, parse_turtle(ttl_path, base_uri), text_path, read_text(text_path))


def read_inputs(settings: Settings, only: set[str] | None = None) -> Inputs:
    """Parse everything under settings.data_dir (optionally only some articles)."""
    data = settings.data_dir
    if not data.is_dir():
        raise UsageError(f"data directory not found: {data}")
    inputs = Inputs(settings.base_uri)
    for path in sorted((data / "entities").glob("*.ttl")):
        inputs.entities.append(parse_turtle(path, settings.base_uri))
    for path in sorted((data / "articles").glob("*.ttl")):
        if only is None or path.stem in only:
            inputs.articles[path.stem] = read_article(data, path.stem, settings.base_uri)
    lifecycle = data / "lifecycle.ttl"
    if lifecycle.is_file():
        inputs.lifecycle = parse_turtle(lifecycle, settings.base_uri)
    ontology = settings.ontology_dir / "tieslod.ttl"
    inputs.ontology = parse_turtle(ontology, settings.base_uri)
    ledger = data / "uris.txt"
    inputs.ledger_path = ledger if ledger.is_file() else None
    if not inputs.articles:
        raise UsageError(f"no article files under {data / 'articles'}")
    return inputs


def line_of(path: Path, local_name: str) -> int | None:
    """The first line of a Turtle file that starts describing a node, for error messages."""
    pattern = re.compile(r"^\s*(\S*[:/])?" + re.escape(local_name) + r"[\s>]")
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.match(line):
                return number
    except OSError:
        return None
    return None
