"""The union of a per-source push kept in one graph (union.py) on a real `oxigraph serve`: it is the union
of the graphs, named in the description as the default graph; a new release sends only the difference
(over the update endpoint), keeps a triple another graph still states, and a push that fails while the
union changes leaves a state the next push repairs."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from test_push import FailAfter

from _oxigraph import Oxigraph
from conftest import free_port
from tieslod.api import push
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.errors import PushError
from tieslod.publishing import graphstore
from tieslod.publishing import push as push_mod
from tieslod.publishing.push import release_graph
from tieslod.publishing.union import release_union, union_graph

JSON = {"Accept": "application/sparql-results+json"}
SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Oxigraph]:
    remote = Oxigraph(tmp_path / "remote", free_port())
    remote.start()
    try:
        yield remote
    finally:
        remote.stop()


def _store(server: Oxigraph) -> str:
    return f"http://127.0.0.1:{server.port}/store"


def _update(server: Oxigraph) -> str:
    return f"http://127.0.0.1:{server.port}/update"


def _graph(server: Oxigraph, graph: str) -> set[ox.Triple]:
    response = httpx.post(server.query, data={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
                          headers={"Accept": "application/n-triples"}, timeout=30)
    response.raise_for_status()
    return {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)}


def _described(server: Oxigraph, settings: Settings) -> tuple[set[str], set[str]]:
    d = release_graph(settings)
    query = (f"SELECT ?v ?u WHERE {{ GRAPH <{d}> {{ <{d}> <http://www.w3.org/2002/07/owl#versionInfo> ?v "
             f"OPTIONAL {{ <{d}> <{SD}defaultGraph> ?u }} }} }}")
    rows = httpx.post(server.query, data={"query": query}, headers=JSON, timeout=30).json()["results"]["bindings"]
    return {r["v"]["value"] for r in rows}, {r["u"]["value"] for r in rows if "u" in r}


def _release(settings: Settings) -> Path:
    return (settings.out_dir / "current").resolve()


def _version(settings: Settings) -> str:
    return str(json.loads((_release(settings) / "manifest.json").read_text())["version"])


def _edit(settings: Settings, old: str, new: str) -> None:
    """A new release: one claim's summary reworded."""
    article = settings.data_dir / "articles" / "mini.ttl"
    text = article.read_text(encoding="utf-8")
    assert old in text
    article.write_text(text.replace(old, new), encoding="utf-8")
    build(settings)


@pytest.fixture()
def built(mini_settings: Settings) -> Settings:
    build(mini_settings)
    return mini_settings


def test_the_union_graph_is_the_union_and_the_description_names_it(built: Settings, server: Oxigraph) -> None:
    result = push(built, _store(server), per_source=True, batch_triples=25)
    union = release_union(_release(built))
    assert result.union_graph == union_graph(built) and result.union_triples == len(union) > 100
    assert _graph(server, union_graph(built)) == union
    assert _described(server, built) == ({_version(built)}, {union_graph(built)})


def test_a_new_release_sends_only_the_difference(built: Settings, server: Oxigraph) -> None:
    push(built, _store(server), per_source=True, batch_triples=25)
    first = release_union(_release(built))
    _edit(built, 'tl:summary "Carol did not respond."', 'tl:summary "Carol gave no answer."')
    second = release_union(_release(built))
    assert first != second
    said: list[str] = []
    result = push(built, _store(server), per_source=True, batch_triples=25, update_endpoint=_update(server),
                  progress=said.append)
    assert _graph(server, union_graph(built)) == second
    changed = len(first - second) + len(second - first)
    assert any(f"{len(first - second)} triple(s) removed, {len(second - first)} added" in m for m in said), said
    assert not any("sending all" in m or "whole" in m for m in said), said
    assert 0 < changed < 10
    assert _described(server, built) == ({_version(built)}, {union_graph(built)})
    assert result.union_triples == len(second)


