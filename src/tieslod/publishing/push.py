"""`tieslod push`: publish the current release to any SPARQL 1.1 Graph Store HTTP Protocol endpoint
(Oxigraph server, Fuseki, GraphDB, Virtuoso, Amazon Neptune...).

Idempotent and resumable by construction: a graph's first batch is sent with PUT (which replaces the
graph) and later batches with POST (which adds), so repeating a push never duplicates anything; a
journal next to the build records each graph once its triple count on the server has been verified,
so a resumed push skips what is already there. Batches are bounded (no request larger than
`batch_triples`) and retried with backoff on network errors, 429 and 5xx. With --graph-per-source the
union of the graphs is also kept in one graph, <BASE>graph/union (union.py: docs/scaling.md's choice),
which front ends query instead of naming every graph. Last, the release's VoID description (version,
graphs, the union graph as sd:defaultGraph) replaces the graph <BASE>dataset, where front ends read
which release the database holds (backend.py).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pyoxigraph as ox

from ..building.dumps import write_atomic
from ..building.release import load_manifest
from ..building.void import describe
from ..config import Settings
from ..errors import PushError, UsageError
from ..httpauth import credentials_auth
from .graphstore import Progress, PushResult, _graph_param, _request, ntriples, remote_count, send_graph
from .union import UnionTarget, push_union, union_graph

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def _groups(release: Path, per_source: bool, target: str) -> dict[str, list[ox.Triple]]:
    """target graph -> its triples, sorted; the union in one graph unless per_source."""
    store = ox.Store.read_only(str(release / "store"))
    if per_source:
        out = {}
        for graph in sorted(store.named_graphs(), key=lambda g: g.value):
            triples = {q.triple for q in store.quads_for_pattern(None, None, None, graph)}
            out[graph.value] = sorted(triples, key=str)
        return out
    union = {q.triple for q in store.quads_for_pattern(None, None, None, None)
             if isinstance(q.graph_name, ox.NamedNode)}
    return {target: sorted(union, key=str)}


def release_graph(settings: Settings) -> str:
    """The graph holding the pushed release's VoID description (version, graph list): the dataset's
    own IRI, outside graph/, so no source key can clash with it. Front ends read the version here."""
    return settings.base_uri + "dataset"


SD = "http://www.w3.org/ns/sparql-service-description#"


def send_release_description(client: httpx.Client, endpoint: str, settings: Settings, release: Path,
                             counts: dict[str, int], result: PushResult) -> None:
    """Replace the description graph, last: its version names a release whose graphs are all verified.
    The union graph, where kept, is named as the dataset's sd:defaultGraph (front ends query FROM it)."""
    manifest = load_manifest(release)
    keys = {g["iri"]: k for k, g in manifest.get("graphs", {}).items()}
    subsets = [(keys.get(g, "union"), ox.NamedNode(g), n) for g, n in sorted(counts.items()) if g]
    triples = describe(None, [], manifest["version"], settings, (manifest["counts"], subsets))
    if result.union_graph:
        ds, union = ox.NamedNode(release_graph(settings)), ox.NamedNode(result.union_graph)
        triples += [ox.Triple(ds, ox.NamedNode(RDF_TYPE), ox.NamedNode(SD + "Dataset")),
                    ox.Triple(ds, ox.NamedNode(SD + "defaultGraph"), union),
                    ox.Triple(union, ox.NamedNode(RDF_TYPE), ox.NamedNode(SD + "Graph")),
                    ox.Triple(union, ox.NamedNode("http://rdfs.org/ns/void#triples"),
                              ox.Literal(str(result.union_triples), datatype=ox.NamedNode(XSD_INTEGER)))]
    result.release_graph = release_graph(settings)
    send_graph(client, endpoint, result.release_graph, triples, len(triples) + 1, result)


def _journal_path(settings: Settings, endpoint: str, per_source: bool, target: str) -> Path:
    tag = hashlib.sha256(f"{endpoint}\n{per_source}\n{target}".encode()).hexdigest()[:12]
    return settings.out_dir / f"push-journal-{tag}.json"


def _digest(triples: list[ox.Triple]) -> str:
    return hashlib.sha256(ntriples(triples)).hexdigest()


def _read_journal(path: Path, say: Progress) -> dict[str, str]:
    """What earlier pushes verified; a journal that cannot be read is set aside (named), and every
    graph is sent again (PUT replaces: nothing is duplicated)."""
    if not path.is_file():
        return {}
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(journal, dict) and all(isinstance(v, str) for v in journal.values()):
            return journal
        problem = "not a journal"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problem = str(exc)
    say(f"push: {path} is unreadable ({problem}): sending every graph again")
    return {}


