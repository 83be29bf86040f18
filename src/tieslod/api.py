"""The library API behind the CLI: one function per command, and the only caller of ensure_built.

Everything below this module takes a built release (a directory) as an argument; building it when
the inputs changed is decided here, once per command.

    >>> from tieslod import Settings, build, query
    >>> result = build(Settings(out_dir=Path("build")))           # doctest: +SKIP
    >>> query(Settings(), "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "json")   # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .building.checks import check as run_check
from .building.release import DUMP_NAMES, BuildResult, ensure_built
from .building.release import build as run_build
from .config import Settings
from .errors import ServiceRefused, UsageError
from .formats import RDF_FORMATS, export_format
from .formats import RESULT_FORMATS as RESULTS
from .querying.policy import check
from .querying.store import open_read_only, query_kind, run_query
from .table import render_table
from .validation.shacl import Report
from .vocab import PREFIXES

if TYPE_CHECKING:   # only for annotations: importing them here would load every subsystem
    import httpx
    from starlette.types import ASGIApp

    from .curation.authoring import NewSource, QuoteMatch
    from .publishing.changelog import Changelog
    from .publishing.graphstore import PushResult
    from .publishing.versions import ReleaseResult
    from .querying.connections import PathAnswer
    from .querying.reconcile import CsvResult
    from .validation.ledger import LedgerReport

Progress = Callable[[str], None]
GRAPH_FORMATS = tuple(f.name for f in RDF_FORMATS)      # what `tieslod query --format` accepts, from formats.py
RESULT_FORMATS = tuple(f.name for f in RESULTS)


def validate(settings: Settings, progress: Progress | None = None) -> Report:
    """`tieslod validate`: the checks `tieslod build` runs before it publishes anything (SHACL shapes,
    quotes, the URI ledger), on the data as it is now; nothing is written under settings.out_dir."""
    return run_check(settings, progress)


def build(settings: Settings, progress: Progress | None = None, force: bool = False) -> BuildResult:
    """`tieslod build`: validate, then write every dump, the store and the description, atomically."""
    return run_build(settings, progress, force=force)


def export(settings: Settings, format_name: str, progress: Progress | None = None) -> bytes:
    """`tieslod export`: one dump of the current (validated) build, building it first if the inputs changed."""
    fmt = export_format(format_name)
    release = ensure_built(settings, progress)
    name = next(n for n, f in DUMP_NAMES if f is fmt or f.name == fmt.name)
    return (release / "dumps" / name).read_bytes()


def query(settings: Settings, sparql: str, format_name: str, progress: Progress | None = None) -> bytes:
    """`tieslod query`: run a query on the built store; `table` renders SELECT results for a terminal."""
    if format_name not in ("table", *GRAPH_FORMATS, *RESULT_FORMATS):
        raise UsageError(f"unknown query output format {format_name!r}; expected table, "
                         + ", ".join((*RESULT_FORMATS, *GRAPH_FORMATS)))
    try:
        check(sparql)   # refuse SERVICE and updates before building anything
    except ServiceRefused:   # the guard's message speaks of an endpoint; here there is none
        raise ServiceRefused("SERVICE (federated query) is not allowed: tieslod makes no outbound requests; "
                             "query the other endpoint yourself") from None
    kind = query_kind(sparql, settings.base_uri)
    release = ensure_built(settings, progress)
    store = open_read_only(release)
    if kind == "graph":
        graph_fmt = format_name if format_name in GRAPH_FORMATS else "turtle"
        return run_query(store, sparql, graph_fmt=graph_fmt, base_iri=settings.base_uri).body
    result_fmt = format_name if format_name in RESULT_FORMATS else "json"
    answer = run_query(store, sparql, result_fmt=result_fmt, base_iri=settings.base_uri)
    if format_name != "table":
        return answer.body
    return render_table(answer.body, prefixes=table_prefixes(settings.base_uri)).encode("utf-8")


def table_prefixes(base: str) -> dict[str, str]:
    """What the terminal table shortens IRIs with: our own parts of the base, then the usual ones."""
    own = {"e": "id/", "tie": "id/tie/", "claim": "id/claim/", "review": "id/review/", "source": "id/source/",
           "graph": "graph/"}
    return {**{k: base + v for k, v in own.items()}, **PREFIXES}


def release_store(settings: Settings) -> ox.Store:
    """The current release's store, building first if needed (the ledger is checked against it)."""
    return open_read_only(ensure_built(settings))


