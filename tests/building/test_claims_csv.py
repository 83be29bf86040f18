"""The claim table (claims_csv.py): a rebuild remakes only the rows that can read differently, and
its table is byte-identical to a full build's."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from synthetic import generate
from tieslod.building import claims_csv
from tieslod.building.claims_csv import _review_links
from tieslod.building.release import build
from tieslod.config import Settings


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("claims") / "data"
    generate(data, 80, seed=1)
    return data


def test_a_rebuilt_row_keeps_the_verdict_of_its_review(corpus: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a changed article's rows are remade from the facts about the nodes they read, and a
    review (which points at its claim; no row reads forward to it) was not among them, so the verdict
    column of every claim of the changed article came out empty in a rebuild (seen at 100k quads;
    WHOLE=1 takes that path on this small corpus too)."""
    monkeypatch.setattr(claims_csv, "WHOLE", 1.0)
    data = tmp_path / "data"
    shutil.copytree(corpus, data)
    settings = Settings(data_dir=data, out_dir=tmp_path / "inc")
    build(settings)
    article = data / "articles" / "syn-00040.ttl"
    text = article.read_text(encoding="utf-8")
    assert "schema:itemReviewed c:syn-00040-01" in text and "tl:Denies" in text
    article.write_text(text.replace("tl:Denies", "tl:Asserts", 1), encoding="utf-8")
    rebuilt = (build(settings).release_dir / "dumps" / "tieslod-claims.csv").read_text(encoding="utf-8-sig")
    full = build(Settings(data_dir=data, out_dir=tmp_path / "full")).release_dir
    expected = (full / "dumps" / "tieslod-claims.csv").read_text(encoding="utf-8-sig")
    row = next(line for line in expected.splitlines() if "/claim/syn-00040-01," in line)
    assert row.rsplit(",", 1)[1], "the claim has a verdict"
    assert rebuilt == expected


def test_review_links_are_found_by_search() -> None:
    facts = (b"<https://x/r1> <http://schema.org/itemReviewed> <https://x/c1> <https://x/g> .\n"
             b"<https://x/r1> <https://x/verdict> <https://x/doubted> <https://x/g> .\n"
             b"<https://x/r2> <http://schema.org/itemReviewed> <https://x/c2> <https://x/g> .")
    lines = facts.split(b"\n")
    assert _review_links(facts) == lines[0] + b"\n" + lines[2]
    assert _review_links(b"") == b""
