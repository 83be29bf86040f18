"""The ontology at its namespace: HTML documentation (server/ontodoc.py) or RDF by negotiation (moved from
test_pages.py, issue 12)."""
from __future__ import annotations

import pytest
import rdflib

from _ldserver import W3ID, get


@pytest.mark.parametrize(("path", "accept", "media"), [
    ("/ontology", "text/html", "text/html"), ("/ontology", "text/turtle", "text/turtle"),
    ("/ontology", "application/ld+json", "application/ld+json"), ("/ontology.ttl", None, "text/turtle")])
def test_ontology_at_its_namespace(real_site: str, path: str, accept: str | None, media: str) -> None:
    r = get(real_site, path, accept)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    if media == "text/html":
        for term in ("Funding", "Claim", "stance", "reportedBy", "Asserts", "Doubted", "Professional", "Personal",
                     "modality", "hedge", "descriptor", "Suspected", "Unlikely"):
            assert f'id="{term}"' in r.text
    else:
        g = rdflib.Graph().parse(data=r.content, format="turtle" if media == "text/turtle" else "json-ld")
        assert (rdflib.URIRef(W3ID + "ontology#Funding"), rdflib.RDF.type, rdflib.OWL.Class) in g