def _write_journal(path: Path, journal: dict[str, str]) -> None:
    write_atomic(path, json.dumps(journal, indent=1, sort_keys=True).encode())


def _send_all(client: httpx.Client, endpoint: str, groups: dict[str, list[ox.Triple]], journal: dict[str, str],
              journal_path: Path, batch: int, result: PushResult, say: Progress) -> None:
    """Send each graph the journal does not show as verified with these triples."""
    for number, (name, triples) in enumerate(groups.items(), 1):
        digest = _digest(triples)
        if journal.get(name) == digest:
            result.skipped += 1
            continue
        send_graph(client, endpoint, name, triples, batch, result)
        result.sent += 1
        journal[name] = digest
        _write_journal(journal_path, journal)
        if number % 100 == 0:
            say(f"push: {number}/{len(groups)} graphs")


def _wrong(client: httpx.Client, endpoint: str, groups: dict[str, list[ox.Triple]], result: PushResult,
           query_endpoint: str | None = None) -> list[str]:
    """The graphs whose triple count on the server is not the release's (every one is asked)."""
    wrong = []
    for name, triples in groups.items():
        result.graphs[name] = remote_count(client, endpoint, name, result, query_endpoint)
        if result.graphs[name] != len(triples):
            wrong.append(name)
    return wrong


def push(settings: Settings, release: Path, endpoint: str, per_source: bool = False, auth: str | None = None,
         graph: str = "", batch_triples: int = 20_000, progress: Progress | None = None,
         client: httpx.Client | None = None, query_endpoint: str | None = None,
         update_endpoint: str | None = None) -> PushResult:
    """Send the current release to a Graph Store endpoint and verify every graph's triple count
    (by SPARQL over `query_endpoint` where given: see remote_count); per source, also the union graph
    (union.py; its difference sent over `update_endpoint` where given)."""
    say = progress or (lambda _msg: None)
    for option, url in (("--endpoint", endpoint), ("--query-endpoint", query_endpoint),
                        ("--update-endpoint", update_endpoint)):
        if (url or option == "--endpoint") and not (url or "").startswith(("http://", "https://")):
            raise UsageError(f"{option} must be an http(s) URL (got {url!r})")
    credentials = credentials_auth(auth)
    groups = _groups(release, per_source, graph)
    if per_source and union_graph(settings) in groups:
        raise PushError(f"the release has a graph named {union_graph(settings)}, where push keeps the union of "
                        "the graphs: rename that article")
    journal_path = _journal_path(settings, endpoint, per_source, graph)
    journal = _read_journal(journal_path, say)
    own = client is None
    client = client or httpx.Client(auth=credentials, timeout=120.0)
    result = PushResult(endpoint)
    try:
        for name in [g for g in journal if g not in groups]:   # graphs a previous push sent, now gone
            _request(client, "DELETE", endpoint, result, params=_graph_param(name))
            journal.pop(name)
        _send_all(client, endpoint, groups, journal, journal_path, batch_triples, result, say)
        say("push: verifying triple counts per graph")
        # every graph is checked, and every wrong one sent again, in this run: a target that lost
        # its data (or part of it) is repaired by one push, not one graph per push
        wrong = _wrong(client, endpoint, groups, result, query_endpoint)
        if wrong:
            say(f"push: {len(wrong)} graph(s) wrong on the server: sending them again")
            for name in wrong:
                journal.pop(name, None)
            _send_all(client, endpoint, {g: groups[g] for g in wrong}, journal, journal_path, batch_triples,
                      result, say)
            still = _wrong(client, endpoint, {g: groups[g] for g in wrong}, result, query_endpoint)
            if still:
                for name in still:
                    journal.pop(name, None)
                _write_journal(journal_path, journal)
                name = still[0]
                found = result.graphs[name]
                raise PushError(f"{len(still)} graph(s) wrong after sending them again; graph {name or '(default)'}: "
                                f"{found} triples on the server, {len(groups[name])} in release "
                                f"{load_manifest(release)['version']}"
                                + ("" if query_endpoint or found > len(groups[name]) else
                                   " (some servers truncate a Graph Store GET, Virtuoso at ResultSetMaxRows:"
                                   " --query-endpoint counts by SPARQL instead)"))
        if per_source:
            target = UnionTarget(endpoint, union_graph(settings), query_endpoint, update_endpoint, batch_triples)
            result.union_triples = push_union(client, settings, release, target, result, say)
            result.union_graph = target.graph
        send_release_description(client, endpoint, settings, release, result.graphs, result)
    finally:
        if own:
            client.close()
    return result
