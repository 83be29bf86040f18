"""The synthetic corpus: written in the authoring format, valid under the real shapes, and every
planted defect reported by the build."""
from __future__ import annotations

from pathlib import Path

import pytest

from synthetic import CATEGORIES, DEFECTS, STANCES, VERDICTS, articles_for, generate
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.errors import NonConformance


def test_corpus_of_about_10k_triples_builds_and_covers_the_model(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert generate(data, articles_for(10_000), seed=3) == []
    result = build(Settings(data_dir=data, out_dir=tmp_path / "out"))
    assert 8_000 < result.counts["quads"] < 12_000 and result.counts["sources"] == articles_for(10_000)
    text = "\n".join(p.read_text(encoding="utf-8") for p in (data / "articles").glob("*.ttl"))
    assert all(f"a tl:{c} ;" in text for c in CATEGORIES), "ties of every category"
    assert all(f"tl:stance tl:{s} ;" in text for s in STANCES), "claims with every stance"
    assert all(f"tl:verdict tl:{v} ;" in text for v in VERDICTS) and "tl:about e:" in text
    entities = "\n".join(p.read_text(encoding="utf-8") for p in (data / "entities").glob("*.ttl"))
    assert "skos:altLabel" in entities, "entities with aliases"


def test_same_seed_same_corpus(tmp_path: Path) -> None:
    generate(tmp_path / "a", 4, seed=9, defects=2)
    generate(tmp_path / "b", 4, seed=9, defects=2)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_every_planted_defect_is_reported_once(tmp_path: Path) -> None:
    planted = generate(tmp_path / "data", 12, seed=1, defects=len(DEFECTS))
    assert sorted(d.kind for d in planted) == sorted(DEFECTS)
    with pytest.raises(NonConformance) as caught:
        build(Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "out"))
    violations = caught.value.report.violations  # type: ignore[union-attr]
    assert sorted(v.focus for v in violations) == sorted(d.focus for d in planted)
    assert all(v.file for v in violations), "each violation names the file to fix"
