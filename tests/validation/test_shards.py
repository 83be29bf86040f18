"""The fast validation path (pyshacl per document + shared nodes + cross-document SPARQL in Oxigraph)
reports exactly what pyshacl, the validator of record, reports on the whole graph."""
from __future__ import annotations

from pathlib import Path

import pytest

from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.errors import NonConformance
from tieslod.model.graph import assemble
from tieslod.validation.shards import SH, cross_rules, load_shapes_text, local_shapes, shapes_graph
from tieslod.model.sources import read_inputs
from synthetic import DEFECTS, generate
from tieslod.validation.shacl import Violation, validate


def _key(v: Violation) -> tuple:
    return (v.shape, v.focus, v.path, v.value, v.message, v.severity, v.file, v.line)


def test_fast_path_reports_what_pyshacl_reports_on_the_whole_graph(tmp_path: Path) -> None:
    planted = generate(tmp_path / "data", 12, seed=1, defects=len(DEFECTS))
    settings = Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "out")
    record = validate(assemble(read_inputs(settings), settings), settings)   # pyshacl, whole union graph
    assert len(record.violations) == len(planted)
    with pytest.raises(NonConformance) as caught:
        build(settings)
    fast = caught.value.report.violations  # type: ignore[union-attr]
    assert sorted(map(_key, fast)) == sorted(map(_key, record.violations))


def test_every_cross_document_constraint_is_compiled(repo_root: Path) -> None:
    text = load_shapes_text(repo_root / "shapes")
    shapes = shapes_graph(text)
    expected = len(list(shapes.subject_objects(SH.sparql))) + len(list(shapes.subject_objects(SH["class"])))
    assert len(cross_rules(text)) == expected
    local = local_shapes(text)
    assert not list(local.subject_objects(SH.sparql)) and not list(local.subject_objects(SH["class"]))
    removed = {(s, p, o) for s, p, o in shapes if p in (SH.sparql, SH["class"])}
    assert {t for t in shapes if t not in removed} <= set(local), "nothing else is removed"