def ledger(settings: Settings, check_only: bool = False) -> tuple[Path, LedgerReport]:
    """`tieslod ledger`: append every newly published URI to data/uris.txt (or, check_only, only compare)."""
    from .validation.ledger import check as check_ledger
    from .validation.ledger import ledger_path, read_ledger, update
    store = release_store(settings)   # builds first if needed; the build itself fails on a vanished URI
    path = ledger_path(settings)
    return path, check_ledger(store, settings, read_ledger(path)) if check_only else update(store, settings)


def reconcile(settings: Settings, path: Path, column: str | None = None, type_id: str | None = None) -> CsvResult:
    """`tieslod reconcile names.csv`: add tieslod_uri (unambiguous matches only) and review columns."""
    from .querying.reconcile import reconcile_csv
    return reconcile_csv(settings, ensure_built(settings), path, column, type_id)


def path(settings: Settings, start: str, end: str, max_depth: int = 4, alternatives: int = 3,
         include_denied: bool = False) -> PathAnswer:
    """`tieslod path A B`: shortest chains of ties, each hop with its claims and quotes."""
    from .querying.connections import connection_paths
    return connection_paths(settings, ensure_built(settings), start, end, max_depth, alternatives, include_denied)


def release(settings: Settings, progress: Progress | None = None, name: str | None = None) -> ReleaseResult:
    """`tieslod release`: build, then archive the dumps with a changelog, index.json and feed."""
    from .publishing.versions import release as run_release
    return run_release(settings, progress, name)


def diff(settings: Settings, old: str, new: str) -> Changelog:
    """`tieslod diff OLD NEW`: what was added, changed or withdrawn between two builds."""
    from .publishing.versions import diff_builds
    return diff_builds(settings, old, new)


def add_source(settings: Settings, file: Path, title: str, publisher: str | None = None,
               key: str | None = None) -> NewSource:
    """`tieslod add-source`: copy the text into data/sources/ and write the claims file to fill in."""
    from .curation.authoring import add_source as run_add
    return run_add(settings, file, title, publisher, key)


def quote(settings: Settings, source: str, text: str) -> tuple[Path, QuoteMatch]:
    """`tieslod quote SOURCE TEXT`: find a span of a source verbatim, or the nearest match."""
    from .curation.authoring import quote as find
    return find(settings, source, text)


def push(settings: Settings, endpoint: str, per_source: bool = False, auth: str | None = None,
         graph: str = "", batch_triples: int = 20_000, progress: Progress | None = None,
         client: httpx.Client | None = None, query_endpoint: str | None = None,
         update_endpoint: str | None = None) -> PushResult:
    """`tieslod push`: send the current release (built first if needed) to a Graph Store and verify it."""
    from .publishing.push import push as run_push
    return run_push(settings, ensure_built(settings, progress), endpoint, per_source, auth, graph, batch_triples,
                    progress, client, query_endpoint, update_endpoint)


def app(settings: Settings, progress: Progress | None = None) -> ASGIApp:
    """The ASGI app over the release built for settings (built first if needed)."""
    from .server.app import create_app
    return create_app(settings, ensure_built(settings, progress))


def serve(settings: Settings, progress: Progress | None = None) -> None:
    """`tieslod serve`: build once (the HTTP processes then find it built), then serve until Ctrl-C."""
    from .server.run import serve as run_serve
    # with --sparql-endpoint the data lives in that database: nothing is built here
    release = None if settings.sparql_endpoint else ensure_built(settings, progress)
    run_serve(settings, release)
