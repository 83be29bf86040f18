"""Details that users of Fuseki, Wikidata and Datasette expect from a machine-readable site (issue 14
item 7), against a real server on a loopback port with real clients (httpx, rdflib, SPARQLWrapper). Its
Retry-After, dumps, VoID and crawler tests moved to tests/server/test_headers.py, test_downloads.py and
test_crawl.py (issue 12)."""
from __future__ import annotations

from xml.etree import ElementTree

import httpx
import pytest
from SPARQLWrapper import XML, SPARQLWrapper

from _ldserver import BROWSER

SELECT = "SELECT ?name WHERE { <id/alexander-ionov> rdfs:label ?name }"
SRX = "{http://www.w3.org/2005/sparql-results#}"


# ------------------------------------------------------------------ search, results formats, CORS
@pytest.mark.parametrize("how", [{"headers": {"Accept": "application/json"}}, {"params": {"format": "json"}}])
def test_search_as_json(real_site: str, how: dict) -> None:
    params = {"q": "ionov", **how.get("params", {})}
    response = httpx.get(real_site + "/search", params=params, headers=how.get("headers", {}))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["query"] == "ionov"
    first = data["results"][0]
    assert first["label"] == "Alexander Ionov" and first["iri"] == "https://w3id.org/tieslod/id/alexander-ionov"
    assert first["href"] == real_site + "/id/alexander-ionov" and first["kind"] == "Person"
    assert httpx.get(real_site + "/search", params={"q": "ionov"}, headers={"Accept": BROWSER}).headers[
        "content-type"].startswith("text/html")
    assert httpx.get(real_site + "/search", params={"q": "x", "format": "yaml"}).status_code == 400


def test_select_as_plain_xml_and_plain_text(real_site: str) -> None:
    as_xml = httpx.get(real_site + "/sparql", params={"query": SELECT}, headers={"Accept": "application/xml"})
    assert as_xml.headers["content-type"].startswith("application/sparql-results+xml")
    literal = ElementTree.fromstring(as_xml.content).find(f".//{SRX}literal")
    assert literal is not None and literal.text == "Alexander Ionov"
    as_text = httpx.get(real_site + "/sparql", params={"query": SELECT}, headers={"Accept": "text/plain"})
    assert as_text.headers["content-type"].startswith("text/tab-separated-values")
    assert as_text.text.splitlines() == ["?name", '"Alexander Ionov"']
    graph = httpx.get(real_site + "/sparql", params={"query": "CONSTRUCT WHERE { <id/alexander-ionov> ?p ?o }"},
                      headers={"Accept": "application/xml"})   # graphs still get RDF/XML
    assert graph.headers["content-type"].startswith("application/rdf+xml")
    wrapper = SPARQLWrapper(real_site + "/sparql")
    wrapper.setQuery(SELECT)
    wrapper.setReturnFormat(XML)
    assert wrapper.query().convert().getElementsByTagName("literal")[0].firstChild.data == "Alexander Ionov"


def test_cors_exposes_the_headers_scripts_need(real_site: str) -> None:
    response = httpx.get(real_site + "/id/alexander-ionov", headers={"Origin": "https://example.org",
                                                                     "Accept": "text/turtle"})
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "link", "content-location", "retry-after"} <= exposed
    assert response.headers["access-control-allow-origin"] == "*"


