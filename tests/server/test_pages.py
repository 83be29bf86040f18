"""Linked data on the web (issue 4) against a real_site server on a loopback port: negotiation matrix,
rdflib dereferencing, 301/410/404, dumps checksums, HTTP caching, escaping."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
import rdflib

from _ldserver import EVIL
from tieslod.config import Settings

W3ID = "https://w3id.org/tieslod/"
IONOV = "/id/alexander-ionov"


def get(origin: str, path: str, accept: str | None = None, **kw: object) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    headers.update(kw.pop("headers", {}))  # type: ignore[arg-type]
    return httpx.get(origin + path, headers=headers, follow_redirects=False, timeout=30, **kw)  # type: ignore[arg-type]


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


# ------------------------------------------------------------------------- dumps, void, ontology
def test_every_dump_matches_its_listed_checksum(real_site: str) -> None:
    page = get(real_site, "/dumps/").text
    rows = re.findall(r'<a href="/dumps/([^"]+)">[^<]*</a></td><td>.*?</td><td>([^<(]+)[^<]*</td><td class="num">[^<]*</td>'
                      r'<td><code class="sum">([0-9a-f]{64})</code>', page)
    assert len(rows) >= 13
    for name, media, digest in rows:
        r = get(real_site, f"/dumps/{name}")
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == digest, name
        assert r.headers["content-type"].split(";")[0] == media.strip()
        assert r.headers["etag"] == f'"{digest}"' and "max-age" in r.headers["cache-control"]
        assert get(real_site, f"/dumps/{name}", headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    assert get(real_site, "/dumps/../manifest.json").status_code == 404


def test_void_and_context(real_site: str) -> None:
    r = get(real_site, "/.well-known/void")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert (None, rdflib.URIRef("http://rdfs.org/ns/void#dataDump"), None) in g
    assert "/.well-known/void" in get(real_site, "/").text
    r = get(real_site, "/context.jsonld")
    assert r.headers["content-type"] == "application/ld+json"
    assert r.headers["access-control-allow-origin"] == "*" and "@context" in r.json()


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


# ------------------------------------------------------------------------- HTTP care and pages
def test_etag_and_last_modified_revalidate_with_304(real_site: str) -> None:
    first = get(real_site, IONOV, "text/turtle")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = get(real_site, IONOV, "text/turtle", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert get(real_site, IONOV, "text/turtle", headers={"If-Modified-Since": modified}).status_code == 304
    assert get(real_site, IONOV, "text/html", headers={"If-None-Match": etag}).status_code == 200  # other variant
    assert get(real_site, "/", headers={"If-None-Match": get(real_site, "/").headers["etag"]}).status_code == 304


def test_entity_page_content(real_site: str) -> None:
    html = get(real_site, IONOV, "text/html").text
    assert "<h1>Alexander Ionov</h1>" in html and "Also called: Ionov" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="neighbourhood"' in html
    assert '<script type="application/ld+json">' in html
    assert html.count('<link rel="alternate"') == 4
    for stance in ("asserted", "denied", "did not respond"):
        assert f'<span class="stance">{stance}</span>' in get(real_site, "/id/texas-nationalist-movement").text
    assert re.search(r'href="/id/source/[a-z-]+#claim-[a-z-]+-\d\d"', html)
    assert 'href="/id/anti-globalization-movement-of-russia"' in html


def test_source_page_highlights_every_evidence_span(real_site: str) -> None:
    html = get(real_site, "/id/source/texas-flag-moscow").text
    ids = set(re.findall(r'id="(claim-texas-flag-moscow-\d\d)"', html))
    assert len(ids) >= 30
    assert 'id="review-texas-flag-moscow-01"' in html
    assert '<mark class="ev claim" id="claim-texas-flag-moscow-03"' in html


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
    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert embedded and "</" not in embedded.group(1) and "<" not in embedded.group(1)


def test_only_http_and_https_iris_become_links(mini_site: str) -> None:
    """Issue 11: an IRI from the data with another scheme (javascript:, data:) is shown, never linked."""
    from _ldserver import EVIL_IRI
    html = get(mini_site, "/id/carol", "text/html").text
    assert EVIL_IRI in html and '<span class="nolink">html,x</span>' in html   # shown as text
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))], hrefs
    assert '<span class="nolink">javascript:window.__pwned=4</span>' in html
    assert 'href="http://schema.org/sameAs"' in html                         # http(s) ones stay links


def test_w3id_base_maps_to_own_paths_and_other_bases_work(tmp_path: Path, mini_data: Path) -> None:
    """With a base on this server's own origin, the IRIs in the data are the server's URLs."""
    from _ldserver import free_port  # noqa: F401 - same helper the server launcher uses
    settings = Settings(data_dir=mini_data, out_dir=tmp_path / "b", base_uri="http://lod.example.org/x/",
                        public_url="http://lod.example.org")
    from tieslod.server.urimap import UriMap
    m = UriMap.from_settings(settings)
    assert m.prefix == "/x/" and m.iri("/x/id/acme") == "http://lod.example.org/x/id/acme"
    assert m.href("http://lod.example.org/x/id/acme") == "/x/id/acme"
    assert UriMap.from_settings(Settings()).href(W3ID + "id/acme") == "/id/acme"
    assert UriMap.from_settings(Settings()).href(W3ID + "ontology#Funding") == "/ontology#Funding"
