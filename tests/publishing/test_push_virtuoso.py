"""`tieslod push` against a real Virtuoso (tests/_virtuoso.py) with digest authentication: every graph
holds exactly the release's triples afterwards, checked by SPARQL and by rdflib isomorphism; also when
interrupted, for the union, and past Virtuoso's cap on what a Graph Store GET returns."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import to_isomorphic
from test_push import FailAfter, release_on

from _virtuoso import PASSWORD, USER, Virtuoso
from synthetic import generate
from tieslod.api import push
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.publishing import graphstore
from tieslod.publishing import push as push_mod
from tieslod.publishing.push import PushError, release_graph
from tieslod.publishing.union import union_graph

JSON = {"Accept": "application/sparql-results+json"}


def _counts(server: Virtuoso) -> dict[str, int]:
    """Triples per graph by SPARQL, without Virtuoso's own graphs. No default-graph arm: on Virtuoso the
    default graph of a query is the union of all graphs."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    rows = httpx.post(server.sparql, data={"query": query}, headers=JSON, timeout=60).json()["results"]["bindings"]
    # the release description and the union graph: tested on their own
    skip = server.system_graphs | {release_graph(Settings()), union_graph(Settings())}
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows if r["g"]["value"] not in skip}


def _release_graphs(settings: Settings) -> dict[str, rdflib.Graph]:
    store = ox.Store.read_only(str(settings.out_dir / "current" / "store"))
    out = {}
    for name in store.named_graphs():
        text = ox.serialize([q.triple for q in store.quads_for_pattern(None, None, None, name)],
                            format=ox.RdfFormat.N_TRIPLES)
        out[name.value] = rdflib.Graph().parse(data=text, format="nt")
    return out


def _remote_graph(server: Virtuoso, graph: str) -> rdflib.Graph:
    """The graph as Virtuoso's query service returns it (CONSTRUCT is not capped like a Graph Store GET)."""
    response = httpx.post(server.sparql, data={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
                          headers={"Accept": "application/n-triples"}, timeout=60)
    response.raise_for_status()
    return rdflib.Graph().parse(data=response.text, format="nt")


@pytest.fixture()
def built(mini_settings: Settings) -> Settings:
    build(mini_settings)
    return mini_settings


def test_the_graph_store_endpoint_wants_digest_credentials(virtuoso: Virtuoso) -> None:
    body = {"content": b"<urn:s> <urn:p> <urn:o> .\n", "headers": {"Content-Type": "application/n-triples"}}
    anonymous = httpx.put(virtuoso.gsp, params={"graph": "urn:g"}, **body)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Digest ")
    wrong = httpx.put(virtuoso.gsp, params={"graph": "urn:g"}, auth=httpx.DigestAuth(USER, "wrong"), **body)
    assert wrong.status_code == 401
    assert _counts(virtuoso) == {}


def test_push_per_source_verifies_every_graph(built: Settings, virtuoso: Virtuoso) -> None:
    result = push(built, virtuoso.gsp, per_source=True, batch_triples=25, auth=virtuoso.auth)
    assert result.graphs == _counts(virtuoso)
    assert set(result.graphs) >= {built.graph_iri("mini"), built.graph_iri("entities"), built.graph_iri("ontology")}
    assert result.requests > len(result.graphs) * 2, "graphs larger than a batch went in several requests"


def test_bundled_release_lands_exactly(real_settings: Settings, virtuoso: Virtuoso, tmp_path: Path) -> None:
    """The CLI as a user runs it; then every graph equals the release's, term for term (language tags,
    xsd:string, xsd:integer, xsd:gYear literals, IRIs)."""
    for journal in real_settings.out_dir.glob("push-journal-*.json"):
        journal.unlink()   # the session's build is shared: another module may have pushed it to this server
    began = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "tieslod.cli", "push", "--endpoint", virtuoso.gsp,
                          "--graph-per-source", "--auth", virtuoso.auth, "--query-endpoint", virtuoso.sparql,
                          "--out", str(real_settings.out_dir)], capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - began
    assert run.returncode == 0, run.stderr
    print(f"push of the bundled release to Virtuoso: {elapsed:.2f} s")
    expected = _release_graphs(real_settings)
    assert _counts(virtuoso) == {g: len(graph) for g, graph in expected.items()}
    for name, graph in expected.items():
        remote = _remote_graph(virtuoso, name)
        assert to_isomorphic(remote) == to_isomorphic(graph), f"{name} differs: {set(graph) ^ set(remote)}"
    union = rdflib.Graph()
    for graph in expected.values():
        union += graph
    remote = _remote_graph(virtuoso, union_graph(real_settings))
    assert to_isomorphic(remote) == to_isomorphic(union), "the union graph is the union of the graphs"


