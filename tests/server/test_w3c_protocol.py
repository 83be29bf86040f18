"""The W3C SPARQL 1.1 Protocol test suite (tests/data/w3c-sparql11-protocol/, copied from w3c/rdf-tests)
run against a real `tieslod serve` on a loopback port with httpx.

Every test of the manifest is read from the manifest itself: requests (method, path, headers, body
in its declared encoding) and expected responses (status class, result format, ASK answer). Each
expectation is one pytest item, so the count of checks is the count of items. Applicable here: the
query operation (20 tests, 42 checks) and the update requests that must fail (7 tests, 7 checks; a
read-only endpoint refuses every update). The 7 update tests that expect an update to succeed are not
applicable to a read-only endpoint and are listed in NOT_APPLICABLE, so a new test in the manifest
cannot be skipped silently. The graphs a test names (ut:graphData) are loaded into the served store."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection

from tieslod.building.release import build
from tieslod.config import Settings

SUITE = Path(__file__).resolve().parents[1] / "data" / "w3c-sparql11-protocol"
MANIFEST_URL = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
NOT_APPLICABLE = {"update_dataset_default_graph", "update_dataset_default_graphs", "update_dataset_named_graphs",
                  "update_dataset_full", "update_post_form", "update_post_direct", "update_base_uri"}
FORMATS = {   # mf:expectedFormat -> the media types the protocol allows for it
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/xhtml+xml"},
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: frozenset[int]       # acceptable status classes: 2 for 2xx...
    fmt: str | None
    boolean: bool | None


@dataclass(frozen=True)
class Case:
    name: str
    requests: tuple[Request, ...]
    graphs: tuple[tuple[str, str], ...]   # (graph IRI, data file name)


def _request(g: rdflib.Graph, node) -> Request:
    resp = g.value(node, HT.resp)
    headers = tuple((str(g.value(h, HT.fieldName)), str(g.value(h, HT.fieldValue)))
                    for h in Collection(g, g.value(node, HT.headers) or rdflib.RDF.nil))
    body = g.value(node, HT.body)
    data = None if body is None else str(g.value(body, CNT.chars)).encode(str(g.value(body, CNT.characterEncoding)))
    boolean = g.value(resp, MF.expectedBoolean)
    fmt = g.value(resp, MF.expectedFormat)
    path = str(g.value(node, HT.absolutePath))
    assert path.startswith("/sparql/")   # the manifest's convention: replace with the endpoint's path
    return Request(str(g.value(node, HT.methodName)), "/sparql" + path[len("/sparql/"):], headers, data,
                   frozenset(int(str(s)[len(HTS)]) for s in g.objects(resp, MF.expectedStatus)),
                   None if fmt is None else str(fmt), None if boolean is None else boolean.toPython())


def load_suite() -> list[Case]:
    g = rdflib.Graph().parse(SUITE / "manifest.ttl", format="turtle", publicID=MANIFEST_URL)
    manifest = next(g.subjects(rdflib.RDF.type, MF.Manifest))
    cases = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(entry, MF.action)
        graphs = tuple(sorted((str(g.value(d, rdflib.RDFS.label)), str(g.value(d, UT.graph)).rsplit("/", 1)[-1])
                              for d in g.objects(entry, UT.graphData)))
        requests = tuple(_request(g, r) for r in Collection(g, g.value(action, HT.requests)))
        cases.append(Case(str(entry).rsplit("#", 1)[-1], requests, graphs))
    return cases


SUITE_CASES = load_suite()
APPLICABLE = [c for c in SUITE_CASES if c.name not in NOT_APPLICABLE]


def checks_of(case: Case) -> list[tuple[Case, int, str]]:
    return [(case, i, what) for i, r in enumerate(case.requests)
            for what, present in (("status", True), ("format", r.fmt), ("boolean", r.boolean is not None)) if present]


CHECKS = [check for case in APPLICABLE for check in checks_of(case)]


def test_the_suite_is_what_we_counted():
    assert len(SUITE_CASES) == 34 and {c.name for c in SUITE_CASES} >= NOT_APPLICABLE
    queries = [c for c in APPLICABLE if "update" not in c.name]
    assert (len(queries), sum(len(checks_of(c)) for c in queries)) == (20, 42)
    assert len(CHECKS) == 49


@pytest.fixture(scope="module")
def endpoint(tieslod_serve, tmp_path_factory) -> str:
    """A server over the mini dataset whose store also holds every graph the suite names."""
    root = tmp_path_factory.mktemp("w3c-protocol")
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "mini", root / "data")
    release = build(Settings(data_dir=root / "data", out_dir=root / "build")).release_dir
    store = ox.Store(str(release / "store"))
    for iri, name in {g for case in SUITE_CASES for g in case.graphs}:
        store.load(path=str(SUITE / name), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(iri))
    store.flush()
    del store   # release RocksDB's lock before the server opens the store
    server = tieslod_serve("--data", str(root / "data"), "--out", str(root / "build"))
    return server.url.rstrip("/")


@pytest.fixture(scope="module")
def responses(endpoint) -> dict[str, list[httpx.Response]]:
    answers: dict[str, list[httpx.Response]] = {}
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        for case in APPLICABLE:
            answers[case.name] = [client.request(r.method, r.path, headers=list(r.headers), content=r.body)
                                  for r in case.requests]
    return answers


def _boolean(response: httpx.Response) -> bool:
    media = response.headers["content-type"].split(";")[0]
    if media == "application/sparql-results+json":
        return json.loads(response.content)["boolean"]
    root = ElementTree.fromstring(response.content)
    return root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"


@pytest.mark.parametrize("case, index, what", CHECKS, ids=[f"{c.name}-{i}-{w}" for c, i, w in CHECKS])
def test_w3c_protocol(responses, case: Case, index: int, what: str):
    expected, response = case.requests[index], responses[case.name][index]
    if what == "status":
        assert response.status_code // 100 in expected.statuses, (response.status_code, response.text)
        return
    assert response.status_code == 200, response.text
    media = response.headers["content-type"].split(";")[0].strip()
    if what == "format":
        assert media in FORMATS[expected.fmt], media
        if expected.fmt == "RDF":   # and it parses as what it says it is
            rdflib.Graph().parse(data=response.content, format={"text/turtle": "turtle",
                                 "application/n-triples": "nt", "application/rdf+xml": "xml"}[media])
    else:
        assert _boolean(response) is expected.boolean
