"""Assembling the dataset: evidence anchored by offsets, provenance, labels, one graph per article."""
from __future__ import annotations

import pyoxigraph as ox
import pytest

from tieslod.config import Settings
from tieslod.model.graph import anchor, assemble
from tieslod.model.sources import read_inputs

OA = "http://www.w3.org/ns/oa#"


def _props(quads: list[ox.Quad], node: str) -> dict[str, str]:
    return {q.predicate.value: q.object.value for q in quads if q.subject.value == node}


def test_anchor_finds_the_single_occurrence() -> None:
    assert anchor("a bc d", "bc") == (2, 4)
    with pytest.raises(ValueError, match="not found"):
        anchor("abc", "x")
    with pytest.raises(ValueError, match="occurs 2 times"):
        anchor("bc bc", "bc")


def test_evidence_selectors_point_at_the_quote(mini_settings: Settings) -> None:
    dataset = assemble(read_inputs(mini_settings), mini_settings)
    quads = dataset.parts["mini"].quads
    text = (mini_settings.data_dir / "sources" / "mini.txt").read_text(encoding="utf-8")
    claim = f"{mini_settings.base_uri}id/claim/mini-02"
    position = _props(quads, claim + "#position-1")
    quote = _props(quads, claim + "#quote-1")
    start, end = int(position[OA + "start"]), int(position[OA + "end"])
    assert text[start:end] == quote[OA + "exact"] == "Bob Jones denied he ever met Carol."
    assert text[:start].endswith(quote[OA + "prefix"]) and text[end:].startswith(quote[OA + "suffix"])
    evidence = _props(quads, claim + "#evidence-1")
    assert evidence[OA + "hasSource"] == f"{mini_settings.base_uri}id/source/mini"


def test_claims_derive_from_their_source_and_sources_carry_text(mini_settings: Settings) -> None:
    dataset = assemble(read_inputs(mini_settings), mini_settings)
    quads = dataset.parts["mini"].quads
    claim = _props(quads, f"{mini_settings.base_uri}id/claim/mini-01")
    assert claim["http://www.w3.org/ns/prov#wasDerivedFrom"] == f"{mini_settings.base_uri}id/source/mini"
    source = _props(quads, f"{mini_settings.base_uri}id/source/mini")
    assert source["http://schema.org/text"].startswith("Acme Corp gave")
    assert len(source["https://w3id.org/tieslod/ontology#sha256"]) == 64


def test_ties_get_readable_labels(mini_settings: Settings) -> None:
    dataset = assemble(read_inputs(mini_settings), mini_settings)
    tie = _props(dataset.parts["mini"].quads, f"{mini_settings.base_uri}id/tie/acme-funded-bob-jones")
    assert tie["http://www.w3.org/2000/01/rdf-schema#label"] == "Acme Corp – funding → Bob Jones"


def test_one_named_graph_per_article_plus_entities_and_ontology(mini_settings: Settings) -> None:
    dataset = assemble(read_inputs(mini_settings), mini_settings)
    assert sorted(dataset.parts) == ["entities", "mini", "ontology"]
    for key, part in dataset.parts.items():
        assert {q.graph_name.value for q in part.quads} == {f"{mini_settings.base_uri}graph/{key}"}


def test_no_blank_nodes_anywhere(real_build) -> None:
    """Stable IRIs for every node keep the dumps deterministic and every node citable."""
    quads = ox.parse(path=str(real_build.release_dir / "dumps" / "tieslod.nq"), format=ox.RdfFormat.N_QUADS)
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
