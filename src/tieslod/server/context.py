"""What every route module gets from create_app: settings, the current release, and a way to query."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..config import Settings
from ..querying.store import Answer

if TYPE_CHECKING:
    from .httpcache import Release


@dataclass(frozen=True)
class QueryRequest:
    query: str
    result_format: str = "json"       # for SELECT/ASK: a name from formats.RESULT_FORMATS
    graph_format: str = "turtle"      # for CONSTRUCT/DESCRIBE: a name from formats.RDF_FORMATS
    # ("" in either means the client accepts no format for that kind: run_query raises QueryError)
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    # relative IRIs in the query (e.g. `PREFIX e: <id/>` in queries/*.rq) resolve against this:
    # the dataset's base URI, set by create_app's run_query
    base_iri: str | None = None


@dataclass(frozen=True)
class AppContext:
    """Passed to each module's routes(ctx); holds no request state."""

    settings: Settings
    release: Callable[[], Release]                   # the release being served right now (local or remote)
    # deadline- and size-limited; run_query(req, client=ADDRESS) also charges that client's budget
    run_query: Callable[..., Awaitable[Answer]]
    # the release's version (a content hash): changes exactly when release() does
    version: Callable[[], str] = field(default=lambda: "")
