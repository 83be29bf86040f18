"""The one validation of a build's data, which `tieslod validate` (check) and `tieslod build` both run
(validation_report): the per-article results made with the chunks, the nodes several articles describe,
the cross-document rules on the store, the shapes the fast path does not cover (pyshacl), the ledger."""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from ..config import Settings
from ..formats import serialize_rdf
from ..validation import shards
from ..validation.ledger import enforce as enforce_ledger
from ..validation.shacl import Report, Violation
from ..vocab import solutions, value_of
from .cache import Cache, key_of
from .dumps import duplicate_triples
from .parts import Describers, subject_lines
from .pipeline import file_digests, make_all, nq_bodies, plan
from .plan import Made, Plan
from .storeupdate import StoreUpdate, load_store

Progress = Callable[[str], None]


SHARED_NODES = ("shared-nodes", "1" * 32)   # one entry: per-node key -> (its quads, its duplicates)


@dataclass
class Shared:
    """Every quad about a node several chunks describe (N-Quads, sorted as shards.quad_order), and
    per graph the triples of those an earlier graph states (the union dumps leave them out)."""

    nquads: bytes
    drop: dict[str, set[ox.Triple]]

    def quads(self) -> list[ox.Quad]:
        return list(ox.parse(self.nquads, format=ox.RdfFormat.N_QUADS))


def shared_quads(made: Made, work: Plan, cache: Cache) -> Shared:
    """The shared nodes' quads, read from the describing chunks' N-Quads bodies (sorted by subject,
    so a node's quads are one run of lines), not from the store: the union dumps need them first, and
    can then be made while the store loads. Cached per node, with the node's duplicates: the quads
    about a shared node are those of the chunks describing it, so the node and those chunks' keys
    (which name their graphs, in order) name them, and only nodes whose describing chunks changed are
    read again. Parsing all ~2,400 nodes' quads each build cost ~0.4 s at 1M quads; only the
    duplicates (a few thousand) are parsed now."""
    describers = made.describers
    shared = describers.shared()
    # (chunk keys have one length, so joined they stay unambiguous: two parts per key, not one per chunk)
    keys = {s: key_of(s, "".join([work.tasks[i].cache_key for i in describers.get(s)])) for s in shared}
    old = cache.peek(*SHARED_NODES) or {}
    table = {keys[s]: old[keys[s]] for s in shared if keys[s] in old}
    missing = [s for s in shared if keys[s] not in table]
    if missing:
        rank = {m.graph: i for i, m in enumerate(made.metas)}
        for s, nquads in _read_nodes(missing, made, work, cache).items():
            quads = sorted(set(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)), key=shards.quad_order)
            dropped = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                       for g, triples in duplicate_triples(quads, rank).items() for t in triples]
            table[keys[s]] = (serialize_rdf(quads, ox.RdfFormat.N_QUADS),
                              serialize_rdf(sorted(dropped, key=shards.quad_order), ox.RdfFormat.N_QUADS))
    if missing or len(table) != len(old):
        cache.put(*SHARED_NODES, table)
    else:
        cache.keep(*SHARED_NODES)
    drop: dict[str, set[ox.Triple]] = {}
    for q in ox.parse(b"".join(table[keys[s]][1] for s in shared), format=ox.RdfFormat.N_QUADS):
        drop.setdefault(q.graph_name.value, set()).add(q.triple)
    # shared is sorted by subject, each node's quads by quad_order: the whole is sorted too
    return Shared(b"".join(table[keys[s]][0] for s in shared), drop)


def _read_nodes(nodes: list[str], made: Made, work: Plan, cache: Cache) -> dict[str, bytes]:
    """node -> the N-Quads lines about it in every chunk describing it."""
    wanted: dict[int, list[str]] = {}
    for s in nodes:
        for i in made.describers.get(s):
            wanted.setdefault(i, []).append(s)
    lines: dict[str, list[bytes]] = {s: [] for s in nodes}
    for i, subjects in sorted(wanted.items()):
        body = cache.need("nq", work.tasks[i].cache_key)[0]
        for s in subjects:
            lines[s].append(subject_lines(body, f"<{s}> ".encode()))
    return {s: b"".join(found) for s, found in lines.items()}


class Locations(Mapping[str, Path]):
    """node -> the file of the first chunk describing it, looked up on demand: only the few nodes a
    report names are ever asked for, and a dict of every node cost ~0.3 s at 1M quads."""

    def __init__(self, describers: Describers) -> None:
        self.describers = describers

    def __getitem__(self, node: str) -> Path:
        found = self.describers.get(node)
        if not found:
            raise KeyError(node)
        meta = self.describers.metas[found[0]]
        return Path(meta.origins.get(node, meta.origin))

    def __iter__(self) -> Iterator[str]:
        yield from self.describers.first

    def __len__(self) -> int:
        return len(self.describers.first)


