"""Per-graph build products (parts.py): union bodies and the index of which chunks describe a node."""
from __future__ import annotations

import pyoxigraph as ox

from tieslod.building.parts import Chunk, Describers, union_bodies

G = ox.NamedNode("https://x/g")


def _chunk(key: str, subjects: list[str]) -> Chunk:
    return Chunk(key, f"https://x/{key}", "", "", 0, subjects, {}, {}, {}, b"")


def test_describers_lists_every_chunk_describing_a_node_in_graph_order() -> None:
    found = Describers([_chunk("a", ["n1", "n2"]), _chunk("b", ["n2", "n3"]), _chunk("c", ["n2"])])
    assert found.get("n1") == [0] and found.get("n2") == [0, 1, 2] and found.get("n4") == []
    assert found.shared() == ["n2"]


def test_union_bodies_are_the_graph_without_its_name() -> None:
    quads = [ox.Quad(ox.NamedNode(f"https://x/s{i}"), ox.NamedNode("https://x/p"), ox.Literal(str(i)), G)
             for i in range(3)]     # sorted by subject, as a chunk's are
    bodies = union_bodies(quads, {"x": "https://x/"})
    assert {q.triple for q in ox.parse(bodies["nt"], format=ox.RdfFormat.N_TRIPLES)} == {q.triple for q in quads}
    turtle = b"@prefix x: <https://x/> .\n" + bodies["ttl"]
    assert {q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)} == {q.triple for q in quads}
    assert not bodies["ttl"].startswith(b"@prefix"), "the release writes the prefixes once"
