"""The machine description of one resource (querying/resource.py), read by rdflib from a real server:
every tie, claim, evidence and source it needs (moved from tests/server/test_pages.py, issue 12)."""
from __future__ import annotations

import pytest
import rdflib

from _ldserver import IONOV, W3ID


@pytest.mark.parametrize("fmt", ["turtle", "json-ld", "nt", "xml"])
def test_machine_description_is_self_contained(real_site: str, fmt: str) -> None:
    g = rdflib.Graph().parse(real_site + IONOV, format=fmt)
    me = rdflib.URIRef(W3ID + "id/alexander-ionov")
    tl = rdflib.Namespace(W3ID + "ontology#")
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    assert (me, rdflib.RDFS.label, rdflib.Literal("Alexander Ionov")) in g
    ties = set(g.subjects(tl.subject, me)) | set(g.subjects(tl.object, me))
    assert len(ties) >= 5
    for tie in ties:
        claims = list(g.subjects(tl.tie, tie))
        assert claims, f"no claim for {tie}"
        for claim in claims:
            assert g.value(claim, tl.stance) is not None and g.value(claim, tl.quote) is not None
            ev = g.value(claim, tl.evidence)
            assert ev is not None and any(g.objects(ev, oa.hasSelector))
            source = g.value(claim, rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))
            assert g.value(source, rdflib.RDFS.label) is not None
        for end in (g.value(tie, tl.subject), g.value(tie, tl.object)):
            assert g.value(end, rdflib.RDFS.label) is not None, f"no label for {end}"
