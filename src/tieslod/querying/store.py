"""The Oxigraph store of a release, and the one function that runs a query and serializes its result.

Results are serialized to bytes inside the call that runs the query: pyoxigraph result objects are
bound to the thread that made them (see shared notes), so nothing lazy ever leaves this module. The
CLI calls run_query directly; the server calls it inside a killable worker process."""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..errors import NotAcceptableResult, QueryError, ResultTooLarge, UpdateRefused, UsageError
from ..formats import Format, rdf_format, result_format
from ..vocab import PREFIXES
from .policy import READ_ONLY, check, is_update

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12 on


@dataclass(frozen=True)
class Answer:
    kind: str          # "bindings", "boolean" or "graph"
    body: bytes
    fmt: Format


class Bounded(io.BytesIO):
    """A sink that refuses to grow past a limit (pyoxigraph writes in ~8 KB chunks), so a huge result
    is refused without ever being held in memory whole. A BytesIO: the binary file pyoxigraph's
    serializers are typed to take."""

    def __init__(self, limit: int | None) -> None:
        super().__init__()
        self.limit, self.size = limit, 0

    def write(self, chunk: Buffer) -> int:
        self.size += memoryview(chunk).nbytes
        if self.limit is not None and self.size > self.limit:
            raise ResultTooLarge(f"the result is larger than the limit of {self.limit:,} bytes; "
                                 "add a LIMIT or select fewer variables")
        return super().write(chunk)

    @property
    def parts(self) -> list[bytes]:
        """What was written, as one part (querying/backend joins `parts`)."""
        return [self.getvalue()]


def open_read_only(release: Path) -> ox.Store:
    path = release / "store"
    if not path.is_dir():
        raise UsageError(f"no store in {release}; run `tieslod build` first")
    return ox.Store.read_only(str(path))


def refusal(query: str, exc: SyntaxError) -> QueryError:
    """Oxigraph's syntax error, or the read-only refusal when the text is an update (Store.query
    never runs one; the guard parses only texts that may hold SERVICE or FROM)."""
    if is_update(query):
        return UpdateRefused(READ_ONLY)
    return QueryError(f"SPARQL syntax error: {exc}")


def query_kind(query: str, base_iri: str | None = None) -> str:
    """'bindings', 'boolean' or 'graph' without running the query (parses it with an empty store)."""
    try:
        result = ox.Store().query(query, base_iri=base_iri, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise refusal(query, exc) from None
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QuerySolutions):
        return "bindings"
    return "graph"


def _graphs(iris: list[str] | tuple[str, ...] | None) -> list[ox.NamedNode] | None:
    try:
        return [ox.NamedNode(i) for i in iris] if iris else None
    except ValueError as exc:
        raise QueryError(f"not a valid graph IRI: {exc}") from exc


def _evaluation_error(exc: Exception) -> QueryError:
    """The message of an error raised while evaluating: never the exception's text, which may carry
    what another server answered (Oxigraph puts a SERVICE reply's body in it); only its kind."""
    logging.getLogger("tieslod.query").warning("query evaluation failed: %s: %.500r", type(exc).__name__, str(exc))
    return QueryError(f"query evaluation failed ({type(exc).__name__}); the server log has the details")


def run_query(store: ox.Store, query: str, result_fmt: str = "json", graph_fmt: str = "turtle",
              default_graph_uris: list[str] | tuple[str, ...] | None = None,
              named_graph_uris: list[str] | tuple[str, ...] | None = None,
              base_iri: str | None = None, max_bytes: int | None = None) -> Answer:
    """Run one read-only SPARQL query (SERVICE and updates refused before evaluation).

    The union of all graphs is the default graph unless the request or the query (FROM) names
    graphs. An empty format name means the caller accepts no format for that kind of result."""
    seen = check(query)
    union = not (default_graph_uris or named_graph_uris or seen.dataset)
    default_graph, named_graphs = _graphs(default_graph_uris), _graphs(named_graph_uris)
    try:
        result = store.query(query, base_iri=base_iri, prefixes=PREFIXES, use_default_graph_as_union=union,
                             default_graph=list(default_graph) if default_graph else None,
                             named_graphs=list(named_graphs) if named_graphs else None)
    except SyntaxError as exc:
        raise refusal(query, exc) from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise _evaluation_error(exc) from None
    graph = not isinstance(result, (ox.QuerySolutions, ox.QueryBoolean))
    kind = "graph" if graph else "boolean" if isinstance(result, ox.QueryBoolean) else "bindings"
    name = graph_fmt if graph else result_fmt
    sink = Bounded(max_bytes)
    try:
        if not name:
            raise NotAcceptableResult("this query returns " + ("RDF triples" if graph else "SPARQL results")
                                      + ", and the request accepts no format for them")
        if isinstance(result, ox.QueryTriples):
            fmt = rdf_format(name)
            prefixes = None if fmt.name == "jsonld" else PREFIXES   # JSON-LD output takes no prefixes
            ox.serialize(result, sink, fmt.rdf_format, prefixes=prefixes)
        else:
            fmt = result_format(name)
            result.serialize(sink, fmt.results_format)
    except (OSError, ValueError, RuntimeError) as exc:
        raise _evaluation_error(exc) from None
    finally:
        # An exception's traceback keeps this frame, and the result with it, alive; the result must
        # die in this thread (pyoxigraph aborts on a result dropped in another one).
        del result
    return Answer(kind, sink.getvalue(), fmt)