def test_interrupted_push_resumes_without_loss_or_duplicates(built: Settings, virtuoso: Virtuoso,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphstore, "RETRIES", 1)
    client = httpx.Client(transport=FailAfter(7), auth=httpx.DigestAuth(USER, PASSWORD))
    with pytest.raises(PushError):
        push(built, virtuoso.gsp, per_source=True, batch_triples=25, client=client)
    partial = _counts(virtuoso)
    resumed = push(built, virtuoso.gsp, per_source=True, batch_triples=25, auth=virtuoso.auth)
    assert resumed.skipped >= 1, "graphs completed before the failure are not sent again"
    full = _counts(virtuoso)
    assert sum(full.values()) > sum(partial.values()) and full == resumed.graphs
    for journal in built.out_dir.glob("push-journal-*.json"):
        journal.unlink()   # forget what was sent: a full repeat replaces (PUT), never duplicates
    repeat = push(built, virtuoso.gsp, per_source=True, batch_triples=25, auth=virtuoso.auth)
    assert repeat.sent == len(repeat.graphs) and _counts(virtuoso) == full


def test_union_needs_a_named_graph_on_virtuoso(built: Settings, virtuoso: Virtuoso,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Virtuoso's Graph Store endpoint has no default graph: a clear error, then --graph works."""
    monkeypatch.setattr(graphstore, "RETRIES", 1)
    with pytest.raises(PushError, match="default graph"):
        push(built, virtuoso.gsp, auth=virtuoso.auth)
    target = "https://example.org/graph/union"
    result = push(built, virtuoso.gsp, graph=target, auth=virtuoso.auth, batch_triples=500)
    manifest = __import__("json").loads((built.out_dir / "current" / "manifest.json").read_text())
    assert result.graphs == {target: manifest["counts"]["triples"]} == _counts(virtuoso)


def test_graphs_past_the_graph_store_get_cap(tmp_path: Path, virtuoso: Virtuoso) -> None:
    """A stock Virtuoso returns at most ResultSetMaxRows (10000) triples to a Graph Store GET: counting
    that way would call a complete push incomplete; counting by SPARQL COUNT is exact."""
    generate(tmp_path / "data", 30, seed=3)
    settings = Settings(data_dir=tmp_path / "data", out_dir=tmp_path / "build")
    build(settings)
    target = "https://example.org/graph/big"
    with pytest.raises(PushError, match="--query-endpoint"):
        push(settings, virtuoso.gsp, graph=target, auth=virtuoso.auth)
    result = push(settings, virtuoso.gsp, graph=target, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)
    assert result.graphs[target] > 10_000 and result.graphs == _counts(virtuoso)


def test_literals_virtuoso_merges_by_value_fail_the_push(built: Settings, virtuoso: Virtuoso,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Virtuoso stores numbers and booleans by value: "1"^^xsd:integer, "1.0"^^xsd:decimal and
    "true"^^xsd:boolean on one subject and predicate become one triple. The count check must say so."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    s, p = ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p")
    triples = [ox.Triple(s, p, ox.Literal(v, datatype=ox.NamedNode(xsd + t)))
               for v, t in (("1", "integer"), ("1.0", "decimal"), ("true", "boolean"))]
    target = "https://example.org/graph/values"
    monkeypatch.setattr(push_mod, "_groups", lambda *_args: {target: triples})
    with pytest.raises(PushError, match="1 triples on the server, 3 in release"):
        push(built, virtuoso.gsp, graph=target, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)


def test_the_release_description_on_virtuoso(built: Settings, virtuoso: Virtuoso) -> None:
    version = __import__("json").loads((built.out_dir / "current" / "manifest.json").read_text())["version"]
    result = push(built, virtuoso.gsp, per_source=True, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)
    assert release_on(virtuoso.sparql, built) == ({version}, set(result.graphs))


def test_the_union_graph_gets_the_difference_over_sparql_update(built: Settings, virtuoso: Virtuoso) -> None:
    """DELETE DATA / INSERT DATA through Virtuoso's digest-protected /sparql-auth: only the change is sent."""
    push(built, virtuoso.gsp, per_source=True, auth=virtuoso.auth, query_endpoint=virtuoso.sparql)
    article = built.data_dir / "articles" / "mini.ttl"
    article.write_text(article.read_text(encoding="utf-8").replace(
        'tl:summary "Carol did not respond."', 'tl:summary "Carol gave no answer."'), encoding="utf-8")
    build(built)
    said: list[str] = []
    result = push(built, virtuoso.gsp, per_source=True, auth=virtuoso.auth, query_endpoint=virtuoso.sparql,
                  update_endpoint=virtuoso.base + "/sparql-auth", progress=said.append)
    sent = [re.search(r"(\d+) triple\(s\) removed, (\d+) added", m) for m in said]
    assert [tuple(map(int, m.groups())) for m in sent if m] in ([(2, 2)], [(1, 1)]), said   # the summary (and what is derived from it)
    assert not any("sending all" in m or "whole" in m for m in said), said
    expected = rdflib.Graph()
    for graph in _release_graphs(built).values():
        expected += graph
    remote = _remote_graph(virtuoso, union_graph(built))
    assert to_isomorphic(remote) == to_isomorphic(expected) and result.union_triples == len(expected)
