"""The `tieslod` command as a user runs it (subprocesses): outputs, messages and exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tieslod.cli import app
from tieslod.config import Settings

BAD = Path(__file__).parent / "data" / "bad"


def tieslod(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("tieslod")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def _common(settings: Settings) -> list[str]:
    return ["--data", str(settings.data_dir), "--out", str(settings.out_dir)]


def test_validate_ok_exits_0(mini_settings: Settings) -> None:
    done = tieslod("validate", "--data", str(mini_settings.data_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Conforms")


def test_validate_nonconforming_exits_1_with_report(mini_settings: Settings) -> None:
    body = (BAD / "claim-no-stance.ttl").read_text()
    (mini_settings.data_dir / "articles" / "mini.ttl").open("a").write("\n" + body)
    done = tieslod("validate", "--data", str(mini_settings.data_dir), "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["conforms"] is False
    assert any("tl:stance" in v["message"] and v["file"].endswith("mini.ttl") and v["line"]
               for v in report["violations"])


def test_build_nonconforming_exits_1(mini_settings: Settings) -> None:
    (mini_settings.data_dir / "articles" / "mini.ttl").open("a").write("\n" + (BAD / "tie-without-claim.ttl").read_text())
    done = tieslod("build", *_common(mini_settings))
    assert done.returncode == 1 and "has no claim" in done.stderr
    assert not (mini_settings.out_dir / "current").exists()


def test_malformed_turtle_exits_2_naming_file_line_column(mini_settings: Settings) -> None:
    path = mini_settings.data_dir / "entities" / "entities.ttl"
    path.open("a").write('\ne:zed a schema:Person ; rdfs:label "Zed ;\n')
    done = tieslod("build", *_common(mini_settings))
    assert done.returncode == 2
    assert f"{path}:" in done.stderr and "Turtle syntax error" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (mini_settings.out_dir / "current").exists()


@pytest.mark.parametrize("args, message", [
    (["export", "--format", "bogus"], "unknown export format 'bogus'; expected one of: turtle, jsonld, ntriples, nquads, trig, csv"),
    (["export", "--format", "rdfxml"], "unknown export format 'rdfxml'; expected one of: turtle, jsonld, ntriples, nquads, trig, csv"),
    (["validate", "--format", "xml"], "unknown report format"),
    (["query", "SELEC"], "SPARQL syntax error: error at 1:6"),
    (["query", "-f", "/nonexistent/q.rq"], "cannot read query file"),
    (["query", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"], "SERVICE (federated query) is not allowed"),
    (["query", "INSERT DATA { <http://a> <http://b> <http://c> }"], "read-only"),
    (["query"], "give a query or -f FILE"),
    (["build", "--data", "/nonexistent/data"], "data directory not found"),
    (["build", "--base-uri", "ftp://x/"], "--base-uri must be an http(s) URI"),
])
def test_usage_errors_exit_2_with_one_line(mini_settings: Settings, args: list[str], message: str) -> None:
    extra = [] if "--data" in args or args[0] == "validate" else _common(mini_settings)
    done = tieslod(*args, *extra)
    assert done.returncode == 2, done
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["build", "--no-such-option"], "No such option: --no-such-option"),
    (["nosuch"], "No such command 'nosuch'. (see `tieslod --help`)"),
    (["serve", "--port", "notanumber"], "Invalid value for '--port'"),
    (["export", "-f", "turtle"], "No such option: -f"),     # -f is --file (of query) only
    (["export"], "Missing option '--format'"),
])
def test_click_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    """Issue 14: typer printed these in a five-line box; the README promises one line."""
    done = tieslod(*args)
    assert done.returncode == 2, done
    assert done.stderr.startswith("tieslod: error: ") and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "╭" not in done.stderr and not done.stdout


def test_no_arguments_prints_the_help() -> None:
    done = tieslod()
    assert done.returncode == 2 and "Usage:" in done.stdout and "serve" in done.stdout


def test_service_refused_without_speaking_of_an_endpoint(mini_settings: Settings) -> None:
    done = tieslod("query", "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", *_common(mini_settings))
    assert done.returncode == 2 and "endpoint makes" not in done.stderr and "tieslod makes no outbound" in done.stderr


def test_build_progress_says_what_a_user_cares_about(mini_settings: Settings) -> None:
    done = tieslod("build", *_common(mini_settings))
    assert done.returncode == 0, done.stderr
    lines = [line.split("s ", 1)[1] for line in done.stderr.splitlines() if line.startswith("tieslod: ") and "s " in line]
    assert len(lines) == len(set(lines)), lines                       # no stage said twice
    assert "writing the dumps and the store" in lines and not [x for x in lines if x == "dumps" or "cached," in x]
    assert any(x.startswith("3 of 3 graphs to make (one per article") for x in lines), lines
    again = tieslod("build", "--force", *_common(mini_settings))
    assert "all 3 graphs unchanged since an earlier build" in again.stderr, again.stderr


def test_table_shortens_iris_with_prefixes_and_never_cuts_them(mini_settings: Settings) -> None:
    done = tieslod("query", "SELECT ?claim ?quote WHERE { ?claim tl:quote ?quote } ORDER BY ?claim",
                   *_common(mini_settings))
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[2:-1]
    claims = [r.split(" | ")[0].strip() for r in rows]
    assert claims and all(c.startswith(("claim:mini-", "review:mini-")) for c in claims), claims
    quotes = [r.split(" | ")[1] for r in rows]
    assert all(len(q) < 60 or (len(q) == 60 and q.endswith("…")) for q in quotes), quotes   # a cut shows


def test_export_to_file_and_stdout(mini_settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    done = tieslod("export", "--format", "ntriples", "-o", str(target), *_common(mini_settings))
    assert done.returncode == 0, done.stderr
    assert "<https://w3id.org/tieslod/id/bob-jones>" in target.read_text()
    csv_done = tieslod("export", "--format", "csv", *_common(mini_settings))
    assert csv_done.stdout.splitlines()[0].lstrip("\ufeff").startswith("claim,subject,subject_label")


def test_query_prints_a_table(mini_settings: Settings) -> None:
    done = tieslod("query", "SELECT ?label WHERE { ?e a schema:Person ; rdfs:label ?label } ORDER BY ?label",
                   *_common(mini_settings))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2:5] == ["Bob Jones", "Carol", "(2 rows)"]


def test_query_from_file_as_csv(mini_settings: Settings, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?c a tl:Claim }")
    done = tieslod("query", "-f", str(query), "--format", "csv", *_common(mini_settings))
    assert done.stdout.splitlines() == ["n", "3"]


def test_internal_error_exits_3_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object) -> None:
        raise RuntimeError("unexpected")
    monkeypatch.setattr("tieslod.api.validate", boom)
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 3
    assert "internal error: RuntimeError: unexpected" in result.output
