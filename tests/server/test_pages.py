"""Linked data on the web (issue 4) against a real_site server on a loopback port: negotiation matrix,
rdflib dereferencing, 301/410/404, landing and search, escaping. Dumps, caching, views, source text, URI
mapping and the ontology page are tested beside this file by module (test_downloads.py, ...; issue 12)."""
from __future__ import annotations

import re

import pytest
import rdflib

from _ldserver import EVIL, IONOV, W3ID, get
from tieslod.config import Settings

# ------------------------------------------------------------------------- negotiation matrix
MATRIX = [
    # accept, suffix, ?format, expected media type
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", "", "text/html"),
    ("text/turtle", "", "", "text/turtle"),
    ("application/ld+json", "", "", "application/ld+json"),
    ("application/json", "", "", "application/ld+json"),
    ("application/n-triples", "", "", "application/n-triples"),
    ("application/rdf+xml", "", "", "application/rdf+xml"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "", "", "application/ld+json"),
    ("application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json", "", "", "text/turtle"),
    ("*/*", "", "", "text/html"),
    (None, "", "", "text/html"),
    ("text/html", ".ttl", "", "text/turtle"),
    ("text/turtle", ".jsonld", "", "application/ld+json"),
    ("text/html", ".nt", "", "application/n-triples"),
    (None, ".rdf", "", "application/rdf+xml"),
    ("text/turtle", ".html", "", "text/html"),
    ("text/html", "", "turtle", "text/turtle"),
    ("text/turtle", "", "jsonld", "application/ld+json"),
    (None, "", "nt", "application/n-triples"),
    (None, "", "rdfxml", "application/rdf+xml"),
    ("text/turtle", "", "html", "text/html"),
    ("application/ld+json", ".ttl", "rdfxml", "text/turtle"),     # the suffix names one document: it wins
]


@pytest.mark.parametrize(("accept", "suffix", "fmt", "expected"), MATRIX)
def test_negotiation_matrix(real_site: str, accept: str | None, suffix: str, fmt: str, expected: str) -> None:
    path = IONOV + suffix + (f"?format={fmt}" if fmt else "")
    r = get(real_site, path, accept)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].split(";")[0] == expected
    assert "Accept" in [v.strip() for v in r.headers["vary"].split(",")]
    ext = {"text/html": "html", "text/turtle": "ttl", "application/ld+json": "jsonld",
           "application/n-triples": "nt", "application/rdf+xml": "rdf"}[expected]
    assert r.headers["content-location"] == f"{real_site}{IONOV}.{ext}"
    links = r.headers["link"]
    assert 'rel="alternate"' in links and f"{IONOV}.{ext}>" not in links   # the other formats only
    assert links.count('rel="alternate"') == 4
    assert r.headers["etag"] and r.headers["last-modified"]


@pytest.mark.parametrize(("accept", "fmt", "status"), [
    ("image/png", "", 406), ("text/html;q=0, */*;q=0", "", 406), (None, "yaml", 400)])
def test_negotiation_failures(real_site: str, accept: str | None, fmt: str, status: int) -> None:
    r = get(real_site, IONOV + (f"?format={fmt}" if fmt else ""), accept)
    assert r.status_code == status
    if status == 406:
        assert "text/turtle" in r.text and 'rel="alternate"' in r.headers["link"]


def test_rdflib_parses_every_entity_uri(real_site: str, real_settings: Settings) -> None:
    """Graph().parse(uri) as it stands, with rdflib's own Accept header, on every URI in the ledger."""
    listed = [line for line in (real_settings.data_dir / "uris.txt").read_text().splitlines()
              if line and not line.startswith("#")]
    assert len(listed) > 50
    lifecycle = rdflib.Graph().parse(real_settings.data_dir / "lifecycle.ttl", publicID=W3ID)
    withdrawn = {str(s).removeprefix(W3ID) for s in lifecycle.subjects(rdflib.OWL.deprecated, None)}
    for rel in listed:
        if rel in withdrawn:      # 410 Gone (urllib raises on it), with the tombstone's triples
            r = get(real_site, "/" + rel, "text/turtle")
            assert r.status_code == 410 and "deprecated" in r.text, rel
            continue
        g = rdflib.Graph().parse(real_site + "/" + rel)    # a renamed URI: 301, followed
        assert (rdflib.URIRef(W3ID + rel), None, None) in g, rel


# ------------------------------------------------------------------------- lifecycle
def test_renamed_uri_answers_301_to_its_successor(mini_site: str) -> None:
    r = get(mini_site, "/id/acme-corporation", "text/turtle")
    assert r.status_code == 301 and r.headers["location"] == f"{mini_site}/id/acme"
    r = get(mini_site, "/id/acme-corporation.jsonld?x=1")
    assert r.status_code == 301 and r.headers["location"] == f"{mini_site}/id/acme.jsonld?x=1"
    g = rdflib.Graph().parse(mini_site + "/id/acme-corporation", format="turtle")   # follows the redirect
    old, new = rdflib.URIRef(W3ID + "id/acme-corporation"), rdflib.URIRef(W3ID + "id/acme")
    assert (old, rdflib.URIRef("http://purl.org/dc/terms/isReplacedBy"), new) in g
    assert (old, rdflib.OWL.sameAs, new) in g


def test_withdrawn_uri_answers_410_with_a_tombstone(mini_site: str) -> None:
    r = get(mini_site, "/id/dave", "text/html")
    assert r.status_code == 410
    assert "withdrawn" in r.text and "Merged by mistake" in r.text
    r = get(mini_site, "/id/dave.ttl")
    assert r.status_code == 410 and "deprecated" in r.text


def test_unknown_uri_answers_404_with_a_search_box(mini_site: str) -> None:
    r = get(mini_site, "/id/nobody-at-all", "text/html")
    assert r.status_code == 404
    assert 'action="/search"' in r.text and 'name="q"' in r.text
    assert get(mini_site, "/id/nobody.ttl").status_code == 404
    assert get(mini_site, "/id/%3Cscript%3E").status_code == 404


# ------------------------------------------------------------------------- pages
def test_landing_and_search(real_site: str) -> None:
    html = get(real_site, "/").text
    for word in ("entities", "ties", "claims", "sources", 'href="/sparql"', 'href="/sparql#query=', 'action="/search"'):
        assert word in html
    r = get(real_site, "/search?q=ionov")
    assert 'href="/id/alexander-ionov"' in r.text
    assert 'href="/id/texas-nationalist-movement"' in get(real_site, "/search?q=TEXAS+nationalist").text
    assert get(real_site, "/search?q=" + "<script>").status_code == 200


def test_labels_are_escaped_everywhere(mini_site: str) -> None:
    for path in ("/id/carol", "/id/bob-jones", "/search?q=carol", "/id/source/mini_site", "/id/tie/bob-jones-met-carol"):
        html = get(mini_site, path, "text/html").text
        assert EVIL not in html and "<script>window" not in html, path
        assert "onerror=" not in html.replace("onerror=&#39;", "") or "&lt;img" in html, path
    html = get(mini_site, "/id/carol", "text/html").text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert embedded and "</" not in embedded.group(1) and "<" not in embedded.group(1)


