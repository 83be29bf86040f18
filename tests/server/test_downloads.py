"""/dumps/, /.well-known/void and /context.jsonld (server/downloads.py) on a real server, read by real
clients (moved from tests/server/test_pages.py and tests/test_machine.py, issue 12)."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re

import httpx
import pytest
import rdflib

from _ldserver import BROWSER, get


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


def test_claim_csv_is_still_served_as_csv(real_site: str, manifest: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(httpx.get(real_site + "/dumps/tieslod-claims.csv").text)))
    assert len(rows) == manifest["counts"]["claims"]
