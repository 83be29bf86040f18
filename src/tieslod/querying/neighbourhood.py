"""The neighbourhood of an entity (its ties to depth 1 or 2) as an inline SVG drawn on the server.

Layout is networkx's spring layout started from a shell layout (the entity in the middle, its
direct neighbours on the first ring), with the entity pinned to the centre and a fixed seed, so the
same data always gives the same picture. Each node is a link to its page."""
from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

import networkx as nx
import pyoxigraph as ox

from ..vocab import SCHEMA, prefix_block

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MAX_NODES = 28        # beyond this a depth-2 picture stops being readable: fall back to depth 1
WIDTH, HEIGHT, MARGIN_X, MARGIN_Y = 920, 600, 175, 40

_COLOURS = {"Person": "#1f77b4", "Organization": "#d62728", "Event": "#2ca02c", "Place": "#9467bd",
            "WebPage": "#8c564b"}
_KIND_OF = {"PoliticalParty": "Organization", "GovernmentOrganization": "Organization",
            "NewsMediaOrganization": "Organization", "Country": "Place", "City": "Place",
            "AdministrativeArea": "Place", "LandmarksOrHistoricalBuildings": "Place", "WebSite": "WebPage"}


def neighbourhood_query(iri: str, limit: int = 500) -> str:
    """Every tie within two steps of iri, with both ends' labels and types."""
    e = str(ox.NamedNode(iri))
    # The ties are chosen first, in a bounded sub-select: joined in one pattern with the ties' own triples,
    # Oxigraph planned a scan of every tie (1M quads: 2.3-12 s per page; the sub-select: 3-11 ms, the
    # same rows; docs/notes/issue-15.md).
    return prefix_block() + f"""
SELECT DISTINCT ?tie ?s ?o ?kind ?sl ?ol ?st ?ot WHERE {{
  {{ SELECT DISTINCT ?tie WHERE {{
      {{ ?tie tl:subject|tl:object {e} }}
      UNION {{ ?t1 tl:subject|tl:object {e} . ?t1 tl:subject|tl:object ?mid .
               FILTER (?mid != {e}) ?tie tl:subject|tl:object ?mid }}
  }} LIMIT {limit} }}
  ?tie tl:subject ?s ; tl:object ?o ; a ?type .
  OPTIONAL {{ ?type rdfs:label ?kind0 }} BIND (COALESCE(STR(?kind0), "tie") AS ?kind)
  OPTIONAL {{ ?s rdfs:label ?sl }} OPTIONAL {{ ?o rdfs:label ?ol }}
  OPTIONAL {{ ?s a ?st }} OPTIONAL {{ ?o a ?ot }}
}} LIMIT {limit}"""


@dataclass
class Edge:
    kinds: list[str] = field(default_factory=list)


def _kind(type_iri: str | None) -> str:
    local = (type_iri or "").removeprefix(SCHEMA)
    return _KIND_OF.get(local, local if local in _COLOURS else "Other")


def graph_from_results(body: bytes) -> nx.Graph[str]:
    """An undirected graph: node attrs label/kind, edge attr kinds (one per tie between the pair)."""
    graph: nx.Graph[str] = nx.Graph()
    # rows in a fixed order: engines return them in their own, and the drawing (and which of several
    # types colours a node) must not depend on which SPARQL database answered (issue 15)
    rows = sorted(json.loads(body)["results"]["bindings"], key=lambda r: json.dumps(r, sort_keys=True))
    for row in rows:
        s, o = row["s"]["value"], row["o"]["value"]
        for node, lab, typ in ((s, "sl", "st"), (o, "ol", "ot")):
            if node not in graph:
                graph.add_node(node, label=row.get(lab, {}).get("value", node.rsplit("/", 1)[-1]), kind="Other")
            kind = _kind(row.get(typ, {}).get("value"))
            if kind != "Other":
                graph.nodes[node]["kind"] = kind
        if s == o:
            continue
        if not graph.has_edge(s, o):
            graph.add_edge(s, o, kinds=[])
        kind = row["kind"]["value"]
        if kind not in graph.edges[s, o]["kinds"]:
            graph.edges[s, o]["kinds"].append(kind)
    return graph


def _keep(graph: nx.Graph[str], nodes: Iterable[str]) -> nx.Graph[str]:
    """graph without the nodes not named, in graph's own order: a subgraph view iterates its node *set*,
    whose order changes with each process's string hashing, so two front ends drew one page in two ways."""
    wanted = set(nodes)
    sub = graph.copy()
    sub.remove_nodes_from([n for n in graph if n not in wanted])
    return sub


