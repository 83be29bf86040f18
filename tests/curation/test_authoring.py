"""Adding an article: add-source, quote, and the README walkthrough followed as written."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pyoxigraph as ox
import pytest
import typer.main
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import ROOT
from tieslod.api import app as create_app
from tieslod.building.release import build
from tieslod.cli import app as cli
from tieslod.config import Settings
from tieslod.curation.authoring import add_source, find_quote, turtle_string
from tieslod.errors import UsageError

WALKTHROUGH = ROOT / "docs" / "curating.md"   # moved there from the README (issue 12)
TEXT = "He said: “It’s  fine” — twice.\nThen, again: “It’s fine.”\n"


def test_add_source_writes_files_that_build(mini_settings: Settings, tmp_path: Path) -> None:
    article = tmp_path / "My Story.txt"
    article.write_bytes("Acme Corp’s “story”.\r\n".encode())
    made = add_source(mini_settings, article, "A “story”", publisher="Daily Planet")
    assert made.key == "my-story"
    assert made.text_path.read_bytes() == article.read_bytes()          # exactly as received
    claims = made.claims_path.read_text(encoding="utf-8")
    assert 'tl:sourceFile "my-story.txt"' in claims and 'schema:headline "A “story”"' in claims
    assert "schema:publisher e:daily-planet" in claims
    assert 'e:daily-planet a schema:NewsMediaOrganization' in made.entities_path.read_text(encoding="utf-8")
    assert build(mini_settings).counts["sources"] == 2                    # the template is valid as it is
    with pytest.raises(UsageError, match="exists already"):
        add_source(mini_settings, article, "Again")
    with pytest.raises(UsageError, match="not a news organisation"):
        add_source(mini_settings, article, "Other", publisher="Acme Corp", key="other")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(Exception, match="not UTF-8"):
        add_source(mini_settings, latin1, "Latin-1")


def test_existing_publisher_is_referenced(mini_settings: Settings, tmp_path: Path) -> None:
    entities = mini_settings.data_dir / "entities" / "entities.ttl"
    entities.write_text(entities.read_text(encoding="utf-8")
                        + 'e:gazette a schema:NewsMediaOrganization ; rdfs:label "The Gazette" .\n', encoding="utf-8")
    (tmp_path / "g.txt").write_text("Text.", encoding="utf-8")
    made = add_source(mini_settings, tmp_path / "g.txt", "Title", publisher="the gazette")
    assert made.publisher == "gazette" and "NewsMediaOrganization" not in made.entities_path.read_text()


def test_quote_tolerates_quotes_dashes_spaces_and_case() -> None:
    found = find_quote(TEXT, 'he said: "it\'s fine" - TWICE')
    assert found.found and found.exact == "He said: “It’s  fine” — twice"
    assert TEXT[found.start:found.end] == found.exact and found.line == 1
    again = find_quote(TEXT, "again: \"It's\n fine.\"")
    assert again.exact == "again: “It’s fine.”" and again.line == 2


def test_quote_repeated_or_missing() -> None:
    twice = find_quote(TEXT, "It's fine")
    assert not twice.found and twice.count == 2 and twice.lines == (1, 2)
    near = find_quote(TEXT, "Then, agian: It's fine")
    assert not near.found and near.line == 2 and "again" in near.near and near.similarity > 0.7


def test_turtle_string_round_trips() -> None:
    value = 'a "quoted" \\ back\nslash “curly”'
    parsed = list(ox.parse(f"<http://a> <http://b> {turtle_string(value)} .", format=ox.RdfFormat.TURTLE))
    assert parsed[0].object.value == value


def test_quote_cli(mini_settings: Settings) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["quote", "mini", 'a "grant" of $10', "--data", str(mini_settings.data_dir)])
    assert ok.exit_code == 0 and ok.stdout == 'tl:quote "a “grant” of $10"\n'
    missing = runner.invoke(cli, ["quote", "mini", "Bob Jones denied he never met Carol",
                                  "--data", str(mini_settings.data_dir)])
    assert missing.exit_code == 1 and "nearest" in missing.stderr and "line 1" in missing.stderr


# ------------------------------------------------------------------------- the README walkthrough

def walkthrough_steps(markdown: str) -> list[tuple[str, str, str]]:
    """(kind, argument, body) for each fenced block, kind from the HTML comment before it (or sh)."""
    steps = []
    pattern = re.compile(r"(?:<!-- walkthrough-(\w+)(?:: (\S+))? -->\n)?```(\w+)\n(.*?)```", re.DOTALL)
    for marker, argument, lang, body in pattern.findall(markdown):
        if marker or lang == "sh":
            steps.append((marker or "sh", argument, body))
    return steps


def run_command(line: str, data: Path, out: Path) -> str:
    """One `tieslod ...` line as written, pointed at a copy of the data."""
    args = shlex.split(line)
    assert args[0] == "tieslod", line
    params = {p.name for p in typer.main.get_command(cli).commands[args[1]].params}
    args += ["--data", str(data)] if "data" in params else []
    args += ["--out", str(out)] if "out" in params else []
    result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, f"{line}\n{result.output}"
    return result.stdout


def test_readme_walkthrough_works_as_written(mini_data: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "build"
    markdown = WALKTHROUGH.read_text(encoding="utf-8").split("\n## Add an article", 1)[1].split("\n## ", 1)[0]
    last_output = ""
    for kind, argument, body in walkthrough_steps(markdown):
        if kind == "file":
            (tmp_path / argument).write_text(body, encoding="utf-8")
        elif kind == "append":
            target = mini_data / Path(argument).relative_to("data")
            target.write_text(target.read_text(encoding="utf-8") + "\n" + body, encoding="utf-8")
        elif kind == "output":
            assert last_output == body, "the printed output differs from the README"
        else:
            for line in filter(None, (raw.strip() for raw in body.splitlines())):
                last_output = run_command(line, mini_data, out)
    assert "Harbour Trust gave a grant" in last_output                    # `tieslod path` shows the claim
    settings = Settings(data_dir=mini_data, out_dir=out)
    with TestClient(create_app(settings)) as web:                         # and the server serves it
        for url in re.findall(r"http://127\.0\.0\.1:8000(/\S+)", markdown):
            page = web.get(url, headers={"Accept": "text/html"})
            assert page.status_code == 200, url
            assert "Jane Example" in page.text and "Harbour Trust gave a grant" in page.text, url
