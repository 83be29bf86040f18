"""How are X and Y connected? Shortest chains of ties between two entities, on whose word.

Ties are read from the store with one SPARQL query (so the same code serves the CLI and the web),
laid out as an undirected networkx graph (a tie connects its two parties whatever its direction),
and searched with Yen's k-shortest simple paths. By default only ties with at least one asserting
claim count: a tie that was only denied, or met with no comment, is no evidence of a connection.
Every qualifier (as printed, role, time, hedge, outlet, the article's own review verdict) is shown
under the claim that states it: a tie carries none."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

import networkx as nx

from ..config import Settings
from ..errors import UsageError
from ..vocab import TL, prefix_block
from .reconcile import EntityIndex, reconcile_one

DEFAULT_DEPTH = 4
DEFAULT_ALTERNATIVES = 3
ASSERTS = TL + "Asserts"

# the claim's own as-printed qualifiers, as "name\u001evalue" joined by \u001f (values are free text)
QUALIFIER_NAMES = (("relationText", "as printed"), ("role", "role"), ("when", "when"), ("purpose", "purpose"),
                   ("item", "item"), ("statedWhen", "stated when"), ("speakerText", "speaker as printed"))
_UNIT, _RECORD = "\u001e", "\u001f"
TIE_QUERY = prefix_block() + """SELECT ?tie ?type ?tl ?s ?o ?claim ?stance ?sl ?speaker ?spl ?quote ?source ?srcl
       ?modl ?hedge ?outletl ?quals ?verdicts
