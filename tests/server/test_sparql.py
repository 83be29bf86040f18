"""The /sparql endpoint against a real `tieslod serve` on a loopback port, with real clients."""
from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
import uuid

import httpx
import psutil
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

TIMEOUT = 2.0            # the server's --timeout: small, to keep the deadline tests quick
MAX_RESULT = 300_000     # the server's --max-result-bytes: the whole dataset as N-Triples is larger
E = "https://w3id.org/tieslod/id/"
G = "https://w3id.org/tieslod/graph/"
TL = "https://w3id.org/tieslod/ontology#"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"   # ~5e10 rows
CLAIMS_OF_IONOV = f"""PREFIX tl: <{TL}>
SELECT ?claim ?stance WHERE {{ ?tie tl:subject <{E}alexander-ionov> . ?claim tl:tie ?tie ; tl:stance ?stance }}
ORDER BY ?claim"""
CONSTRUCT_IONOV = f"CONSTRUCT WHERE {{ <{E}alexander-ionov> ?p ?o }}"


@pytest.fixture(scope="module")
def server(tieslod_serve, real_settings):
    return tieslod_serve("--out", str(real_settings.out_dir), "--timeout", str(TIMEOUT),
                         "--max-result-bytes", str(MAX_RESULT), "--workers", "2")


def get(server, query: str, accept: str | None = None, **params) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return httpx.get(server.sparql, params={"query": query, **params}, headers=headers, timeout=30)


