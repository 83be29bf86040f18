"""What every route module gets from create_app: settings, the current release, and a way to query."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..store import Answer


@dataclass(frozen=True)
class QueryRequest:
    query: str
    result_format: str = "json"       # for SELECT/ASK: a name from formats.RESULT_FORMATS
    graph_format: str = "turtle"      # for CONSTRUCT/DESCRIBE: a name from formats.RDF_FORMATS
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppContext:
    """Passed to each module's routes(ctx); holds no request state."""

    settings: Settings
    release: Callable[[], Path]                        # the release being served right now
    run_query: Callable[[QueryRequest], Awaitable[Answer]]   # deadline- and size-limited