def limit_depth(graph: nx.Graph[str], center: str) -> tuple[nx.Graph[str], int]:
    """Depth 2 when it stays readable, else depth 1 (the most connected neighbours first)."""
    if center not in graph:
        return graph.subgraph([]).copy(), 0
    dist = nx.single_source_shortest_path_length(graph, center, cutoff=2)
    if len(dist) <= MAX_NODES:
        return _keep(graph, dist), 2
    ring = sorted((n for n, d in dist.items() if d == 1), key=lambda n: (-graph.degree(n), n))
    keep = [center, *ring[:MAX_NODES - 1]]
    sub = _keep(graph, keep)
    sub.remove_edges_from([(a, b) for a, b in list(sub.edges) if center not in (a, b)])
    return sub, 1


def _angles(nodes: list[str], pos: Mapping[str, NDArray[np.float64]], center: NDArray[np.float64],
            offset: float) -> dict[str, float]:
    """Even spacing on a ring, in the angular order the spring layout found (keeps clusters together)."""
    order = sorted(nodes, key=lambda n: (math.atan2(pos[n][1] - center[1], pos[n][0] - center[0]), n))
    step = 2 * math.pi / max(len(order), 1)
    return {n: offset + i * step for i, n in enumerate(order)}


def layout(graph: nx.Graph[str], center: str, height: int = 600) -> dict[str, tuple[float, float]]:
    """Pixel positions: the entity in the middle, depth-1 nodes on an inner ring, depth-2 on an
    outer one; networkx's spring layout (seeded) decides the order around each ring."""
    if len(graph) == 1:
        return {center: (WIDTH / 2, height / 2)}
    dist = nx.single_source_shortest_path_length(graph, center)
    rings = [sorted(n for n, d in dist.items() if d == k) for k in (1, 2)]
    start = nx.shell_layout(graph, nlist=[[center]] + [r for r in rings if r])
    pos = nx.spring_layout(graph, pos=start, fixed=[center], seed=7, iterations=80,
                           k=1.6 / max(len(graph) ** 0.5, 1))
    radii = (1.0,) if not rings[1] else (0.5, 1.0)
    out = {center: (WIDTH / 2, height / 2)}
    half_w, half_h = WIDTH / 2 - MARGIN_X, height / 2 - MARGIN_Y
    for ring, radius in zip([r for r in rings if r], radii, strict=False):
        offset = 0.0 if radius == 1.0 else math.pi / max(len(ring), 1)
        for node, angle in _angles(ring, pos, pos[center], offset).items():
            out[node] = (WIDTH / 2 + radius * half_w * math.cos(angle), height / 2 + radius * half_h * math.sin(angle))
    return out


FONT = 12            # px in the viewBox; CSS keeps the picture near its own size (never under 10 px)
LINE = 14            # px between the lines of a label
CHAR_W = 6.6         # px per character at FONT, an estimate for keeping labels apart
WRAP = 22            # characters per label line


def _lines(text: str) -> list[str]:
    """A label in up to four lines, whole words; never cut unless it is longer than that (the
    full label is the dot's tooltip and is in the list beside the picture)."""
    lines = textwrap.wrap(text, WRAP) or [text]
    if len(lines) > 4:
        lines = lines[:4]
        lines[-1] = lines[-1][:WRAP - 1] + "…"
    return lines


@dataclass
class _Label:
    node: str
    lines: list[str]
    x: float             # the text's anchor point
    y: float             # baseline of the first line
    anchor: str          # "start", "end" or "middle"
    dot: tuple[float, float]

    def box(self) -> tuple[float, float, float, float]:
        width = max(len(line) for line in self.lines) * CHAR_W
        left = self.x - width if self.anchor == "end" else self.x - width / 2 if self.anchor == "middle" else self.x
        return left, self.y - FONT, left + width, self.y - FONT + LINE * len(self.lines) + 2


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(pos: dict[str, tuple[float, float]], graph: nx.Graph[str], center: str, radii: dict[str, int],
                 height: int) -> list[_Label]:
    """Labels beside their dots, pointing away from the centre; one that would overlap a label
    already placed moves down (or up) until it is clear, so no two labels cover each other."""
    labels: list[_Label] = []
    order = sorted(pos, key=lambda n: (n != center, pos[n][1], pos[n][0]))
    for node in order:
        (x, y), r = pos[node], radii[node]
        lines = _lines(graph.nodes[node]["label"])
        if node == center:
            label = _Label(node, lines, x, y + r + FONT + 3, "middle", (x, y))
        else:
            left = x < WIDTH / 2 - 1
            label = _Label(node, lines, x - r - 4 if left else x + r + 4, y + 4 - (len(lines) - 1) * LINE / 2,
                           "end" if left else "start", (x, y))
        start = label.y
        for step in range(1, 80):
            if not any(_overlap(label.box(), other.box()) for other in labels):
                break
            shift = (step + 1) // 2 * 5 * (1 if step % 2 else -1)   # +5, -5, +10, -10 ...
            label.y = min(max(start + shift, FONT + 2), height - LINE * len(lines))
        labels.append(label)
    return labels


