"""The `tieslod` command: each command parses, calls one library function, prints, exits.
Data goes to stdout, messages to stderr; exit codes come from errors.exit_code_for."""
from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from .config import DEFAULT_BASE_URI, Settings
from .errors import NonConformance, TiesError, UsageError, exit_code_for

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Publish what reporting says about ties between people and organisations as Linked Open Data.")

F = TypeVar("F", bound=Callable[..., Any])

DataOpt = Annotated[Optional[Path], typer.Option("--data", help="Data directory (default: the bundled data/).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Build directory.")]
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
            raise typer.Exit(exc.exit_code) from None
        except TiesError as exc:
            err(f"tieslod: error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - anything else is a bug: say so, exit 3
            err(f"tieslod: internal error: {type(exc).__name__}: {exc}")
            raise typer.Exit(exit_code_for(exc)) from None
    return wrapper  # type: ignore[return-value]


def make_settings(data: Path | None, out: Path, base_uri: str, **extra: Any) -> Settings:
    settings = Settings(out_dir=out, base_uri=base_uri, **extra)
    if data is not None:
        if not data.is_dir():
            raise UsageError(f"data directory not found: {data}")
        settings = settings.with_(data_dir=data)
    return settings


def progress_printer() -> Callable[[str], None]:
    """Stage lines on stderr: a live spinner on a terminal, plain timestamped lines otherwise."""
    start = time.monotonic()
    if sys.stderr.isatty():
        from rich.console import Console
        console = Console(stderr=True)

        def live(stage: str) -> None:
            console.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] [bold]{stage}[/bold]")
        return live
    return lambda stage: err(f"tieslod: {time.monotonic() - start:6.1f}s {stage}")


@app.command()
@handle_errors
def validate(data: DataOpt = None, base_uri: BaseOpt = DEFAULT_BASE_URI,
             format: Annotated[str, typer.Option("--format", help="text or json")] = "text") -> None:
    """Check the data against the SHACL shapes and every quote against its source text (exit 1 if not)."""
    from .api import validate_data
    if format not in ("text", "json"):
        raise UsageError(f"unknown report format {format!r}; expected text or json")
    report = validate_data(make_settings(data, Path("build"), base_uri))
    typer.echo(report.as_json() if format == "json" else report.as_text())
    raise typer.Exit(0 if report.conforms else 1)


@app.command()
@handle_errors
def build(data: DataOpt = None, out: OutOpt = Path("build"), base_uri: BaseOpt = DEFAULT_BASE_URI,
          force: Annotated[bool, typer.Option("--force", help="Rebuild even if the inputs did not change.")] = False,
          ) -> None:
    """Validate, then write every dump (+ .gz), checksums, VoID/DCAT and the Oxigraph store, atomically."""
    from .build import build as run_build
    result = run_build(make_settings(data, out, base_uri), progress_printer(), force=force)
    c = result.counts
    err(f"tieslod: {'up to date' if result.reused else 'built'} release {result.version}: {c['entities']} "
        f"entities, {c['ties']} ties, {c['claims']} claims, {c['sources']} sources, {c['quads']} quads")
    typer.echo(str(result.release_dir))


@app.command()
@handle_errors
def export(format: Annotated[str, typer.Option("--format", "-f", help="turtle|jsonld|ntriples|nquads|trig|csv")],
           output: Annotated[Optional[Path], typer.Option("-o", "--output", help="File to write (default stdout).")] = None,
           data: DataOpt = None, out: OutOpt = Path("build"), base_uri: BaseOpt = DEFAULT_BASE_URI) -> None:
    """Write one serialization of the (validated) dataset to stdout or a file."""
    from .api import export_bytes
    body = export_bytes(make_settings(data, out, base_uri), format, progress_printer())
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        from .dumps import write_atomic
        write_atomic(output, body)
        err(f"tieslod: wrote {len(body)} bytes to {output}")


@app.command()
@handle_errors
def query(sparql: Annotated[Optional[str], typer.Argument(help="The SPARQL query.")] = None,
          file: Annotated[Optional[Path], typer.Option("-f", "--file", help="Read the query from a file.")] = None,
          format: Annotated[str, typer.Option("--format", help="table|json|csv|tsv|xml|turtle|jsonld|ntriples")] = "table",
          data: DataOpt = None, out: OutOpt = Path("build"), base_uri: BaseOpt = DEFAULT_BASE_URI) -> None:
    """Run a SPARQL query against the built store (building it first if needed)."""
    from .api import query_text
    if (sparql is None) == (file is None):
        raise UsageError("give a query or -f FILE (exactly one)")
    if file is not None:
        try:
            sparql = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read query file {file}: {exc.strerror}") from exc
    body = query_text(make_settings(data, out, base_uri), sparql or "", format, progress_printer())
    sys.stdout.buffer.write(body)
    sys.stdout.flush()


@app.command()
@handle_errors
def ledger(check: Annotated[bool, typer.Option("--check", help="Only check; exit 1 if the ledger is out of date.")] = False,
           data: DataOpt = None, base_uri: BaseOpt = DEFAULT_BASE_URI) -> None:
    """Append every newly published URI to data/uris.txt (the ledger never loses a line)."""
    from .ledger import check as check_ledger, ledger_path, read_ledger, update
    from .graph import assemble
    from .sources import read_inputs
    settings = make_settings(data, Path("build"), base_uri)
    dataset = assemble(read_inputs(settings), settings)
    path = ledger_path(settings)
    report = check_ledger(dataset, read_ledger(path)) if check else update(dataset, settings)
    if report.as_text():
        err(report.as_text())
    verb = "not listed" if check else "added"
    err(f"tieslod: {len(report.unlisted)} URI(s) {verb}; {len(report.missing)} missing; ledger {path}")
    raise typer.Exit(1 if not report.ok or (check and report.unlisted) else 0)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
