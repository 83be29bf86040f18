"""The union of a per-source push, kept in one graph <BASE>graph/union (docs/scaling.md, "The union with
~100,000 graphs"): front ends query FROM that one graph instead of naming every graph in every query.

Incremental: a journal next to push's (push-union-<tag>.json) names the release whose union the server
was last verified to hold. When that release directory is still there (the build keeps a few), only the
difference is sent: DELETE DATA for triples no graph states any more, INSERT DATA for new ones, over
--update-endpoint. Without an update endpoint additions alone are POSTed (Graph Store merge), and a
difference with deletions, or with blank nodes (which DATA blocks cannot name), replaces the graph whole.

A push that fails in the middle leaves no claim: the journal entry is removed before the graph is touched
and written again only once the graph's triple count on the server is the union's, so the next push
replaces the graph whole (PUT). Until then the description still names the previous version.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from ..building.dumps import write_atomic
from ..building.release import load_manifest
from ..config import Settings
from ..errors import PushError, TiesError
from .graphstore import Progress, PushResult, _request, ntriples, remote_count, send_graph

UNION_KEY = "union"


def union_graph(settings: Settings) -> str:
    return settings.graph_iri(UNION_KEY)


@dataclass
class UnionTarget:
    """Where the union goes and how it is checked."""

    endpoint: str                      # Graph Store
    graph: str                         # the union graph's IRI
    query_endpoint: str | None         # counts by SPARQL COUNT (see push.remote_count)
    update_endpoint: str | None        # DELETE DATA / INSERT DATA; None: Graph Store only
    batch: int


def release_union(release: Path) -> set[ox.Triple]:
    """Every triple of the release's named graphs, once (a set: RDF graph semantics)."""
    store = ox.Store.read_only(str(release / "store"))
    return {q.triple for q in store.quads_for_pattern(None, None, None, None)
            if isinstance(q.graph_name, ox.NamedNode)}


def journal_path(settings: Settings, target: UnionTarget) -> Path:
    tag = hashlib.sha256(f"{target.endpoint}\n{target.graph}".encode()).hexdigest()[:12]
    return settings.out_dir / f"push-union-{tag}.json"


def _previous(path: Path, target: UnionTarget, version: str, union: set[ox.Triple]) -> set[ox.Triple] | None:
    """The union the server was last verified to hold, if its release is still on disk; else None."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state["graph"] != target.graph:
            return None
        if state["version"] == version:
            return union
        old = Path(state["release"])
        if load_manifest(old)["version"] != state["version"]:
            return None
    except (OSError, ValueError, KeyError, TypeError, TiesError):
        return None
    return release_union(old) if (old / "store").is_dir() else None


def _has_blank(triples: list[ox.Triple]) -> bool:
    return any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples)


def _update(client: httpx.Client, target: UnionTarget, op: str, triples: list[ox.Triple],
            result: PushResult) -> None:
    assert target.update_endpoint
    for start in range(0, len(triples), target.batch):
        body = ntriples(triples[start:start + target.batch]).decode()
        _request(client, "POST", target.update_endpoint, result,
                 data={"update": f"{op} DATA {{ GRAPH <{target.graph}> {{\n{body}}} }}"})


def _send_difference(client: httpx.Client, target: UnionTarget, old: set[ox.Triple], new: set[ox.Triple],
                     result: PushResult, say: Progress) -> bool:
    """Send only what changed; False where the difference cannot be sent as such (replace instead)."""
    gone, added = sorted(old - new, key=str), sorted(new - old, key=str)
    if _has_blank(gone) or _has_blank(added) or (gone and not target.update_endpoint):
        return False
    say(f"push: union graph: {len(gone)} triple(s) removed, {len(added)} added")
    if gone:
        _update(client, target, "DELETE", gone, result)
    if added and target.update_endpoint:
        _update(client, target, "INSERT", added, result)
    elif added:   # Graph Store POST merges into the graph
        for start in range(0, len(added), target.batch):
            _request(client, "POST", target.endpoint, result, params={"graph": target.graph},
                     content=ntriples(added[start:start + target.batch]),
                     headers={"Content-Type": "application/n-triples"})
    return True


def push_union(client: httpx.Client, settings: Settings, release: Path, target: UnionTarget,
               result: PushResult, say: Progress) -> int:
    """Bring the union graph on the server to this release's union, verify its count; the count."""
    union = release_union(release)
    version = load_manifest(release)["version"]
    path = journal_path(settings, target)
    old = _previous(path, target, version, union)
    path.unlink(missing_ok=True)   # from here until verified, nothing is claimed about the graph
    if old is None or not _send_difference(client, target, old, union, result, say):
        say(f"push: union graph: sending all {len(union)} triples")
        send_graph(client, target.endpoint, target.graph, sorted(union, key=str), target.batch, result)
    found = remote_count(client, target.endpoint, target.graph, result, target.query_endpoint)
    if found != len(union):   # e.g. changed on the server since: replace it whole, once
        say(f"push: union graph holds {found} triples, not {len(union)}: sending it whole")
        send_graph(client, target.endpoint, target.graph, sorted(union, key=str), target.batch, result)
        found = remote_count(client, target.endpoint, target.graph, result, target.query_endpoint)
        if found != len(union):
            raise PushError(f"union graph {target.graph}: {found} triples on the server after sending it whole, "
                            f"{len(union)} in the release")
    state = {"release": str(release.resolve()), "version": version, "graph": target.graph}
    write_atomic(path, json.dumps(state, indent=1, sort_keys=True).encode())
    return found
