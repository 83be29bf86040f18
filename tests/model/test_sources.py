"""Reading data/: syntax errors name the file, line and column."""
from __future__ import annotations

from pathlib import Path

import pytest

from tieslod.config import Settings
from tieslod.errors import InputError, UsageError
from tieslod.model.sources import line_of, parse_turtle, read_inputs


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix e: <id/> .\n\ne:x e:p "ok" .\ne:y e:p "open .\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse_turtle(bad, "https://example.org/")
    assert caught.value.line == 4 and caught.value.column is not None
    assert str(caught.value).startswith(f"{bad}:4:")


def test_relative_iris_resolve_against_the_base(tmp_path: Path) -> None:
    path = tmp_path / "x.ttl"
    path.write_text('@prefix e: <id/> .\ne:a <http://schema.org/name> "A" .\n', encoding="utf-8")
    quad = parse_turtle(path, "https://example.org/base/").quads[0]
    assert quad.subject.value == "https://example.org/base/id/a"


def test_missing_source_text_is_an_input_error(mini_settings: Settings) -> None:
    (mini_settings.data_dir / "sources" / "mini.txt").unlink()
    with pytest.raises(InputError, match="no source text mini.txt"):
        read_inputs(mini_settings)


def test_missing_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="data directory not found"):
        read_inputs(Settings(data_dir=tmp_path / "nope"))


def test_line_of_finds_the_node(mini_settings: Settings) -> None:
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    line = line_of(path, "mini-02")
    assert line is not None and path.read_text().splitlines()[line - 1].startswith("c:mini-02")