def test_a_triple_another_graph_still_states_stays_in_the_union(built: Settings, server: Oxigraph) -> None:
    # the article also states one of the entities graph's triples; the next release drops it from the article
    article = built.data_dir / "articles" / "mini.ttl"
    article.write_text(article.read_text(encoding="utf-8") + '\n<id/carol> a schema:Person .\n', encoding="utf-8")
    build(built)
    carol = ox.Triple(ox.NamedNode(built.base_uri + "id/carol"),
                      ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      ox.NamedNode("http://schema.org/Person"))
    store = ox.Store.read_only(str(_release(built) / "store"))
    assert len(list(store.quads_for_pattern(carol.subject, carol.predicate, carol.object, None))) == 2
    del store
    push(built, _store(server), per_source=True, update_endpoint=_update(server))
    article.write_text(article.read_text(encoding="utf-8").replace('<id/carol> a schema:Person .', ''),
                       encoding="utf-8")
    build(built)
    said: list[str] = []
    push(built, _store(server), per_source=True, update_endpoint=_update(server), progress=said.append)
    assert carol in _graph(server, union_graph(built)), "still stated by the entities graph"
    assert carol not in _graph(server, built.graph_iri("mini"))
    assert _graph(server, union_graph(built)) == release_union(_release(built))
    assert any("0 triple(s) removed, 0 added" in m for m in said), said


def test_without_an_update_endpoint_a_deletion_replaces_the_union_whole(built: Settings, server: Oxigraph) -> None:
    push(built, _store(server), per_source=True)
    _edit(built, 'tl:summary "Carol did not respond."', 'tl:summary "Carol gave no answer."')
    said: list[str] = []
    push(built, _store(server), per_source=True, progress=said.append)
    assert any("sending all" in m for m in said), said
    assert _graph(server, union_graph(built)) == release_union(_release(built))


def test_a_push_failing_while_the_union_changes_is_repaired_by_the_next(built: Settings, server: Oxigraph,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    push(built, _store(server), per_source=True, update_endpoint=_update(server))
    old_version, old = _version(built), release_union(_release(built))
    journal = list(built.out_dir.glob("push-union-*.json"))
    assert len(journal) == 1
    _edit(built, 'tl:summary "Carol did not respond."', 'tl:summary "Carol gave no answer."')
    new = release_union(_release(built))
    monkeypatch.setattr(graphstore, "RETRIES", 1)
    # the changed graph in one PUT, one count per graph (Graph Store GET), the union's DELETE DATA: then
    # the connection drops, before its INSERT DATA
    fail_at = 1 + len(push_mod._groups(_release(built), True, "")) + 1
    with pytest.raises(PushError):
        push(built, _store(server), per_source=True, update_endpoint=_update(server),
             client=httpx.Client(transport=FailAfter(fail_at)))
    assert _graph(server, union_graph(built)) == old & new, "half a difference: removed, nothing added"
    assert not journal[0].exists(), "nothing is claimed about a union graph being changed"
    assert _described(server, built)[0] == {old_version}, "the description still names the old release"
    said: list[str] = []
    push(built, _store(server), per_source=True, update_endpoint=_update(server), progress=said.append)
    assert any("sending all" in m for m in said), said
    assert _graph(server, union_graph(built)) == new
    assert _described(server, built) == ({_version(built)}, {union_graph(built)})


def test_a_union_changed_on_the_server_is_sent_whole_again(built: Settings, server: Oxigraph) -> None:
    push(built, _store(server), per_source=True, update_endpoint=_update(server))
    union = union_graph(built)
    assert httpx.post(_update(server), data={"update": f"DELETE WHERE {{ GRAPH <{union}> {{ ?s a ?t }} }}"}).is_success
    said: list[str] = []
    push(built, _store(server), per_source=True, update_endpoint=_update(server), progress=said.append)
    assert any("sending it whole" in m for m in said), said
    assert _graph(server, union) == release_union(_release(built))


def test_an_article_named_union_is_refused(built: Settings, server: Oxigraph) -> None:
    data = built.data_dir
    (data / "articles" / "mini.ttl").rename(data / "articles" / "union.ttl")
    (data / "sources" / "mini.txt").rename(data / "sources" / "union.txt")
    text = (data / "articles" / "union.ttl").read_text(encoding="utf-8")
    (data / "articles" / "union.ttl").write_text(text.replace('"mini.txt"', '"union.txt"'), encoding="utf-8")
    build(built)
    with pytest.raises(PushError, match="union"):
        push(built, _store(server), per_source=True)
