"""The ontology: every term labelled, defined and tied to the ontology; a version IRI; used terms exist."""
from __future__ import annotations

from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

TL = rdflib.Namespace("https://w3id.org/tieslod/ontology#")
ONTOLOGY = rdflib.URIRef("https://w3id.org/tieslod/ontology")


def _ontology(root: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(root / "ontology" / "tieslod.ttl")


def test_ontology_has_a_version_iri(repo_root: Path) -> None:
    graph = _ontology(repo_root)
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in graph
    version = graph.value(ONTOLOGY, OWL.versionIRI)
    assert version is not None and str(version).startswith(str(ONTOLOGY) + "/")


def test_every_term_has_label_definition_and_is_defined_by(repo_root: Path) -> None:
    graph = _ontology(repo_root)
    terms = {s for s in graph.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(str(TL))}
    assert len(terms) > 40
    for term in terms:
        assert graph.value(term, RDFS.label) is not None, term
        assert graph.value(term, SKOS.definition) is not None, term
        assert graph.value(term, RDFS.isDefinedBy) == ONTOLOGY, term


def test_every_tl_term_the_data_uses_is_defined(real_build) -> None:
    data = rdflib.Graph().parse(real_build.release_dir / "dumps" / "tieslod.nt")
    onto = _ontology(Path(__file__).resolve().parent.parent)
    used = {t for triple in data for t in triple
            if isinstance(t, rdflib.URIRef) and str(t).startswith(str(TL))}
    missing = {t for t in used if onto.value(t, RDFS.isDefinedBy) is None}
    assert not missing, missing


def test_tie_categories_say_what_subject_and_object_stand_for(repo_root: Path) -> None:
    graph = _ontology(repo_root)
    categories = set(graph.subjects(RDFS.subClassOf, TL.Tie))
    assert {TL.Funding, TL.Meeting, TL.Association} <= categories
    for category in categories:
        assert graph.value(category, TL.subjectRole) and graph.value(category, TL.objectRole), category


def test_the_builds_tie_classes_are_the_ontologys(repo_root: Path) -> None:
    """describe.TIE_CLASSES (the counts, the changelog) lists every tie category, e.g. tl:Professional."""
    from tieslod.building.void import TIE_CLASSES
    categories = {str(c).removeprefix(str(TL)) for c in _ontology(repo_root).subjects(RDFS.subClassOf, TL.Tie)}
    assert set(TIE_CLASSES) == categories


def test_issue_10_terms(repo_root: Path) -> None:
    """Claim-level qualifiers, the six modalities, hedges, descriptors, the new verdict and categories."""
    graph = _ontology(repo_root)
    for prop in ("when", "role", "item", "purpose", "relationText", "statedWhen", "speakerText", "hedge",
                 "descriptor", "modality", "participant", "onBehalfOf", "event", "status", "year"):
        assert graph.value(TL[prop], RDFS.domain) == TL.Claim, prop
    modalities = set(graph.subjects(RDF.type, TL.Modality))
    assert modalities == {TL.Suspected, TL.Apparent, TL.Claimed, TL.Likely, TL.Supposed, TL.Alleged}
    assert (TL.Unlikely, RDF.type, TL.Verdict) in graph
    assert {TL.Professional, TL.Personal} <= set(graph.subjects(RDFS.subClassOf, TL.Tie))
    assert "membership" in str(graph.value(TL.Professional, SKOS.definition))


def test_context_terms_point_at_defined_iris(repo_root: Path) -> None:
    import json
    context = json.loads((repo_root / "ontology" / "context.jsonld").read_text())["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.startswith("http")}
    onto = _ontology(repo_root)
    for term, value in context.items():
        iri = value["@id"] if isinstance(value, dict) else value
        if not isinstance(iri, str) or ":" not in iri or term.startswith("@") or term in prefixes:
            continue
        prefix, local = iri.split(":", 1)
        if prefix == "tl":
            assert onto.value(TL[local], RDFS.isDefinedBy) is not None, term
