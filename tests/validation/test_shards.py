"""The fast validation path (pyshacl per document + shared nodes + cross-document SPARQL in Oxigraph)
reports exactly what pyshacl, the validator of record, reports on the whole graph."""
from __future__ import annotations

import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from synthetic import DEFECTS, generate
from tieslod.api import validate as api_validate
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.errors import NonConformance
from tieslod.model.graph import assemble
from tieslod.model.sources import read_inputs
from tieslod.validation.shacl import Violation, validate
from tieslod.validation.shards import (
    SH,
    coverage,
    cross_rules,
    load_shapes_text,
    local_shapes,
    shapes_graph,
    warn_uncovered,
)


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


# a node shape with one constraint the fast path does not compile (sh:hasValue), which every claim of
# the mini fixture violates: it must be named in a warning and still be checked, by pyshacl
UNCOVERED = """
<https://w3id.org/tieslod/shapes#UncoveredShape> a <http://www.w3.org/ns/shacl#NodeShape> ;
    <http://www.w3.org/2000/01/rdf-schema#label> "uncovered" ;
    <http://www.w3.org/ns/shacl#targetClass> <https://w3id.org/tieslod/ontology#Claim> ;
    <http://www.w3.org/ns/shacl#property> [
        <http://www.w3.org/ns/shacl#path> <https://w3id.org/tieslod/ontology#stance> ;
        <http://www.w3.org/ns/shacl#hasValue> <https://w3id.org/tieslod/ontology#Nowhere> ;
        <http://www.w3.org/ns/shacl#message> "stance must be tl:Nowhere" ] .
"""


def _with_uncovered_shape(settings: Settings, repo_root: Path, tmp_path: Path) -> Settings:
    shapes = tmp_path / "shapes"
    shutil.copytree(repo_root / "shapes", shapes)
    (shapes / "zz-uncovered.ttl").write_text(UNCOVERED, encoding="utf-8")
    return replace(settings, shapes_dir=shapes)


def test_a_shape_the_fast_path_does_not_cover_is_named_and_checked_by_pyshacl(
        mini_settings: Settings, repo_root: Path, tmp_path: Path) -> None:
    settings = _with_uncovered_shape(mini_settings, repo_root, tmp_path)
    text = load_shapes_text(settings.shapes_dir)
    assert [s for s, _why in coverage(text).uncovered] == ["https://w3id.org/tieslod/shapes#UncoveredShape"]
    assert all(r.node != "https://w3id.org/tieslod/shapes#UncoveredShape" for r in coverage(text).rules)
    record = validate(assemble(read_inputs(settings), settings), settings)     # pyshacl, whole graph
    assert any(v.message == "stance must be tl:Nowhere" for v in record.violations)
    with (pytest.warns(RuntimeWarning, match=r"UncoveredShape: .*hasValue.*pyshacl checks this shape"),
          pytest.raises(NonConformance) as caught):
        build(settings)
    fast = caught.value.report.violations  # type: ignore[union-attr]
    assert sorted(map(_key, fast)) == sorted(map(_key, record.violations))
    with pytest.warns(RuntimeWarning, match="UncoveredShape"):
        checked = api_validate(settings)
    assert sorted(map(_key, checked.violations)) == sorted(map(_key, record.violations))


def test_shapes_the_fast_path_covers_raise_no_warning(repo_root: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_uncovered(load_shapes_text(repo_root / "shapes")) == []


def test_validate_and_build_report_the_same(tmp_path: Path) -> None:
    """One pipeline: `tieslod validate` is the build's own validation, nothing published."""
    generate(tmp_path / "data", 8, seed=2, defects=4)
    settings = Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "out")
    checked = api_validate(settings)
    assert not checked.conforms and not (tmp_path / "out").exists(), "validate writes nothing"
    with pytest.raises(NonConformance) as caught:
        build(settings)
    assert caught.value.report.violations == checked.violations  # type: ignore[union-attr]
    assert not any((tmp_path / "out" / "releases").iterdir()), "a failed build publishes nothing"
    assert not (tmp_path / "out" / "current").exists()


def test_pyshacl_is_pinned_to_the_versions_the_fast_path_was_proven_against(repo_root: Path) -> None:
    """compiled.py follows pyshacl's behaviour component by component: another minor version may
    differ, so pyproject.toml bounds it, and the version installed is inside the bounds."""
    import re
    import tomllib
    from importlib.metadata import version

    deps = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    spec = next(d for d in deps if d.startswith("pyshacl"))
    bounds = {op: tuple(map(int, v.split("."))) for op, v in re.findall(r"(>=|<)\s*([\d.]+)", spec)}
    assert "<" in bounds and ">=" in bounds, spec
    installed = tuple(map(int, version("pyshacl").split(".")[:len(bounds["<"])]))
    assert bounds[">="] <= installed < bounds["<"], (spec, version("pyshacl"))
