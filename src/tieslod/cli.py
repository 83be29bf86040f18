"""The `tieslod` command: each command parses, calls its function in api.py, prints, exits.
Data goes to stdout, messages to stderr; exit codes come from errors.outcome."""
from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar, cast

import typer

from . import api
from .config import DEFAULT_BASE_URI, DEFAULTS, Settings
from .errors import NonConformance, TiesError, UsageError, outcome

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Publish what reporting says about ties between people and organisations as Linked Open Data.")

F = TypeVar("F", bound=Callable[..., Any])

DataOpt = Annotated[Path | None, typer.Option("--data", help="Data directory (default: the bundled data/).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Build directory.")]   # default: DEFAULTS.out_dir
BaseOpt = Annotated[str, typer.Option("--base-uri", help="Base of all entity URIs.")]


def err(message: str) -> None:
    typer.echo(message, err=True)


def handle_errors(func: F) -> F:
    """Map the exception hierarchy to exit codes in one place; never show a traceback."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NonConformance as exc:
            report = exc.report
            err(report.as_text() if report is not None else str(exc))  # type: ignore[attr-defined]
            raise typer.Exit(outcome(exc).exit_code) from None
        except TiesError as exc:
            err(f"tieslod: error: {exc}")
            raise typer.Exit(outcome(exc).exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - anything else is a bug: say so, exit 3
            err(f"tieslod: internal error: {type(exc).__name__}: {exc}")
            raise typer.Exit(outcome(exc).exit_code) from None
    return wrapper  # type: ignore[return-value]


# Commands that read a release: given neither --base-uri nor --data, they use the settings the current
# release was built with, so that they run against it (a server may be following it) instead of
# building one for the defaults.
RELEASE_READERS = {"query", "export", "path", "ledger", "reconcile", "push", "serve"}


def _current_settings(out: Path, base_uri: str, data: Path | None) -> tuple[str, Path | None]:
    import click

    from .building.manifest import read_manifest, recorded
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name not in RELEASE_READERS or data is not None \
            or ctx.get_parameter_source("base_uri") != click.core.ParameterSource.DEFAULT:
        return base_uri, data
    link = out / "current"
    try:
        found = recorded(read_manifest(link.resolve())) if link.exists() else {}
    except (UsageError, KeyError):
        return base_uri, data          # refused later, by the command itself, with its reason
    folder = Path(found["data_dir"]) if "data_dir" in found else None
    return found.get("base_uri", base_uri), folder if folder is not None and folder.is_dir() else None


def make_settings(data: Path | None, out: Path, base_uri: str, **extra: Any) -> Settings:
    base_uri, data = _current_settings(out, base_uri, data)
    settings = Settings(out_dir=out, base_uri=base_uri, **extra)
    if data is not None:
        if not data.is_dir():
            raise UsageError(f"data directory not found: {data}")
        settings = settings.with_(data_dir=data)
    return settings


def progress_printer() -> Callable[[str], None]:
    """Stage lines on stderr. On a terminal, a stage that reports "name: done/total" gets a rich
    progress bar; elsewhere (CI, logs) every message is one plain timestamped line."""
    start = time.monotonic()
    if not sys.stderr.isatty():
        return lambda stage: err(f"tieslod: {time.monotonic() - start:6.1f}s {stage}")
    import re

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(stderr=True)
    bars = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)
    tasks: dict[str, Any] = {}

    def live(stage: str) -> None:
        found = re.match(r"(.+?): (\d+)/(\d+)", stage)
        if found is None:
            console.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] [bold]{stage}[/bold]")
            return
        name, done, total = found[1], int(found[2]), int(found[3])
        if name not in tasks:
            bars.start()
            tasks[name] = bars.add_task(name, total=total)
        bars.update(tasks[name], completed=done)
        if done >= total:
            bars.stop()
    return live


@app.command()
@handle_errors
def validate(data: DataOpt = None, base_uri: BaseOpt = DEFAULTS.base_uri,
             format: Annotated[str, typer.Option("--format", help="text or json")] = "text") -> None:
    """Check the data against the SHACL shapes and every quote against its source text (exit 1 if not)."""
    if format not in ("text", "json"):
        raise UsageError(f"unknown report format {format!r}; expected text or json")
    report = api.validate(make_settings(data, DEFAULTS.out_dir, base_uri))
    typer.echo(report.as_json() if format == "json" else report.as_text())
    raise typer.Exit(0 if report.conforms else 1)


@app.command()
@handle_errors
def build(data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri,
          force: Annotated[bool, typer.Option("--force", help="Rebuild even if the inputs did not change.")] = False,
          ) -> None:
    """Validate, then write every dump (+ .gz), checksums, VoID/DCAT and the Oxigraph store, atomically."""
    result = api.build(make_settings(data, out, base_uri), progress_printer(), force=force)
    c = result.counts
    err(f"tieslod: {'up to date' if result.reused else 'built'} release {result.version}: {c['entities']} "
        f"entities, {c['ties']} ties, {c['claims']} claims, {c['sources']} sources, {c['quads']} quads")
    typer.echo(str(result.release_dir))


@app.command()
@handle_errors
def export(format: Annotated[str, typer.Option("--format", help="turtle|jsonld|ntriples|nquads|trig|csv")],
           output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default stdout).")] = None,
           data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Write one serialization of the (validated) dataset to stdout or a file."""
    body = api.export(make_settings(data, out, base_uri), format, progress_printer())
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        from .building.dumps import write_atomic
        write_atomic(output, body)
        err(f"tieslod: wrote {len(body)} bytes to {output}")


