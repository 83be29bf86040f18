"""The Oxigraph store of a release, and one function that runs a query and serializes its result.

Results are serialized to bytes inside the call that runs the query: pyoxigraph result objects are
bound to the thread that made them (see shared notes), so nothing lazy ever leaves this module."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import QueryError, UsageError
from .formats import Format, rdf_format, result_format
from .vocab import PREFIXES


@dataclass(frozen=True)
class Answer:
    kind: str          # "bindings", "boolean" or "graph"
    body: bytes
    fmt: Format


def open_read_only(release: Path) -> ox.Store:
    path = release / "store"
    if not path.is_dir():
        raise UsageError(f"no store in {release}; run `tieslod build` first")
    return ox.Store.read_only(str(path))


def query_kind(query: str, base_iri: str | None = None) -> str:
    """'bindings', 'boolean' or 'graph' without running the query (parses it with an empty store)."""
    try:
        result = ox.Store().query(query, base_iri=base_iri, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    if isinstance(result, ox.QueryBoolean):
        return "boolean"
    if isinstance(result, ox.QuerySolutions):
        return "bindings"
    return "graph"


def _graphs(iris: list[str] | None) -> list[ox.NamedNode] | None:
    return [ox.NamedNode(i) for i in iris] if iris else None


def run_query(store: ox.Store, query: str, result_fmt: str = "json", graph_fmt: str = "turtle",
              default_graph_uris: list[str] | None = None, named_graph_uris: list[str] | None = None,
              base_iri: str | None = None, max_bytes: int | None = None) -> Answer:
    """Run one SPARQL query; the union of all graphs is the default graph unless graphs are named."""
    try:
        result = store.query(query, base_iri=base_iri, prefixes=PREFIXES,
                             use_default_graph_as_union=not default_graph_uris,
                             default_graph=_graphs(default_graph_uris), named_graphs=_graphs(named_graph_uris))
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise QueryError(f"query evaluation failed: {exc}") from exc
    try:
        if isinstance(result, (ox.QuerySolutions, ox.QueryBoolean)):
            fmt = result_format(result_fmt)
            body = result.serialize(format=fmt.oxigraph)
            kind = "boolean" if isinstance(result, ox.QueryBoolean) else "bindings"
        else:
            fmt = rdf_format(graph_fmt)
            body = ox.serialize(result, format=fmt.oxigraph, prefixes=PREFIXES) if fmt.name != "jsonld" \
                else ox.serialize(result, format=fmt.oxigraph)
            kind = "graph"
    except (OSError, ValueError) as exc:
        raise QueryError(f"query evaluation failed: {exc}") from exc
    if max_bytes is not None and len(body) > max_bytes:
        from .errors import ResultTooLarge
        raise ResultTooLarge(f"the result is {len(body)} bytes, over the limit of {max_bytes} bytes")
    return Answer(kind, body, fmt)
