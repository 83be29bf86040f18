"""The neighbourhood picture of an entity (querying/neighbourhood.py) on the bundled release: every tie
the store holds around it is drawn, each node links to its page, and the same data always gives the
same picture whatever order the rows come in."""
from __future__ import annotations

import json
import re

import pytest

from tieslod.querying.neighbourhood import MAX_NODES, graph_from_results, limit_depth, neighbourhood_query, picture
from tieslod.querying.store import open_read_only, run_query
from tieslod.vocab import prefix_block

E = "https://w3id.org/tieslod/id/"
IONOV = E + "alexander-ionov"


def href(iri: str) -> str:
    return "/id/" + iri.removeprefix(E)


@pytest.fixture(scope="module")
def store(real_build):
    return open_read_only(real_build.release_dir)


def direct_neighbours(store, iri: str) -> set[str]:
    query = prefix_block() + f"""SELECT DISTINCT ?other WHERE {{
      ?tie tl:subject|tl:object <{iri}> ; tl:subject|tl:object ?other FILTER (?other != <{iri}>) }}"""
    return {b["other"]["value"] for b in json.loads(run_query(store, query).body)["results"]["bindings"]}


def test_the_picture_shows_every_direct_tie_and_links_every_node(store) -> None:
    body = run_query(store, neighbourhood_query(IONOV)).body
    drawn = picture(body, IONOV, "Alexander Ionov", "http://schema.org/Person", href)
    neighbours = direct_neighbours(store, IONOV)
    assert len(neighbours) >= 5
    assert {href(n) for n in neighbours} == {row["href"] for row in drawn.neighbours}
    links = set(re.findall(r'<a href="([^"]+)"', drawn.svg))
    assert {href(n) for n in neighbours} <= links
    assert drawn.svg.count('class="node center"') == 1 and "<title>Alexander Ionov (Person)</title>" in drawn.svg
    assert drawn.depth in (1, 2) and drawn.nodes == len(links) and drawn.nodes <= max(MAX_NODES, len(neighbours) + 1)


def test_the_same_rows_in_another_order_give_the_same_picture(store) -> None:
    body = run_query(store, neighbourhood_query(IONOV)).body
    rows = json.loads(body)
    rows["results"]["bindings"].reverse()
    again = json.dumps(rows).encode()
    assert picture(again, IONOV, "Alexander Ionov", None, href) == picture(body, IONOV, "Alexander Ionov", None, href)


def test_an_entity_without_ties_is_one_dot() -> None:
    empty = json.dumps({"head": {"vars": []}, "results": {"bindings": []}}).encode()
    drawn = picture(empty, E + "nobody", "No <One>", "http://schema.org/Person", href)
    assert (drawn.nodes, drawn.neighbours) == (1, [])
    assert "No &lt;One&gt;" in drawn.svg and "No <One>" not in drawn.svg      # labels are escaped
    graph, depth = limit_depth(graph_from_results(empty), E + "nobody")
    assert (len(graph), depth) == (0, 0)