WHERE {
  ?tie tl:subject ?s ; tl:object ?o ; a ?type . ?type rdfs:subClassOf tl:Tie .
  ?claim tl:tie ?tie ; tl:stance ?stance .
  OPTIONAL { ?type rdfs:label ?tl } OPTIONAL { ?stance skos:prefLabel ?sl }
  OPTIONAL { ?claim tl:speaker ?speaker OPTIONAL { ?speaker rdfs:label ?spl } }
  OPTIONAL { ?claim tl:quote ?quote }
  OPTIONAL { ?claim prov:wasDerivedFrom ?source OPTIONAL { ?source rdfs:label ?srcl } }
  OPTIONAL { ?claim tl:modality/rdfs:label ?modl ; tl:hedge ?hedge }
  OPTIONAL { ?claim tl:reportedBy/rdfs:label ?outletl }
  OPTIONAL { SELECT ?claim (GROUP_CONCAT(CONCAT(?qk, "\\u001E", STR(?qv)); separator="\\u001F") AS ?quals)
             WHERE { VALUES (?qp ?qk) { """ + " ".join(f'(tl:{p} "{k}")' for p, k in QUALIFIER_NAMES) + """ }
                     ?claim ?qp ?qv } GROUP BY ?claim }
  OPTIONAL { SELECT ?claim (GROUP_CONCAT(DISTINCT STR(?vl); separator="; ") AS ?verdicts)
             WHERE { ?review schema:itemReviewed ?claim ; tl:verdict/rdfs:label ?vl } GROUP BY ?claim }
}"""


@dataclass
class ClaimInfo:
    claim: str
    stance: str          # e.g. "asserted", "denied"
    asserts: bool
    speaker: str
    speaker_label: str
    quote: str
    source: str
    source_label: str
    modality: str = ""                   # "suspected", ...; empty when stated plainly
    hedge: str = ""                      # as printed
    reported_by: str = ""                # the cited outlet's label
    qualifiers: list[tuple[str, str]] = field(default_factory=list)   # (name, value as printed)
    verdicts: str = ""                   # the source's own review verdicts ("likely exaggerated")


@dataclass
class TieInfo:
    tie: str
    category: str        # "membership", "founding", ...
    subject: str
    object: str
    asserted: bool       # at least one claim asserts it
    claims: list[ClaimInfo] = field(default_factory=list)


@dataclass
class Hop:
    start: str
    start_label: str
    end: str
    end_label: str
    ties: list[TieInfo]


@dataclass
class PathAnswer:
    start: str
    start_label: str
    end: str
    end_label: str
    include_denied: bool
    max_depth: int
    paths: list[list[Hop]]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


def _value(row: dict[str, Any], name: str) -> str:
    return row[name]["value"] if name in row else ""


def _sorted_list(joined: str) -> str:
    """GROUP_CONCAT's order is the engine's (Oxigraph and Virtuoso differ): sort, so pages agree."""
    return "; ".join(sorted(joined.split("; "))) if joined else ""


def ties_from_srj(body: bytes) -> dict[str, TieInfo]:
    """Ties with their claims from the SPARQL JSON results of TIE_QUERY."""
    ties: dict[str, TieInfo] = {}
    for row in json.loads(body)["results"]["bindings"]:
        uri = _value(row, "tie")
        tie = ties.setdefault(uri, TieInfo(uri, _value(row, "tl") or _value(row, "type").rsplit("#", 1)[-1],
                                           _value(row, "s"), _value(row, "o"), False))
        claim = _value(row, "claim")
        if any(c.claim == claim for c in tie.claims):
            continue
        asserts = _value(row, "stance") == ASSERTS
        tie.asserted |= asserts
        quals = [tuple(item.split(_UNIT, 1)) for item in _value(row, "quals").split(_RECORD) if _UNIT in item]
        tie.claims.append(ClaimInfo(claim, _value(row, "sl") or _value(row, "stance").rsplit("#", 1)[-1], asserts,
                                    _value(row, "speaker"), _value(row, "spl") or _value(row, "speaker"),
                                    _value(row, "quote"), _value(row, "source"), _value(row, "srcl"),
                                    _value(row, "modl"), _value(row, "hedge"), _value(row, "outletl"),
                                    sorted(quals), _sorted_list(_value(row, "verdicts"))))  # type: ignore[arg-type]
    for tie in ties.values():
        tie.claims.sort(key=lambda c: (not c.asserts, c.claim))
    return ties


def tie_graph(ties: dict[str, TieInfo], include_denied: bool = False) -> nx.Graph[str]:
    """One edge per pair of connected entities, carrying every tie between them."""
    graph: nx.Graph[str] = nx.Graph()
    for tie in sorted(ties.values(), key=lambda t: t.tie):
        if not (tie.asserted or include_denied) or tie.subject == tie.object:
            continue
        if graph.has_edge(tie.subject, tie.object):
            graph[tie.subject][tie.object]["ties"].append(tie)
        else:
            graph.add_edge(tie.subject, tie.object, ties=[tie])
    return graph


def resolve_entity(index: EntityIndex, name: str) -> str:
    """An entity URI from a key, a URI or a name; a name must be unambiguous."""
    found = index.get(name.strip())
    if found is not None:
        return found.uri
    candidates = reconcile_one(index, {"query": name, "limit": 5})
    if candidates and candidates[0]["match"]:
        return index.base_uri + "id/" + str(candidates[0]["id"])
    if not candidates:
        raise UsageError(f"no entity is called {name!r}")
    names = "; ".join(f"{c['name']} ({c['id']})" for c in candidates)
    raise UsageError(f"{name!r} is ambiguous or inexact; did you mean: {names}")


def find_paths(ties: dict[str, TieInfo], index: EntityIndex, start: str, end: str,
               max_depth: int = DEFAULT_DEPTH, alternatives: int = DEFAULT_ALTERNATIVES,
               include_denied: bool = False) -> PathAnswer:
    """Up to `alternatives` shortest chains (at most max_depth ties long) from start to end."""
    if max_depth < 1 or alternatives < 1:
        raise UsageError("depth and alternatives must be at least 1")
    a, b = resolve_entity(index, start), resolve_entity(index, end)
    graph = tie_graph(ties, include_denied)

    def label(uri: str) -> str:
        entity = index.get(uri)
        return entity.label if entity else uri

    answer = PathAnswer(a, label(a), b, label(b), include_denied, max_depth, [])
    if a == b or a not in graph or b not in graph:
        return answer
    try:
        for nodes in islice(nx.shortest_simple_paths(graph, a, b), alternatives):
            if len(nodes) - 1 > max_depth:
                break
            answer.paths.append([Hop(x, label(x), y, label(y), graph[x][y]["ties"]) for x, y in pairwise(nodes)])
    except nx.NetworkXNoPath:
        pass
    return answer


def _whose_word(claim: ClaimInfo) -> str:
    hedged = f" ({claim.modality}: “{claim.hedge}”)" if claim.modality else ""
    outlet = f", reported by {claim.reported_by}" if claim.reported_by else ""
    if claim.speaker == claim.source:
        return f"{claim.stance}{hedged} by the article itself, “{claim.source_label}”"
    return f"{claim.stance}{hedged} by {claim.speaker_label}{outlet}, in “{claim.source_label}”"


def claim_notes(claim: ClaimInfo) -> list[str]:
    """The claim's own qualifiers and the source's review, one line each."""
    lines = [f"{name}: {value}" for name, value in claim.qualifiers]
    if claim.verdicts:
        lines.append(f"the source’s own review: {claim.verdicts}")
    return lines


def render_text(answer: PathAnswer) -> str:
    """The answer for a terminal: one block per chain, one line per tie and per claim."""
    head = f"{answer.start_label} → {answer.end_label}"
    if not answer.paths:
        scope = "any ties" if answer.include_denied else "asserted ties"
        return f"{head}: no connection through {scope} within {answer.max_depth} hops.\n"
    lines = [f"{head}: {len(answer.paths)} chain(s)" + ("" if answer.include_denied else " (asserted ties only)")]
    for number, path in enumerate(answer.paths, 1):
        names = [path[0].start_label] + [hop.end_label for hop in path]
        lines.append(f"\n{number}. {' → '.join(names)}  ({len(path)} hop{'s' if len(path) > 1 else ''})")
        for hop in path:
            lines.append(f"   {hop.start_label} — {hop.end_label}")
            for tie in hop.ties:
                mark = "" if tie.asserted else "  [NOT ASSERTED: only denied or unanswered]"
                lines.append(f"     tie: {tie.category} <{tie.tie}>{mark}")
                for claim in tie.claims:
                    lines.append(f"       {_whose_word(claim)}:")
                    lines.append(f"         “{' '.join(claim.quote.split())}”")
                    lines.extend(f"         {' '.join(note.split())}" for note in claim_notes(claim))
    return "\n".join(lines) + "\n"


def load_ties(settings: Settings, release: Path) -> tuple[dict[str, TieInfo], EntityIndex]:
    """Ties and entity index of a built release (api.py builds it first), for the CLI."""
    from .reconcile import entity_query
    from .store import open_read_only, run_query
    store = open_read_only(release)
    index = EntityIndex.from_srj(run_query(store, entity_query(settings)).body, settings.base_uri)
    return ties_from_srj(run_query(store, TIE_QUERY).body), index


def connection_paths(settings: Settings, release: Path, start: str, end: str, max_depth: int = DEFAULT_DEPTH,
                     alternatives: int = DEFAULT_ALTERNATIVES, include_denied: bool = False) -> PathAnswer:
    """`tieslod path A B`."""
    ties, index = load_ties(settings, release)
    return find_paths(ties, index, start, end, max_depth, alternatives, include_denied)