FOCUS_MAX = 50_000    # more nodes near the change than this: checking the whole store is as cheap


def cross_focus(store: ox.Store, update: StoreUpdate) -> list[str] | None:
    """The nodes whose cross-document results an incremental update can have changed, or None for all.

    Every cross-document rule (shards.cross_rules) looks one hop from its focus node: the node's own
    triples (its types, its values), the triples of its values (their types and labels) and the
    triples that point at it (a claim's tl:tie). So a result can only change for a node whose triples
    changed, a node some changed triple points at, or a node pointing at a node whose triples changed.
    Everywhere else the previous release's results stand, and they were empty: a release exists only
    if it conforms. A change to the entities, ontology or lifecycle graph (subclass closure, labels used
    everywhere) or to blank nodes (which no query can name) means checking everything."""
    if update.mode != "incremental" or update.reserved_changed:
        return None
    near = update.subjects | {o for o in update.objects if not isinstance(o, ox.Literal)}
    if any(isinstance(n, ox.BlankNode) for n in near):
        return None
    subjects = sorted(value_of(s) for s in update.subjects)
    found = {value_of(n) for n in near}
    for start in range(0, len(subjects), 5000):
        values = " ".join(f"<{s}>" for s in subjects[start:start + 5000])
        query = f"SELECT DISTINCT ?x WHERE {{ VALUES ?s {{ {values} }} ?x ?p ?s }}"
        found.update(r["x"].value for r in solutions(store.query(query, use_default_graph_as_union=True))
                     if isinstance(r["x"], ox.NamedNode))
        if len(found) > FOCUS_MAX:
            return None
    return sorted(found)


def validate_all(store: ox.Store, made: Made, work: Plan, cache: Cache, shared: Shared,
                 update: StoreUpdate) -> list[Violation]:
    """Local results (minus shared nodes) + the shared shard + cross-document SPARQL, sorted."""
    skip = made.describers.multi
    found = [v for m in made.metas for v in m.violations if v.focus not in skip]
    where = Locations(made.describers)
    key = shards.shared_key(shared.nquads, work.shapes_text, work.subclass_nt)
    cached = cache.get("shared", key)
    if cached is None:
        cached = shards.run_shared(shared.quads(), work.shapes_text, work.subclass_nt, where)
        cache.put("shared", key, cached)
    # the rules read from the shapes with rdflib (~0.15 s a build): cached by the shapes' text
    rules_key = key_of("cross-rules", work.shapes_text)
    rules = cache.get("cross-rules", rules_key)
    if rules is None:
        rules = shards.cross_rules(work.shapes_text)
        cache.put("cross-rules", rules_key, rules)
    found += cached + shards.run_cross(store, work.shapes_text, where, cross_focus(store, update), rules)
    found += shards.run_uncovered(store, work.shapes_text, where)
    return sorted(set(found), key=lambda v: (v.file, v.line or 0, v.focus, v.message, v.path, v.value))


def validation_report(store_path: Path, made: Made, work: Plan, cache: Cache, shared: Shared,
                      update: StoreUpdate, say: Progress) -> Report:
    """The one validation of the data (`tieslod validate` and `tieslod build` both run it): the
    per-article results made with the chunks, the shared nodes, the cross-document rules on the store,
    and the URI ledger (a published URI may never silently disappear)."""
    store = ox.Store(str(store_path))
    try:
        violations = validate_all(store, made, work, cache, shared, update)
        if not violations:
            enforce_ledger(store, work.settings, say)
    finally:
        del store
    return Report(violations, sum(m.quads for m in made.metas))


def check(settings: Settings, progress: Progress | None = None) -> Report:
    """`tieslod validate`: the build's own validation (validation_report, on the store and the parts
    a build makes), in a temporary directory that is removed after: nothing is published, and the
    answer is the one `tieslod build` would act on."""
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="tieslod-validate-") as tmp:
        scratch = replace(settings, out_dir=Path(tmp))
        cache = Cache(Path(tmp) / "cache")
        work = plan(scratch, file_digests(scratch), cache)
        made = make_all(work, cache, say)
        shared = shared_quads(made, work, cache)
        update = load_store(Path(tmp) / "store", lambda: (load()[0]["nq"] for _keys, load in nq_bodies(cache, work)))
        return validation_report(Path(tmp) / "store", made, work, cache, shared, update, say)
