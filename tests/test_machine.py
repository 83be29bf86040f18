"""Details that users of Fuseki, Wikidata and Datasette expect from a machine-readable site (issue 14
item 7), against a real server on a loopback port with real clients (httpx, rdflib, SPARQLWrapper)."""
from __future__ import annotations

import csv
import gzip
import io
import json
from xml.etree import ElementTree

import httpx
import pytest
import rdflib
from SPARQLWrapper import XML, SPARQLWrapper
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tieslod.server.headers import ResponseHeaders

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SELECT = "SELECT ?name WHERE { <id/alexander-ionov> rdfs:label ?name }"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def manifest(real_build) -> dict:
    return json.loads((real_build.release_dir / "manifest.json").read_text())


# ------------------------------------------------------------------ search, results formats, headers
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


def test_retry_after_on_every_503_and_429() -> None:
    """The middleware on a real ASGI app through httpx (429 comes from the query budget, 503 from
    deadlines and a busy pool; a route's own Retry-After is kept)."""
    async def busy(request):  # noqa: ANN001, ANN202
        return PlainTextResponse("busy", status_code=int(request.query_params["status"]))

    async def own(request):  # noqa: ANN001, ANN202
        return PlainTextResponse("later", status_code=503, headers={"Retry-After": "120"})

    app = ResponseHeaders(Starlette(routes=[Route("/busy", busy), Route("/own", own)]), retry_after=2.5)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return [await client.get(p) for p in ("/busy?status=503", "/busy?status=429", "/busy?status=500", "/own")]
    import asyncio
    r503, r429, r500, kept = asyncio.run(run())
    assert (r503.headers["retry-after"], r429.headers["retry-after"]) == ("3", "3")
    assert "retry-after" not in r500.headers and kept.headers["retry-after"] == "120"


def test_a_query_past_its_deadline_says_when_to_retry(tieslod_serve, mini_data, tmp_path) -> None:
    server = tieslod_serve("--data", str(mini_data), "--out", str(tmp_path / "b"), "--timeout", "1")
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    response = httpx.get(server.sparql, params={"query": endless}, timeout=30)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


# ------------------------------------------------------------------ dumps
TRIPLE_DUMPS = ["tieslod.ttl", "tieslod.nt"]
QUAD_DUMPS = ["tieslod.nq", "tieslod.trig", "tieslod.jsonld"]


@pytest.mark.parametrize("name", TRIPLE_DUMPS)
def test_rdflib_reads_the_union_dumps_by_url_as_a_graph(real_site: str, manifest: dict, name: str) -> None:
    graph = rdflib.Graph().parse(real_site + "/dumps/" + name)
    assert len(graph) == manifest["counts"]["triples"]


@pytest.mark.parametrize("name", QUAD_DUMPS)
def test_rdflib_reads_the_named_graph_dumps_by_url_as_a_dataset(real_site: str, manifest: dict, name: str) -> None:
    dataset = rdflib.Dataset().parse(real_site + "/dumps/" + name)
    quads = sum(len(g) for g in dataset.graphs() if g.identifier != rdflib.graph.DATASET_DEFAULT_GRAPH_ID)
    assert quads == manifest["counts"]["quads"]
    assert len({g.identifier for g in dataset.graphs()} - {rdflib.graph.DATASET_DEFAULT_GRAPH_ID}) == len(
        manifest["graphs"])


def test_the_dumps_page_says_what_each_file_is_for(real_site: str, manifest: dict) -> None:
    page = httpx.get(real_site + "/dumps/").text
    assert "Graph().parse(url)" in page and "Dataset().parse(url)" in page and "Not RDF" in page
    assert page.count("compressed with gzip, to download") == sum(f["name"].endswith(".gz") for f in manifest["files"])


@pytest.mark.parametrize("name", [*TRIPLE_DUMPS, *QUAD_DUMPS, "tieslod-claims.csv"])
def test_plain_dump_urls_are_sent_gzip_coded_to_clients_that_accept_it(real_site: str, real_build, name: str) -> None:
    plain = (real_build.release_dir / "dumps" / name).read_bytes()
    packed = httpx.get(real_site + "/dumps/" + name, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == plain                                                # httpx decodes it whole
    identity = httpx.get(real_site + "/dumps/" + name, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in identity.headers and identity.content == plain
    archive = httpx.get(real_site + "/dumps/" + name + ".gz", headers={"Accept-Encoding": "identity"})
    assert archive.headers["content-type"] == "application/gzip" and gzip.decompress(archive.content) == plain


def test_current_dump_urls_are_revalidated_soon(real_site: str) -> None:
    response = httpx.get(real_site + "/dumps/tieslod.ttl")
    assert response.headers["cache-control"] == "public, max-age=300" and response.headers["etag"]
    again = httpx.get(real_site + "/dumps/tieslod.ttl", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


# ------------------------------------------------------------------ VoID, crawlers
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


def test_void_lists_only_rdf_dumps_and_negotiates(real_site: str) -> None:
    turtle = rdflib.Graph().parse(data=httpx.get(real_site + "/.well-known/void").text, format="turtle")
    dumps = {str(o).rsplit("/", 1)[-1] for o in turtle.objects(None, VOID.dataDump)}
    assert dumps and not {d for d in dumps if ".csv" in d}
    assert {"tieslod.ttl", "tieslod.nq", "tieslod.jsonld.gz"} <= dumps
    as_jsonld = httpx.get(real_site + "/.well-known/void", headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["content-type"].startswith("application/ld+json")
    assert rdflib.Graph().parse(data=as_jsonld.text, format="json-ld").isomorphic(turtle)
    for accept, media in (("application/n-triples", "application/n-triples"), (BROWSER, "text/turtle"),
                          ("application/rdf+xml", "application/rdf+xml")):
        assert httpx.get(real_site + "/.well-known/void", headers={"Accept": accept}).headers[
            "content-type"].startswith(media), accept


def test_robots_sitemap_and_favicon(real_site: str, manifest: dict) -> None:
    robots = httpx.get(real_site + "/robots.txt")
    assert robots.headers["content-type"].startswith("text/plain")
    assert f"Sitemap: {real_site}/sitemap.xml" in robots.text and "Disallow: /sparql" in robots.text
    sitemap = httpx.get(real_site + "/sitemap.xml")
    assert sitemap.headers["content-type"].startswith("application/xml")
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    urls = [u.text for u in ElementTree.fromstring(sitemap.content).iter(ns + "loc")]
    assert real_site + "/id/alexander-ionov" in urls and real_site + "/id/source/texas-flag-moscow" in urls
    assert not [u for u in urls if "/id/claim/" in u or "/id/tie/" in u]
    assert len(urls) == 1 + manifest["counts"]["entities"] + manifest["counts"]["sources"]   # and the home page
    for url in urls[:12]:
        assert httpx.get(url, headers={"Accept": BROWSER}).status_code == 200, url
    icon = httpx.get(real_site + "/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_claim_csv_is_still_served_as_csv(real_site: str, manifest: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(httpx.get(real_site + "/dumps/tieslod-claims.csv").text)))
    assert len(rows) == manifest["counts"]["claims"]