def bindings(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


# --- protocol ----------------------------------------------------------------------------------

def test_service_description_on_get_without_query(server):
    response = httpx.get(server.sparql, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef(server.sparql)) in graph
    assert (None, sd.feature, sd.UnionDefaultGraph) in graph
    assert len(list(graph.objects(None, sd.resultFormat))) == 10
    assert (None, sd.name, rdflib.URIRef(G + "entities")) in graph
    as_jsonld = httpx.get(server.sparql, headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(rdflib.Graph().parse(data=as_jsonld.text, format="json-ld")) == len(graph)


def test_get_post_form_and_post_direct_agree(server):
    by_get = bindings(get(server, CLAIMS_OF_IONOV))
    assert len(by_get) >= 3
    form = httpx.post(server.sparql, data={"query": CLAIMS_OF_IONOV}, headers={"Accept": "application/json"})
    direct = httpx.post(server.sparql, content=CLAIMS_OF_IONOV.encode(),
                        headers={"Content-Type": "application/sparql-query; charset=utf-8"})
    assert bindings(form) == by_get == bindings(direct)


def test_union_default_graph_and_dataset_parameters(server, manifest):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    n = lambda response: int(bindings(response)[0]["n"]["value"])
    assert n(get(server, count)) == manifest["counts"]["quads"]
    entities = manifest["graphs"]["entities"]["quads"]
    assert n(get(server, count, **{"default-graph-uri": G + "entities"})) == entities
    assert n(get(server, count.replace("WHERE", f"FROM <{G}entities> WHERE"))) == entities
    named = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = bindings(get(server, named, **{"named-graph-uri": G + "entities"}))
    assert [r["g"]["value"] for r in rows] == [G + "entities"]
    direct = httpx.post(server.sparql, content=count, params={"default-graph-uri": G + "entities"},
                        headers={"Content-Type": "application/sparql-query"})
    assert n(direct) == entities


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_in_every_results_format(server, fmt):
    client = SPARQLWrapper(server.sparql)
    client.setQuery(CLAIMS_OF_IONOV)
    client.setReturnFormat(fmt)
    result = client.query()
    converted = result.convert()
    expected = len(bindings(get(server, CLAIMS_OF_IONOV)))
    if fmt == JSON:
        assert len(converted["results"]["bindings"]) == expected
    elif fmt == XML:
        assert len(converted.getElementsByTagName("result")) == expected
    else:
        text = converted.decode() if isinstance(converted, bytes) else converted
        assert len(text.strip().splitlines()) == expected + 1     # a header line, then one per row


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_sparqlwrapper_ask(server, fmt):
    client = SPARQLWrapper(server.sparql)
    client.setQuery(f"ASK {{ <{E}alexander-ionov> ?p ?o }}")
    client.setReturnFormat(fmt)
    converted = client.query().convert()
    assert converted["boolean"] is True if fmt == JSON else \
        converted.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("fmt, method", [(TURTLE, "GET"), (N3, "GET"), (XML, "GET"), (RDFXML, "POST"),
                                         (JSONLD, "GET")])
def test_sparqlwrapper_construct_in_every_graph_format(server, fmt, method):
    client = SPARQLWrapper(server.sparql)
    client.setQuery(CONSTRUCT_IONOV)
    client.setReturnFormat(fmt)
    if method == "POST":
        client.setMethod(POST)
    converted = client.query().convert()
    graph = converted if isinstance(converted, rdflib.Graph) else rdflib.Graph().parse(data=converted, format="turtle")
    assert len(graph) >= 4
    assert (rdflib.URIRef(E + "alexander-ionov"), rdflib.RDFS.label, rdflib.Literal("Alexander Ionov")) in graph


@pytest.mark.parametrize("media, parser", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/n-quads", "nquads"),
    ("application/trig", "trig"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")])
def test_construct_in_every_rdf_format(server, media, parser):
    response = get(server, CONSTRUCT_IONOV, media)
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    graph = rdflib.Dataset().parse(data=response.text, format=parser)
    assert len(graph) >= 4


def test_rdflib_sparqlstore(server):
    graph = rdflib.Graph(store=SPARQLStore(server.sparql, returnFormat="xml"))
    rows = list(graph.query(CLAIMS_OF_IONOV))
    assert len(rows) == len(bindings(get(server, CLAIMS_OF_IONOV)))
    labels = list(graph.objects(rdflib.URIRef(E + "alexander-ionov"), rdflib.RDFS.label))
    assert labels == [rdflib.Literal("Alexander Ionov")]


# --- content negotiation --------------------------------------------------------------------------

@pytest.mark.parametrize("query, accept, expected", [
    (CLAIMS_OF_IONOV, None, "application/sparql-results+json"),
    (CLAIMS_OF_IONOV, "*/*", "application/sparql-results+json"),
    (CLAIMS_OF_IONOV, "text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    (CLAIMS_OF_IONOV, "application/sparql-results+json;q=0.1, text/tab-separated-values;q=0.9",
     "text/tab-separated-values"),
    (CLAIMS_OF_IONOV, "text/html, application/xhtml+xml, */*;q=0.8", "application/sparql-results+json"),
    (CLAIMS_OF_IONOV, "application/json", "application/sparql-results+json"),
    (CONSTRUCT_IONOV, "application/sparql-results+json;q=1, text/turtle;q=0.2", "text/turtle"),
    (CONSTRUCT_IONOV, "text/*", "text/turtle"),
    (CONSTRUCT_IONOV, "application/n-quads, text/turtle;q=0.9", "application/n-quads"),
    (CONSTRUCT_IONOV, "*/*;q=0.1, application/rdf+xml", "application/rdf+xml"),
])
def test_accept_with_q_values(server, query, accept, expected):
    response = get(server, query, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("query, accept", [
    (CLAIMS_OF_IONOV, "text/html"), (CLAIMS_OF_IONOV, "text/turtle"),
    (CONSTRUCT_IONOV, "application/sparql-results+json"), (CLAIMS_OF_IONOV, "*/*;q=0"),
])
def test_nothing_acceptable_is_406(server, query, accept):
    response = get(server, query, accept)
    assert response.status_code == 406
    assert "acceptable" in response.text or "accepts no format" in response.text


def test_format_parameter_wins_over_accept(server):
    response = get(server, CLAIMS_OF_IONOV, "application/sparql-results+json", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    response = get(server, CONSTRUCT_IONOV, "text/turtle", format="application/n-triples")
    assert response.headers["content-type"].startswith("application/n-triples")
    assert get(server, CLAIMS_OF_IONOV, format="png").status_code == 400


# --- errors, limits, safety ------------------------------------------------------------------------

def test_bad_query_is_400_with_position(server):
    response = get(server, "SELECT * WHERE { ?s ?p ?o ")
    assert response.status_code == 400
    assert "error at 1:" in response.text


@pytest.mark.parametrize("request_kwargs", [
    {"data": {"update": "INSERT DATA { <x:a> <x:b> <x:c> }"}},
    {"content": b"INSERT DATA { <x:a> <x:b> <x:c> }", "headers": {"Content-Type": "application/sparql-update"}},
    {"data": {"query": "DELETE WHERE { ?s ?p ?o }"}},
    {"data": {"query": "PREFIX x: <http://x/> LOAD <file:///etc/passwd>"}},
])
def test_updates_are_refused(server, request_kwargs):
    response = httpx.post(server.sparql, **request_kwargs)
    assert response.status_code == 400
    assert "read-only" in response.text
    assert get(server, "ASK { <x:a> ?p ?o }").json()["boolean"] is False


def test_protocol_mistakes(server):
    assert httpx.post(server.sparql, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert httpx.post(server.sparql, data={}).status_code == 400
    assert httpx.get(server.sparql, params=[("query", "ASK {}"), ("query", "ASK {}")]).status_code == 400
    assert httpx.put(server.sparql, content=b"ASK {}").status_code == 405


def test_oversized_body_is_413(server):
    big = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 1_100_000
    assert httpx.post(server.sparql, data={"query": big}).status_code == 413
    direct = httpx.post(server.sparql, content=big.encode(), headers={"Content-Type": "application/sparql-query"})
    assert direct.status_code == 413

    def chunks():   # no Content-Length: the limit must hold while reading
        for _ in range(12):
            yield b"#" + b"x" * 99_999

    chunked = httpx.post(server.sparql, content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert chunked.status_code == 413
    assert get(server, "ASK {}").status_code == 200   # and the server is fine


def test_oversized_result_is_503_not_truncated(server):
    response = get(server, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    assert response.status_code == 503
    assert "larger than the limit" in response.text


def test_cors_preflight_and_simple_requests(server):
    preflight = httpx.options(server.sparql, headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    simple = httpx.get(server.sparql, params={"query": "ASK {}"}, headers={"Origin": "https://yasgui.example"})
    assert simple.headers["access-control-allow-origin"] == "*"


def test_gzip_when_accepted(server):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 500"
    # httpx decodes gzip itself; look at the raw stream too
    with httpx.Client() as client, client.stream("GET", server.sparql, params={"query": query},
                                                 headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(raw))["results"]["bindings"]) == 500


ROUTED_ONLY = {"date", "server", "access-control-allow-origin", "access-control-expose-headers"}


@pytest.mark.parametrize(("query", "accept", "encoding", "status"), [
    ("ASK {}", "application/sparql-results+json", None, 200),                        # small: as it is
    (CLAIMS_OF_IONOV, "application/sparql-results+json", None, 200),
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 300", None, "gzip", 200),             # gzip, Vary
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 300", "text/csv", "identity", 200),   # Vary, no gzip
    (CONSTRUCT_IONOV, "text/turtle", "gzip, deflate", 200),
    ("SELECT ?s WHERE { ?s ", None, None, 400),                                        # the parser's message
    ("ASK {}", "image/png", None, 406),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples", None, 503),             # Retry-After added
])
def test_lean_route_answers_as_the_routed_path(server, query, accept, encoding, status):
    """A GET without Origin is answered by sparql.LeanRoute, one with Origin by Starlette's stack:
    the same status, body and headers (but CORS's own and the date)."""
    headers = {"Accept-Encoding": encoding or ""}
    if accept:
        headers["Accept"] = accept
    text = query + f" # {uuid.uuid4()}"   # distinct: both answers come from a query worker
    with httpx.Client(timeout=30) as client:
        lean = client.get(server.sparql, params={"query": text}, headers=headers)
        routed = client.get(server.sparql, params={"query": text}, headers={**headers, "Origin": "https://a.example"})
    assert lean.status_code == routed.status_code == status, lean.text
    assert lean.content == routed.content
    assert "access-control-allow-origin" in routed.headers and "access-control-allow-origin" not in lean.headers
    same = {k: v for k, v in lean.headers.items() if k not in ROUTED_ONLY}
    cors = {k: v.replace(", Origin", "") for k, v in routed.headers.items()   # CORS adds Origin to Vary
            if k not in ROUTED_ONLY and (k, v) != ("vary", "Origin")}
    assert same == cors
    if status == 503:
        assert "retry-after" in same
    if encoding == "gzip" and status == 200:
        assert same["content-encoding"] == "gzip" and same["vary"] == "Accept, Accept-Encoding"


def test_service_opens_no_connection(server):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        for query in (f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
                      f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
                      f"SELECT * WHERE {{ BIND(<http://127.0.0.1:{port}/> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}"):
            response = httpx.post(server.sparql, data={"query": query})
            assert response.status_code == 400
            assert "SERVICE" in response.text and "not allowed" in response.text
        time.sleep(1.0)
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert connections == []


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) so far of each descendant of `pid` still running."""
    found = {}
    for proc in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE:
                times = proc.cpu_times()
                found[proc.pid] = times.user + times.system
    return found


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_deadline_stops_the_query_and_others_are_served(server):
    """Decided on the processes' own CPU time, not on a share of the machine (which a loaded machine
    does not give): the runaway's worker burns CPU until its deadline, is gone within 0.5 s of it,
    and nothing burns CPU after; another client is answered meanwhile."""
    outcome: dict = {}
    before = cpu_seconds(server.proc.pid)

    def endless() -> None:
        outcome["sent"] = time.monotonic()
        outcome["response"] = httpx.post(server.sparql, data={"query": ENDLESS}, timeout=30)
        outcome["seconds"] = time.monotonic() - outcome["sent"]

    thread = threading.Thread(target=endless)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()                        # a fresh (uncached) query from another client answers
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3")) as other:
        fresh = other.get(server.sparql, params={"query": f"ASK {{ <{E}alexander-ionov> ?p ?o }} # {uuid.uuid4()}"})
    simple_seconds = time.monotonic() - start
    peak: dict[int, float] = {}
    while thread.is_alive() and time.monotonic() < outcome["sent"] + TIMEOUT - 0.1:   # up to the deadline
        for pid, seconds in cpu_seconds(server.proc.pid).items():
            peak[pid] = max(peak.get(pid, 0.0), seconds)
        time.sleep(0.05)
    runaway = max(peak, key=lambda pid: peak[pid] - before.get(pid, 0.0))
    burnt = peak[runaway] - before.get(runaway, 0.0)
    deadline = outcome["sent"] + TIMEOUT
    while not gone(runaway) and time.monotonic() < deadline + 0.5:
        time.sleep(0.02)
    freed = time.monotonic()
    thread.join()
    assert fresh.status_code == 200 and simple_seconds < 1.0
    response = outcome["response"]
    assert response.status_code == 503
    assert "deadline" in response.text
    assert TIMEOUT * 0.9 <= outcome["seconds"] <= TIMEOUT + 2.0
    assert burnt > 0.2, peak                        # the query really ran in that worker...
    assert gone(runaway), f"worker {runaway} still running {freed - deadline:.2f} s after the deadline"
    time.sleep(0.5)                                 # ...and nothing burns CPU once it is killed and replaced
    idle = cpu_seconds(server.proc.pid)
    time.sleep(1.0)
    after = cpu_seconds(server.proc.pid)
    assert sum(after[pid] - idle.get(pid, after[pid]) for pid in after) < 0.15
    assert get(server, f"ASK {{}} # {uuid.uuid4()}").status_code == 200


