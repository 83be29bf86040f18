"""`tieslod push` against a real Oxigraph server: nothing lost, nothing duplicated, also when interrupted."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _oxigraph import Oxigraph
from conftest import free_port
from tieslod.api import push
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.publishing import graphstore
from tieslod.publishing.push import PushError, release_graph
from tieslod.publishing.union import union_graph


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    remote = Oxigraph(tmp_path / "remote", free_port())
    remote.start()
    try:
        yield f"http://127.0.0.1:{remote.port}"
    finally:
        remote.stop()


def _counts(base: str) -> dict[str, int]:
    """Per graph on the server, by SPARQL (independent of the protocol push verifies with)."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } } GROUP BY ?g"
    rows = httpx.get(base + "/query", params={"query": query},
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    found = {r.get("g", {}).get("value", ""): int(r["n"]["value"]) for r in rows}
    found.pop(release_graph(Settings()), None)   # the release's description, checked in its own test
    found.pop(union_graph(Settings()), None)     # the union graph, checked in test_push_union.py
    return found


class FailAfter(httpx.BaseTransport):
    """A transport that drops the connection after n requests: an interrupted push."""

    def __init__(self, n: int) -> None:
        self.n, self.inner = n, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.n -= 1
        if self.n < 0:
            raise httpx.ConnectError("injected failure", request=request)
        return self.inner.handle_request(request)


@pytest.fixture()
def built(mini_settings: Settings) -> Settings:
    build(mini_settings)
    return mini_settings


def test_push_per_source_verifies_every_graph(built: Settings, server: str) -> None:
    result = push(built, server + "/store", per_source=True, batch_triples=25)
    on_server = _counts(server)
    assert result.graphs == {g: n for g, n in on_server.items() if g}
    assert set(result.graphs) >= {built.graph_iri("mini"), built.graph_iri("entities"), built.graph_iri("ontology")}
    assert result.requests > len(result.graphs) * 2, "graphs larger than a batch went in several requests"


def test_interrupted_push_resumes_without_loss_or_duplicates(built: Settings, server: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphstore, "RETRIES", 1)
    with pytest.raises(PushError):
        push(built, server + "/store", per_source=True, batch_triples=25, client=httpx.Client(transport=FailAfter(7)))
    partial = _counts(server)
    resumed = push(built, server + "/store", per_source=True, batch_triples=25)
    assert resumed.skipped >= 1, "graphs completed before the failure are not sent again"
    full = _counts(server)
    assert sum(full.values()) > sum(partial.values())
    assert {g: n for g, n in full.items() if g} == resumed.graphs
    again = push(built, server + "/store", per_source=True, batch_triples=25)
    assert again.sent == 0 and _counts(server) == full
    for journal in built.out_dir.glob("push-journal-*.json"):
        journal.unlink()   # forget what was sent: a full repeat replaces (PUT), never duplicates
    repeat = push(built, server + "/store", per_source=True, batch_triples=25)
    assert repeat.sent == len(repeat.graphs) and _counts(server) == full


def test_union_push_to_the_default_graph(built: Settings, server: str) -> None:
    result = push(built, server + "/store", batch_triples=500)
    assert list(result.graphs) == [""] and _counts(server) == {"": result.graphs[""]}
    manifest_triples = __import__("json").loads((built.out_dir / "current" / "manifest.json").read_text())["counts"]["triples"]
    assert result.graphs[""] == manifest_triples


RELEASE_QUERY = """SELECT ?v ?g WHERE { GRAPH <%(d)s> { <%(d)s> <http://www.w3.org/2002/07/owl#versionInfo> ?v .
  OPTIONAL { <%(d)s> <http://rdfs.org/ns/void#subset>/<http://www.w3.org/ns/sparql-service-description#name> ?g } } }"""


def release_on(query_url: str, settings: Settings) -> tuple[set[str], set[str]]:
    """(versions, graphs) that the release description on the server names, by SPARQL."""
    query = RELEASE_QUERY % {"d": release_graph(settings)}
    rows = httpx.post(query_url, data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                      timeout=30).json()["results"]["bindings"]
    return {r["v"]["value"] for r in rows}, {r["g"]["value"] for r in rows if "g" in r}


def test_the_release_description_names_version_and_graphs_last(built: Settings, server: str) -> None:
    version = __import__("json").loads((built.out_dir / "current" / "manifest.json").read_text())["version"]
    result = push(built, server + "/store", per_source=True)
    assert result.release_graph == release_graph(built)
    assert release_on(server + "/query", built) == ({version}, set(result.graphs))
    push(built, server + "/store", graph="https://example.org/graph/union")
    assert release_on(server + "/query", built) == ({version}, {"https://example.org/graph/union"})


def test_a_target_that_lost_its_data_is_repaired_in_one_push(built: Settings, server: str) -> None:
    first = push(built, server + "/store", per_source=True, batch_triples=25)
    full = _counts(server)
    graphs = sorted(g for g in full if g)
    assert len(graphs) >= 3
    # the target loses two graphs whole and part of a third (a restore from an old backup, a bad disk)
    update = f"DROP GRAPH <{graphs[0]}> ; DROP GRAPH <{graphs[1]}> ; " \
             f"DELETE {{ GRAPH <{graphs[2]}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graphs[2]}> {{ ?s ?p ?o }} " \
             f"FILTER(isLiteral(?o)) }}"
    assert httpx.post(server + "/update", data={"update": update}).status_code in (200, 204)
    assert _counts(server) != full
    said: list[str] = []
    repaired = push(built, server + "/store", per_source=True, batch_triples=25, progress=said.append)
    assert _counts(server) == full and repaired.graphs == first.graphs
    assert repaired.sent == 3 and any("3 graph(s) wrong on the server" in m for m in said), said
    assert push(built, server + "/store", per_source=True, batch_triples=25).sent == 0


def test_an_unreadable_journal_means_sending_everything_again(built: Settings, server: str) -> None:
    push(built, server + "/store", per_source=True)
    journal = next(built.out_dir.glob("push-journal-*.json"))
    journal.write_text('{"trunc')
    said: list[str] = []
    again = push(built, server + "/store", per_source=True, progress=said.append)
    assert again.sent == len(again.graphs) and any(str(journal) in m for m in said), said
    assert json.loads(journal.read_text()).keys() == again.graphs.keys()