@app.command()
@handle_errors
def query(sparql: Annotated[str | None, typer.Argument(help="The SPARQL query.")] = None,
          file: Annotated[Path | None, typer.Option("-f", "--file", help="Read the query from a file.")] = None,
          format: Annotated[str, typer.Option("--format", help="table|json|csv|tsv|xml|turtle|jsonld|ntriples")] = "table",
          data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Run a SPARQL query against the built store (building it first if needed)."""
    if (sparql is None) == (file is None):
        raise UsageError("give a query or -f FILE (exactly one)")
    if file is not None:
        try:
            sparql = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read query file {file}: {exc.strerror}") from exc
    body = api.query(make_settings(data, out, base_uri), sparql or "", format, progress_printer())
    sys.stdout.buffer.write(body)
    sys.stdout.flush()


@app.command()
@handle_errors
def ledger(check: Annotated[bool, typer.Option("--check", help="Only check; exit 1 if the ledger is out of date.")] = False,
           data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Append every newly published URI to data/uris.txt (the ledger never loses a line)."""
    path, report = api.ledger(make_settings(data, out, base_uri), check)
    if report.as_text():
        err(report.as_text())
    verb = "not listed" if check else "added"
    err(f"tieslod: {len(report.unlisted)} URI(s) {verb}; {len(report.missing)} missing; ledger {path}")
    raise typer.Exit(1 if not report.ok or (check and report.unlisted) else 0)


# ---------------------------------------------------------------- issue 6: reconcile, path, release, diff, curate

@app.command()
@handle_errors
def reconcile(file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
              column: Annotated[str | None, typer.Option("--column", help="Column of names (default: the first).")] = None,
              type: Annotated[str | None, typer.Option("--type", help="Only this type, e.g. Person, Organization.")] = None,
              output: Annotated[Path | None, typer.Option("-o", "--output", help="CSV to write (default stdout).")] = None,
              data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Match a column of names to our entity URIs; adds tieslod_uri (unambiguous matches only) and review columns."""
    result = api.reconcile(make_settings(data, out, base_uri), file, column, type)
    if output is None:
        typer.echo(result.body, nl=False)
    else:
        output.write_text(result.body, encoding="utf-8")
    err(f"tieslod: {result.matched} of {result.rows} name(s) matched unambiguously")


@app.command()
@handle_errors
def path(start: Annotated[str, typer.Argument(metavar="FROM", help="Entity name, key or URI.")],
         end: Annotated[str, typer.Argument(metavar="TO", help="Entity name, key or URI.")],
         depth: Annotated[int, typer.Option("--depth", help="At most this many ties in a chain.")] = 4,
         alternatives: Annotated[int, typer.Option("--alternatives", "-k", help="How many chains to show.")] = 3,
         include_denied: Annotated[bool, typer.Option("--include-denied", help="Also use ties nobody asserts (marked).")] = False,
         format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
         data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """How are two entities connected? Shortest chains of ties, each hop with its claims and quotes."""
    from .querying.connections import render_text
    if format not in ("text", "json"):
        raise UsageError(f"unknown format {format!r}; expected text or json")
    answer = api.path(make_settings(data, out, base_uri), start, end, depth, alternatives, include_denied)
    typer.echo(answer.to_json() if format == "json" else render_text(answer), nl=format == "json")


@app.command()
@handle_errors
def release(name: Annotated[str | None, typer.Option("--name", help="Human release name, e.g. 2025-06.")] = None,
            data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Build, then keep the dumps under <out>/archive/dumps/<version>/ with a changelog, index.json and feed."""
    result = api.release(make_settings(data, out, base_uri), progress_printer(), name)
    if result.changelog is None:
        err(f"tieslod: version {result.version} is already the latest release")
    else:
        err(f"tieslod: released {result.version} ({result.release_name}) after {result.previous or 'nothing'}")
        err(result.changelog.as_text().rstrip())
    typer.echo(str(result.folder))


@app.command()
@handle_errors
def diff(old: Annotated[str, typer.Argument(help="Version, release directory or .nq dump.")],
         new: Annotated[str, typer.Argument(help="Version, release directory or .nq dump.")],
         format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
         out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Entities, ties, claims and sources added, changed or withdrawn between two builds."""
    import json as _json
    if format not in ("text", "json"):
        raise UsageError(f"unknown format {format!r}; expected text or json")
    log = api.diff(make_settings(None, out, base_uri), old, new)
    typer.echo(_json.dumps(log.as_json(), indent=2, ensure_ascii=False) if format == "json" else log.as_text(),
               nl=format == "json")


@app.command("add-source")
@handle_errors
def add_source(file: Annotated[Path, typer.Argument(help="The article text, UTF-8, as received.")],
               title: Annotated[str, typer.Option("--title", help="The article's title as printed.")],
               publisher: Annotated[str | None, typer.Option("--publisher", help="Outlet name or entity key.")] = None,
               key: Annotated[str | None, typer.Option("--key", help="Short name (default: from the file name).")] = None,
               data: DataOpt = None) -> None:
    """Register a new article: copy its text to data/sources/ and write a claims file to fill in."""
    result = api.add_source(make_settings(data, DEFAULTS.out_dir, DEFAULT_BASE_URI), file, title, publisher, key)
    for written in (result.text_path, result.claims_path, result.entities_path):
        if written is not None:
            typer.echo(str(written))
    err(f"tieslod: added source {result.key!r}; now fill in {result.claims_path}")


@app.command()
@handle_errors
def quote(source: Annotated[str, typer.Argument(help="Source key (data/sources/<key>.txt) or a text file.")],
          text: Annotated[str, typer.Argument(help="Words to find; quotes, dashes, spaces and case may differ.")],
          data: DataOpt = None) -> None:
    """Find a span of a source and print it verbatim as a tl:quote line, or say where the nearest match is."""
    where, match = api.quote(make_settings(data, DEFAULTS.out_dir, DEFAULT_BASE_URI), source, text)
    if match.found:
        err(f"tieslod: found once in {where}, line {match.line} (characters {match.start}-{match.end})")
        typer.echo(match.turtle())
        return
    if match.count:
        err(f"tieslod: found {match.count} times in {where} (lines {', '.join(map(str, match.lines))}); "
            "add words so that it occurs only once")
    elif match.near:
        err(f"tieslod: not found in {where}; nearest ({round(match.similarity * 100)}% alike) at line "
            f"{match.line}:\n    {match.near}")
    else:
        err(f"tieslod: not found in {where}, nothing close")
    raise typer.Exit(1)


@app.command()
@handle_errors
def push(endpoint: Annotated[str, typer.Option("--endpoint", help="Graph Store HTTP Protocol URL, e.g. http://host:7878/store.")],
         graph_per_source: Annotated[bool, typer.Option("--graph-per-source", help="One graph per named graph of the dataset (default: the union in one graph).")] = False,
         graph: Annotated[str, typer.Option("--graph", help="Target graph IRI for the union (default: the endpoint's default graph).")] = "",
         auth: Annotated[str | None, typer.Option("--auth", help="user:password, sent as Basic or Digest (Virtuoso), whichever the server asks for.")] = None,
         batch: Annotated[int, typer.Option("--batch", help="Most triples per request.")] = 20_000,
         query_endpoint: Annotated[str | None, typer.Option("--query-endpoint", help="SPARQL query URL to verify counts with (needed where a Graph Store GET is truncated, e.g. Virtuoso's /sparql).")] = None,
         update_endpoint: Annotated[str | None, typer.Option("--update-endpoint", help="SPARQL Update URL: with --graph-per-source, only the union graph's difference is sent (e.g. http://host:7878/update).")] = None,
         data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Publish the current release to a SPARQL Graph Store endpoint (resumable; verifies counts per graph)."""
    result = api.push(make_settings(data, out, base_uri), endpoint, graph_per_source, auth, graph, batch,
                      progress_printer(), query_endpoint=query_endpoint, update_endpoint=update_endpoint)
    err(f"tieslod: pushed {result.sent} graph(s), {result.skipped} already there, "
        f"{sum(result.graphs.values())} triples verified in {len(result.graphs)} graph(s)"
        + (f", the union ({result.union_triples} triples) in {result.union_graph}" if result.union_graph else ""))


@app.command()
@handle_errors
def serve(host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = DEFAULTS.host,
          port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = DEFAULTS.port,
          workers: Annotated[int, typer.Option("--workers", help="Query worker processes (per HTTP process).")] = DEFAULTS.workers,
          http_workers: Annotated[int, typer.Option("--http-workers", help="HTTP server processes.")] = DEFAULTS.http_workers,
          timeout: Annotated[float, typer.Option("--timeout", help="Deadline of each query, seconds.")] = DEFAULTS.timeout,
          max_result_bytes: Annotated[int, typer.Option("--max-result-bytes", help="Largest result sent.")] = DEFAULTS.max_result_bytes,
          public_url: Annotated[str | None, typer.Option("--public-url", help="This server's public origin, when entity URIs live elsewhere.")] = DEFAULTS.public_url,
          access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log each request to stderr.")] = DEFAULTS.access_log,
          cache_mb: Annotated[float, typer.Option("--cache-mb", help="Memory for answers to repeated queries (0: none).")] = DEFAULTS.cache_bytes / 1_000_000,
          worker_memory_mb: Annotated[float, typer.Option("--worker-memory-mb", help="Memory one query worker may use; a query needing more is stopped with 503 (0: no limit).")] = DEFAULTS.worker_memory_bytes / 1_000_000,
          max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", help="Largest request body (413).")] = DEFAULTS.max_body_bytes,
          max_header_bytes: Annotated[int, typer.Option("--max-header-bytes", help="Largest request line + headers (431).")] = DEFAULTS.max_header_bytes,
          max_url_bytes: Annotated[int, typer.Option("--max-url-bytes", help="Longest URL, path + query (414).")] = DEFAULTS.max_url_bytes,
          max_accept_bytes: Annotated[int, typer.Option("--max-accept-bytes", help="Longest Accept header (431).")] = DEFAULTS.max_accept_bytes,
          header_timeout: Annotated[float, typer.Option("--header-timeout", help="Seconds to send a request's headers; idle keep-alive time.")] = DEFAULTS.header_timeout,
          body_timeout: Annotated[float, typer.Option("--body-timeout", help="Seconds to send a request body (408).")] = DEFAULTS.body_timeout,
          send_timeout: Annotated[float, typer.Option("--send-timeout", help="Seconds a response may stall (the client reading nothing) before the connection is cut.")] = DEFAULTS.send_timeout,
          max_in_flight: Annotated[int, typer.Option("--max-in-flight", help="Requests in progress per HTTP process.")] = DEFAULTS.max_in_flight,
          client_query_seconds: Annotated[float, typer.Option("--client-query-seconds", help="Query seconds per client per minute (429; 0: no limit).")] = DEFAULTS.client_query_seconds,
          client_concurrent: Annotated[int | None, typer.Option("--client-concurrent", help="Queries one client may run at once; more wait, then 429 (default: workers - 1, at least 1; 0: no limit).")] = DEFAULTS.client_concurrent,
          trust_forwarded_for: Annotated[bool, typer.Option("--trust-forwarded-for/--no-trust-forwarded-for", help="Identify clients by X-Forwarded-For (only behind a proxy that sets it).")] = DEFAULTS.trust_forwarded_for,
          sparql_endpoint: Annotated[str | None, typer.Option("--sparql-endpoint", help="Answer from this SPARQL endpoint (where `tieslod push` sent the release) instead of a local store.")] = DEFAULTS.sparql_endpoint,
          sparql_auth: Annotated[str | None, typer.Option("--sparql-auth", help="user:password for --sparql-endpoint (Basic or Digest).")] = DEFAULTS.sparql_auth,
          sparql_timeout: Annotated[float | None, typer.Option("--sparql-timeout", help="Deadline of each query to --sparql-endpoint, seconds (default: --timeout).")] = DEFAULTS.sparql_timeout,
          sparql_connections: Annotated[int, typer.Option("--sparql-connections", help="Queries in flight to --sparql-endpoint at once, per HTTP process.")] = DEFAULTS.sparql_connections,
          data: DataOpt = None, out: OutOpt = DEFAULTS.out_dir, base_uri: BaseOpt = DEFAULTS.base_uri) -> None:
    """Serve SPARQL (/sparql) and the linked-data pages, building the dataset first if needed
    (with --sparql-endpoint: from a remote SPARQL database, nothing built).

    Each query runs in a query worker process, one query at a time, reached over a Unix socket; workers have no network. Past --timeout a worker is killed at once (its CPU freed), a fresh one takes its place and the client gets 503; no other request shares the killed process. A query that needs more than --worker-memory-mb of memory (a sort or join of a cross product grows ~1 GB/s) is stopped the same way. One client holds at most --client-concurrent workers, so its runaways leave the others served.

    Speed (BENCHMARKS.md, 2 shared cores, --http-workers 2 --workers 2): queries that reach a worker came at 0.16-0.28x `oxigraph serve-read-only`'s rate (c=8): the trip to a worker costs the HTTP process ~100 µs of CPU per query, as much as a lookup itself. Repeated ones, from the answer cache (--cache-mb), at 0.62-1.55x. GET /sparql?query= without Origin skips Starlette's middleware (the same answers)."""
    if sparql_auth is not None and not sparql_endpoint:
        raise UsageError("--sparql-auth needs --sparql-endpoint")
    if sparql_auth is not None:
        from .httpauth import parse_credentials
        parse_credentials(sparql_auth, "--sparql-auth")   # a malformed value: one line, exit 2, before binding
    settings = make_settings(data, out, base_uri, host=host, port=port, workers=workers, timeout=timeout,
                             max_result_bytes=max_result_bytes, public_url=public_url,
                             max_body_bytes=max_body_bytes, max_header_bytes=max_header_bytes,
                             max_url_bytes=max_url_bytes, max_accept_bytes=max_accept_bytes,
                             header_timeout=header_timeout, body_timeout=body_timeout, send_timeout=send_timeout,
                             max_in_flight=max_in_flight, client_query_seconds=client_query_seconds,
                             client_concurrent=client_concurrent, trust_forwarded_for=trust_forwarded_for,
                             sparql_endpoint=sparql_endpoint, sparql_auth=sparql_auth,
                             sparql_timeout=sparql_timeout, sparql_connections=sparql_connections,
                             http_workers=http_workers, access_log=access_log,
                             cache_bytes=int(cache_mb * 1_000_000),
                             worker_memory_bytes=int(worker_memory_mb * 1_000_000))
    api.serve(settings, progress_printer())


class _ClickError(Protocol):
    """What main() reads of a click exception, of whichever click typer runs on (see _click_errors)."""

    exit_code: int
    ctx: Any   # click.Context | None, of that same click

    def format_message(self) -> str: ...


def _click_errors() -> tuple[type[Exception], type[Exception], type[Exception] | None]:
    """(UsageError, ClickException, NoArgsIsHelpError) of the click that typer runs on: typer 0.29
    vendors its own copy (typer._click), older typers use click; BadParameter is public in both."""
    module = sys.modules[typer.BadParameter.__module__]
    return module.UsageError, module.ClickException, getattr(module, "NoArgsIsHelpError", None)


def main() -> None:
    """Run the CLI. Click's own usage errors (unknown command or option, a bad value) are printed as
    one line, like ours, instead of typer's boxed panel: exit 2 as documented."""
    usage_error, click_exception, no_args = _click_errors()
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:   # only click's own errors are handled here; the rest is re-raised
        if not isinstance(exc, click_exception):   # NoArgsIsHelpError and UsageError are ClickExceptions
            raise
        click_error = cast(_ClickError, exc)   # the classes are found at run time: see _click_errors
        if no_args is not None and isinstance(exc, no_args):
            typer.echo(click_error.ctx.get_help())
            sys.exit(2)
        if isinstance(exc, usage_error):
            names: list[str] = []
            ctx = click_error.ctx
            while ctx is not None and ctx.parent is not None:   # the subcommand's name(s), not the program's
                names.insert(0, ctx.info_name or "")
                ctx = ctx.parent
            where = " ".join(["tieslod", *names, "--help"])
            err(f"tieslod: error: {' '.join(click_error.format_message().split())} (see `{where}`)")
            sys.exit(2)
        err(f"tieslod: error: {' '.join(click_error.format_message().split())}")
        sys.exit(click_error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
