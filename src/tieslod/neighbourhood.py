"""The neighbourhood of an entity (its ties to depth 1 or 2) as an inline SVG drawn on the server.

Layout is networkx's spring layout started from a shell layout (the entity in the middle, its
direct neighbours on the first ring), with the entity pinned to the centre and a fixed seed, so the
same data always gives the same picture. Each node is a link to its page."""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

import networkx as nx
import pyoxigraph as ox

from .vocab import SCHEMA, prefix_block

MAX_NODES = 28        # beyond this a depth-2 picture stops being readable: fall back to depth 1
MAX_LABEL = 24
WIDTH, HEIGHT, MARGIN_X, MARGIN_Y = 920, 600, 175, 40

_COLOURS = {"Person": "#1f77b4", "Organization": "#d62728", "Event": "#2ca02c", "Place": "#9467bd",
            "WebPage": "#8c564b"}
_KIND_OF = {"PoliticalParty": "Organization", "GovernmentOrganization": "Organization",
            "NewsMediaOrganization": "Organization", "Country": "Place", "City": "Place",
            "AdministrativeArea": "Place", "LandmarksOrHistoricalBuildings": "Place", "WebSite": "WebPage"}


def neighbourhood_query(iri: str, limit: int = 500) -> str:
    """Every tie within two steps of iri, with both ends' labels and types."""
    e = str(ox.NamedNode(iri))
    return prefix_block() + f"""
SELECT DISTINCT ?tie ?s ?o ?kind ?sl ?ol ?st ?ot WHERE {{
  {{ ?tie tl:subject|tl:object {e} }}
  UNION {{ ?t1 tl:subject|tl:object {e} . ?t1 tl:subject|tl:object ?mid .
           FILTER (?mid != {e}) ?tie tl:subject|tl:object ?mid }}
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


def graph_from_results(body: bytes) -> nx.Graph:
    """An undirected graph: node attrs label/kind, edge attr kinds (one per tie between the pair)."""
    graph = nx.Graph()
    for row in json.loads(body)["results"]["bindings"]:
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


def limit_depth(graph: nx.Graph, center: str) -> tuple[nx.Graph, int]:
    """Depth 2 when it stays readable, else depth 1 (the most connected neighbours first)."""
    if center not in graph:
        return graph.subgraph([]).copy(), 0
    dist = nx.single_source_shortest_path_length(graph, center, cutoff=2)
    if len(dist) <= MAX_NODES:
        return graph.subgraph(dist).copy(), 2
    ring = sorted((n for n, d in dist.items() if d == 1), key=lambda n: (-graph.degree(n), n))
    keep = [center, *ring[:MAX_NODES - 1]]
    sub = nx.Graph(graph.subgraph(keep))
    sub.remove_edges_from([(a, b) for a, b in list(sub.edges) if center not in (a, b)])
    return sub, 1


def _angles(nodes: list[str], pos: dict, center: tuple[float, float], offset: float) -> dict[str, float]:
    """Even spacing on a ring, in the angular order the spring layout found (keeps clusters together)."""
    order = sorted(nodes, key=lambda n: (math.atan2(pos[n][1] - center[1], pos[n][0] - center[0]), n))
    step = 2 * math.pi / max(len(order), 1)
    return {n: offset + i * step for i, n in enumerate(order)}


def layout(graph: nx.Graph, center: str, height: int = 600) -> dict[str, tuple[float, float]]:
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
    for ring, radius in zip([r for r in rings if r], radii):
        offset = 0.0 if radius == 1.0 else math.pi / max(len(ring), 1)
        for node, angle in _angles(ring, pos, pos[center], offset).items():
            out[node] = (WIDTH / 2 + radius * half_w * math.cos(angle), height / 2 + radius * half_h * math.sin(angle))
    return out


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def _label(x: float, y: float, radius: int, is_center: bool, text: str) -> str:
    """Labels point away from the centre (left half: text ends at the dot), so rings don't collide."""
    if is_center:
        return f'<text x="{x:.1f}" y="{y + radius + 15:.1f}">{escape(text)}</text>'
    left = x < WIDTH / 2 - 1
    dx = -(radius + 4) if left else radius + 4
    anchor = "end" if left else "start"
    return (f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" class="{anchor}">'   # a class: the CSP allows no style=
            f'{escape(_short(text))}</text>')


def render_svg(graph: nx.Graph, center: str, href: Callable[[str], str], depth: int) -> str:
    """The SVG markup; every piece of data text is escaped here, so it is safe to inline."""
    height = HEIGHT if len(graph) > 8 else HEIGHT // 2   # a few dots need no tall box
    pos = layout(graph, center, height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="neighbourhood" viewBox="0 0 {WIDTH} {height}" '
           f'role="img" aria-labelledby="nb-title"><title id="nb-title">Ties of '
           f'{escape(graph.nodes[center]["label"])} to depth {depth}</title>']
    for a, b, data in sorted(graph.edges(data=True)):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        kinds = escape(", ".join(data["kinds"]))
        near = center in (a, b)
        out.append(f'<g class="edge{" near" if near else ""}"><title>{escape(graph.nodes[a]["label"])} – {kinds}'
                   f' – {escape(graph.nodes[b]["label"])}</title><line x1="{x1:.1f}" y1="{y1:.1f}" '
                   f'x2="{x2:.1f}" y2="{y2:.1f}"/>')
        if near:
            out.append(f'<text class="edge-label" x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2:.1f}">'
                       f'{escape(_short(", ".join(data["kinds"])))}</text>')
        out.append("</g>")
    for node in sorted(graph.nodes, key=lambda n: n == center):
        x, y = pos[node]
        attrs = graph.nodes[node]
        colour = _COLOURS.get(attrs["kind"], "#7f7f7f")
        radius = 13 if node == center else 8
        link = href(node)   # "" for an IRI whose scheme is not http(s): a dot, not a link
        tag, attr = ("a", f' href="{escape(link)}"') if link else ("g", "")
        out.append(f'<{tag}{attr} class="node{" center" if node == center else ""}">'
                   f'<title>{escape(attrs["label"])} ({escape(attrs["kind"])})</title>'
                   f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}"/>'
                   f'{_label(x, y, radius, node == center, attrs["label"])}</{tag}>')
    out.append("</svg>")
    return "".join(out)


def picture(body: bytes, center: str, label: str, type_iri: str | None,
            href: Callable[[str], str]) -> tuple[str, int, int]:
    """(svg, depth, node count) from the neighbourhood query's JSON results."""
    graph, depth = limit_depth(graph_from_results(body), center)
    if center not in graph:   # an entity with no ties still gets its own dot
        graph.add_node(center, label=label, kind=_kind(type_iri))
    return render_svg(graph, center, href, depth), depth, len(graph)


def legend() -> list[tuple[str, str]]:
    return [(kind, colour) for kind, colour in _COLOURS.items()] + [("Other", "#7f7f7f")]
