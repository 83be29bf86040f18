"""SHACL shapes and quote checks: every shape rejects a minimal bad fixture with its own message."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from tieslod.config import Settings
from tieslod.errors import QuoteError
from tieslod.model.graph import assemble
from tieslod.model.sources import read_inputs
from tieslod.validation.shacl import offset_report, validate

BAD = Path(__file__).parents[1] / "data" / "bad"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def _fixture(name: str) -> tuple[str, str, str]:
    lines = (BAD / f"{name}.ttl").read_text(encoding="utf-8").splitlines()
    target = lines[0].removeprefix("# target: ")
    expect = lines[1].removeprefix("# expect: ")
    return target, expect, "\n".join(lines[2:]) + "\n"


def _apply(settings: Settings, name: str) -> str:
    target, expect, body = _fixture(name)
    path = {"article": settings.data_dir / "articles" / "mini.ttl",
            "entities": settings.data_dir / "entities" / "entities.ttl"}[target]
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + body)
    return expect


FIXTURES = sorted(p.stem for p in BAD.glob("*.ttl"))


def test_mini_fixture_conforms(mini_settings: Settings) -> None:
    report = validate(assemble(read_inputs(mini_settings), mini_settings), mini_settings)
    assert report.conforms, report.as_text()


@pytest.mark.parametrize("name", FIXTURES)
def test_bad_fixture_is_rejected_with_its_message(mini_settings: Settings, name: str) -> None:
    expect = _apply(mini_settings, name)
    report = validate(assemble(read_inputs(mini_settings), mini_settings), mini_settings)
    assert not report.conforms
    messages = [v.message for v in report.violations]
    assert any(expect in m for m in messages), f"{expect!r} not in {messages}"


def test_every_node_shape_has_a_fixture(mini_settings: Settings, repo_root: Path) -> None:
    """Each node shape's messages: at least one is expected by some bad fixture."""
    shapes = rdflib.Graph().parse(repo_root / "shapes" / "tieslod-shapes.ttl")
    expected = [_fixture(name)[1] for name in FIXTURES]
    for shape in shapes.subjects(rdflib.RDF.type, SH.NodeShape):
        messages = [str(m) for m in shapes.objects(None, SH.message)
                    if _belongs(shapes, m, shape)]
        assert any(e in m for m in messages for e in expected), f"no bad fixture for shape {shape}"


def _belongs(shapes: rdflib.Graph, message: rdflib.term.Node, shape: rdflib.term.Node) -> bool:
    holders = set(shapes.subjects(SH.message, message))
    direct = set(shapes.objects(shape, SH.property)) | set(shapes.objects(shape, SH.sparql)) | {shape}
    return bool(holders & direct)


def test_every_constraint_has_a_message(repo_root: Path) -> None:
    shapes = rdflib.Graph().parse(repo_root / "shapes" / "tieslod-shapes.ttl")
    for node in set(shapes.objects(None, SH.property)) | set(shapes.objects(None, SH.sparql)):
        assert shapes.value(node, SH.message) is not None, f"constraint without sh:message: {node}"


def test_report_names_file_and_line(mini_settings: Settings) -> None:
    _apply(mini_settings, "claim-two-summaries")
    report = validate(assemble(read_inputs(mini_settings), mini_settings), mini_settings)
    hit = next(v for v in report.violations if "tl:summary" in v.message)
    assert hit.file.endswith("articles/mini.ttl")
    lines = Path(hit.file).read_text(encoding="utf-8").splitlines()
    assert lines[hit.line - 1].startswith("c:mini-01")
    data = json.loads(report.as_json())
    assert data["conforms"] is False and data["violations"][0]["shape"]


def test_quote_not_in_source_names_claim_file_and_quote(mini_settings: Settings) -> None:
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '"Carol did not respond."', '"Carol did respond."'), encoding="utf-8")
    with pytest.raises(QuoteError) as caught:
        assemble(read_inputs(mini_settings), mini_settings)
    message = str(caught.value)
    assert "claim/mini-03" in message and "mini.ttl" in message and "Carol did respond." in message
    assert caught.value.line is not None


def test_ambiguous_quote_is_rejected(mini_settings: Settings) -> None:
    path = mini_settings.data_dir / "articles" / "mini.ttl"
    path.write_text(path.read_text(encoding="utf-8").replace('"Carol did not respond."', '"Carol"'),
                    encoding="utf-8")
    with pytest.raises(QuoteError, match="occurs 2 times"):
        assemble(read_inputs(mini_settings), mini_settings)


def test_offsets_that_miss_their_quote_are_reported(mini_settings: Settings) -> None:
    dataset = assemble(read_inputs(mini_settings), mini_settings)
    part = dataset.parts["mini"]
    start = ox.NamedNode("http://www.w3.org/ns/oa#start")
    part.quads = [ox.Quad(q.subject, q.predicate, ox.Literal("1", datatype=q.object.datatype), q.graph_name)
                  if q.predicate == start and q.subject.value.endswith("mini-02#position-1") else q
                  for q in part.quads]
    problems = offset_report(dataset)
    assert [p.focus for p in problems] == [f"{mini_settings.base_uri}id/claim/mini-02#position-1"]


def test_real_data_conforms(real_build) -> None:
    assert real_build.counts["claims"] >= 40 and real_build.counts["entities"] >= 40
    report = real_build.report
    assert report is None or report.conforms