def _text(label: _Label, is_center: bool) -> str:
    spans = "".join(f'<tspan x="{label.x:.1f}" dy="{0 if i == 0 else LINE}">{escape(line)}</tspan>'
                    for i, line in enumerate(label.lines))
    cls = f' class="{label.anchor}"' if not is_center else ""   # a class: the CSP allows no style=
    return f'<text x="{label.x:.1f}" y="{label.y:.1f}"{cls}>{spans}</text>'


def render_svg(graph: nx.Graph[str], center: str, href: Callable[[str], str], depth: int) -> str:
    """The SVG markup; every piece of data text is escaped here, so it is safe to inline. Tie kinds
    are in each line's tooltip and in the list beside the picture, not on the lines (they overlapped)."""
    height = HEIGHT if len(graph) > 8 else HEIGHT // 2   # a few dots need no tall box
    pos = layout(graph, center, height)
    radii = {n: 13 if n == center else 8 for n in graph.nodes}
    labels = {lab.node: lab for lab in place_labels(pos, graph, center, radii, height)}
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="neighbourhood" viewBox="0 0 {WIDTH} {height}" '
            f'role="group" aria-labelledby="nb-title"><title id="nb-title">Ties of '
            f'{escape(graph.nodes[center]["label"])} to depth {depth}</title>')]
    for a, b, data in sorted(graph.edges(data=True)):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        kinds = escape(", ".join(data["kinds"]))
        near = center in (a, b)
        out.append(f'<g class="edge{" near" if near else ""}"><title>{escape(graph.nodes[a]["label"])} – {kinds}'
                   f' – {escape(graph.nodes[b]["label"])}</title><line x1="{x1:.1f}" y1="{y1:.1f}" '
                   f'x2="{x2:.1f}" y2="{y2:.1f}"/></g>')
    for node in sorted(graph.nodes, key=lambda n: n == center):
        x, y = pos[node]
        attrs = graph.nodes[node]
        colour = _COLOURS.get(attrs["kind"], "#7f7f7f")
        link = href(node)   # "" for an IRI whose scheme is not http(s): a dot, not a link
        tag, attr = ("a", f' href="{escape(link)}"') if link else ("g", "")
        label = labels[node]
        leader = ""
        if abs(label.y - (y + 4 - (len(label.lines) - 1) * LINE / 2)) > 6 and node != center:   # moved: a thin leader
            leader = f'<line class="leader" x1="{x:.1f}" y1="{y:.1f}" x2="{label.x:.1f}" y2="{label.y - 4:.1f}"/>'
        out.append(f'<{tag}{attr} class="node{" center" if node == center else ""}">'
                   f'<title>{escape(attrs["label"])} ({escape(attrs["kind"])})</title>{leader}'
                   f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radii[node]}" fill="{colour}"/>'
                   f'{_text(label, node == center)}</{tag}>')
    out.append("</svg>")
    return "".join(out)


def neighbour_list(graph: nx.Graph[str], center: str, href: Callable[[str], str]) -> list[dict[str, Any]]:
    """The same neighbourhood as a list (what a phone shows instead of the picture): every direct
    neighbour with the kinds of its ties, and the entities reached through it."""
    out = []
    seen = {center}
    direct = sorted(graph.neighbors(center), key=lambda n: graph.nodes[n]["label"].casefold()) if center in graph else []
    seen.update(direct)
    for node in direct:
        further = sorted((m for m in graph.neighbors(node) if m not in seen), key=lambda m: graph.nodes[m]["label"].casefold())
        out.append({"label": graph.nodes[node]["label"], "href": href(node), "kind": graph.nodes[node]["kind"],
                    "ties": ", ".join(graph.edges[center, node]["kinds"]),
                    "via": [{"label": graph.nodes[m]["label"], "href": href(m),
                             "ties": ", ".join(graph.edges[node, m]["kinds"])} for m in further]})
        seen.update(further)
    return out


@dataclass(frozen=True)
class Picture:
    svg: str
    depth: int
    nodes: int
    neighbours: list[dict[str, Any]]


def picture(body: bytes, center: str, label: str, type_iri: str | None,
            href: Callable[[str], str]) -> Picture:
    """The picture and the list of the neighbourhood query's JSON results."""
    graph, depth = limit_depth(graph_from_results(body), center)
    if center not in graph:   # an entity with no ties still gets its own dot
        graph.add_node(center, label=label, kind=_kind(type_iri))
    return Picture(render_svg(graph, center, href, depth), depth, len(graph), neighbour_list(graph, center, href))


def legend() -> list[tuple[str, str]]:
    return [(kind, colour) for kind, colour in _COLOURS.items()] + [("Other", "#7f7f7f")]
