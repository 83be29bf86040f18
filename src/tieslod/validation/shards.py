"""Validation at scale: pyshacl on one source document at a time, cross-document rules by SPARQL.

pyshacl (the validator of record) costs ~100 µs per triple and re-parses every SHACL-SPARQL query for
every focus node, so it never sees the whole dataset here. The shapes are split mechanically:

* **local** shapes: the shapes file minus `sh:class` and `sh:sparql`. What they check about a node
  depends only on that node's own triples, so pyshacl runs them per article (in the build's worker
  processes, cached with the article's chunk) and once over the nodes that several documents describe
  (the "shared" shard, e.g. a tie defined in one article and qualified in another).
* **cross-document** constraints: every `sh:class` and `sh:sparql` constraint, compiled from the shapes
  file into one SPARQL query each (the target joined in place of the pre-bound `$this`) and run by
  Oxigraph over the union of all graphs in the release store.

tests/test_shards.py proves that the union of the three reports the same violations as pyshacl on the
whole graph, for a corpus with planted defects of every kind.
"""
from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from ..errors import UnsupportedShape
from ..formats import serialize_rdf
from ..model.graph import Dataset, Part
from ..vocab import Term, solutions, value_of
from . import compiled
from .shacl import Violation, offset_report, shacl_report, short_term
from .shacl import locate as locate_focus
from .shacl import rdflib_term as _rdflib

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
RDF_TYPE, SUBCLASS = rdflib.RDF.type, rdflib.RDFS.subClassOf
_NS = rdflib.Graph().namespace_manager      # the prefixes pyshacl's report shows terms with


def load_shapes_text(shapes_dir: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(shapes_dir.glob("*.ttl")))


@lru_cache(maxsize=4)
def shapes_graph(text: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=text, format="turtle")
    return graph


@lru_cache(maxsize=4)
def local_shapes(text: str) -> rdflib.Graph:
    """The shapes without the constraints that look beyond a node's own triples."""
    graph = rdflib.Graph()
    for triple in shapes_graph(text):
        graph.add(triple)
    for s, o in list(graph.subject_objects(SH["class"])):
        graph.remove((s, SH["class"], o))
    for s, o in list(graph.subject_objects(SH.sparql)):
        graph.remove((s, SH.sparql, o))
    return graph


def to_graph(quads: list[ox.Quad], subclass: list[ox.Triple]) -> rdflib.Graph:
    """The union of some quads as an rdflib graph, built directly (cheaper than a parse)."""
    graph = rdflib.Graph()
    add = graph.add
    for q in quads:
        add((_rdflib(q.subject), _rdflib(q.predicate), _rdflib(q.object)))
    for t in subclass:
        add((_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)))
    return graph


def run_local(quads: list[ox.Quad], subclass: list[ox.Triple], shapes_text: str,
              origins: Mapping[str, Path | str]) -> list[Violation]:
    """The local constraints' results on these quads, by the compiled checks (compiled.py) of the
    covered node shapes; pyshacl checks the others on the whole graph (run_uncovered)."""
    checks = coverage(shapes_text).checks
    if not quads or not checks:
        return []
    pairs = [(value_of(t.subject), value_of(t.object)) for t in subclass]
    return compiled.check(checks, quads, pairs, origins)


@dataclass
class LocalChecker:
    """Picklable: sent once to each worker process; checks a batch of parts in one pyshacl call."""

    shapes_text: str
    subclass_nt: bytes

    def __call__(self, parts: list[Part], chunks: list[Any]) -> None:
        subclass = [q.triple for q in ox.parse(self.subclass_nt, format=ox.RdfFormat.N_TRIPLES)] \
            if self.subclass_nt else []
        origins: dict[str, str] = {}      # strings: only the nodes a report names become Paths
        for chunk in chunks:
            origins.update(dict.fromkeys(chunk.subjects, chunk.origin))
            origins.update((n, o) for n, o in chunk.origins.items() if n in origins)
        found = run_local([q for p in parts for q in p.quads], subclass, self.shapes_text, origins)
        for part, chunk in zip(parts, chunks, strict=True):
            mine = set(chunk.subjects)
            chunk.violations = [v for v in found if v.focus in mine]
            dataset = Dataset(part.graph.value, {part.key: part}, {n: Path(origins[n]) for n in mine})
            chunk.violations += offset_report(dataset)


def subclass_triples(ontology_quads: list[ox.Quad] | tuple[ox.Quad, ...]) -> bytes:
    sub = [ox.Triple(q.subject, q.predicate, q.object) for q in ontology_quads
           if q.predicate.value == str(SUBCLASS)]
    return serialize_rdf(sorted(sub, key=str), ox.RdfFormat.N_TRIPLES)


# ---------------------------------------------------------------- cross-document rules in Oxigraph

# Where a rule's query may be restricted to some focus nodes (an incremental build): a comment line,
# so the unrestricted query runs as written.
FOCUS = "#focus\n"


@dataclass(frozen=True)
class Rule:
    shape: str          # label of the node shape, as shacl_report names it
    node: str           # the node shape's IRI
    message: str
    path: str           # as shown in a report ("" for SPARQL constraints)
    query: str          # SELECT ?this ?value (?value may be unbound); FOCUS marks where VALUES ?this goes
    full: str = ""      # the same rule for every node at once, written so Oxigraph joins by hash


# Unbound (a full build), `?this a ?t . ?this <p> ?v` runs as one store lookup per target node (~10 µs
# each on disk: 1-2.5 s per rule at 1M quads). Subqueries are joined by hash instead, after one scan
# each (0.03-0.05 s): the full-check forms below wrap the target, and for the sh:class rules (which
# this module writes) also the path and the class test, in subqueries. Same answers (tests/test_shards.py
# compares the build's report with whole-graph pyshacl); sh:sparql bodies stay as the shapes wrote them.
def _subquery(variables: str, pattern: str) -> str:
    # inside, a class test reads the classes' instances by index (VALUES) rather than testing every
    # rdf:type triple (FILTER IN): there is no bound node to start from anyway
    pattern = re.sub(r"\?(\w+) a \?(\w+) \. FILTER\(\?\2 IN \(SUBCLASSES(\([^)]*\))\)\)",
                     r"VALUES ?\2 { SUBCLASSES_VALUES\3 } ?\1 a ?\2 .", pattern)
    return f"{{ SELECT DISTINCT {variables} WHERE {{ {pattern} }} }}"


# `?x a/rdfs:subClassOf* C` makes Oxigraph start from the class side and walk every instance, even
# when ?x is already bound by VALUES (4.5 s for ~100 focus nodes at 1M quads). So the rules say
# `?x a ?t . FILTER(?t IN (SUBCLASSES(C)))` instead, and run_cross expands SUBCLASSES(...) into the
# class's subclass closure as the store states it (any graph, as pyshacl reads the union graph) just
# before running: the plan then starts from the bound node (0.03 s), and unbound it is no slower.
_SUBCLASSES = re.compile(r"SUBCLASSES(_VALUES)?\(([^)]*)\)")


def _closure(classes: list[str]) -> str:
    return f"SUBCLASSES({' '.join(classes)})"


def expand_closures(query: str, store: ox.Store, memo: dict[str, str]) -> str:
    """Replace each SUBCLASSES(<C> ...) by the comma-separated IRIs of C and all its subclasses
    (SUBCLASSES_VALUES(...): space-separated, for a VALUES block)."""
    def sub(match: re.Match[str]) -> str:
        classes = match.group(2)
        if classes not in memo:
            found = solutions(store.query(f"SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {classes} }} ?s <{SUBCLASS}>* ?c }}",
                                          use_default_graph_as_union=True))
            memo[classes] = ", ".join(sorted(f"<{r['s'].value}>" for r in found if isinstance(r["s"], ox.NamedNode)))
        return memo[classes].replace(", ", " ") if match.group(1) else memo[classes]
    return _SUBCLASSES.sub(sub, query)


def _target(shapes: rdflib.Graph, node: rdflib.term.Node) -> str:
    """The SPARQL pattern that binds ?this to the focus nodes of a node shape."""
    pats = []
    classes = [f"<{c}>" for c in shapes.objects(node, SH.targetClass)]
    if classes:
        pats.append(f"{{ ?this a ?_tc . FILTER(?_tc IN ({_closure(classes)})) }}")
    pats += [f"{{ ?this <{p}> ?_any }}" for p in shapes.objects(node, SH.targetSubjectsOf)]
    pats += [f"{{ ?_any <{p}> ?this }}" for p in shapes.objects(node, SH.targetObjectsOf)]
    pats += [f"{{ VALUES ?this {{ <{n}> }} }}" for n in shapes.objects(node, SH.targetNode)]
    return " UNION ".join(pats)


def _label(shapes: rdflib.Graph, node: rdflib.term.Node) -> str:
    return str(shapes.value(node, rdflib.RDFS.label) or node)


def _prefixes(shapes: rdflib.Graph, constraint: rdflib.term.Node) -> str:
    lines = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            lines.append(f"PREFIX {shapes.value(decl, SH.prefix)}: <{shapes.value(decl, SH.namespace)}>")
    return "\n".join(sorted(set(lines)))


def _sparql_rule(shapes: rdflib.Graph, node: rdflib.term.Node, constraint: rdflib.term.Node) -> Rule:
    select = str(shapes.value(constraint, SH.select)).replace("$this", "?this")
    head, brace, body = select.partition("{")
    head = re.sub(r"^\s*SELECT\s+", "SELECT DISTINCT ", head, flags=re.IGNORECASE)
    prefixes, target = _prefixes(shapes, constraint), _target(shapes, node)
    query = f"{prefixes}\n{head}{brace} {FOCUS}{target} {body}"
    full = f"{prefixes}\n{head}{brace} {_subquery('?this', target)} {_hash_joined(body)}"
    return Rule(_label(shapes, node), str(node), str(shapes.value(constraint, SH.message) or ""), "", query, full)


# `?this <path> ?v . FILTER NOT EXISTS { ?v <p> ?x } }`, the form of every "value must have a label"
# rule: as subquery MINUS pattern it is the same set (?v is bound in every solution and the only
# variable both sides share), and 5x faster unbound (2.3 s -> 0.46 s at 1M quads).
_LOOKUP_NOT_EXISTS = re.compile(r"^\s*\?this (\S+) \?(\w+) \.\s*FILTER NOT EXISTS \{\s*(\?\2 \S+ \?\w+)\s*\}\s*\}\s*$")


def _hash_joined(body: str) -> str:
    match = _LOOKUP_NOT_EXISTS.match(body)
    if match is None:
        return body
    path, value, pattern = match.groups()
    if value == "this" or f"?{value}" not in pattern.split()[0]:
        return body
    return f"{_subquery(f'?this ?{value}', f'?this {path} ?{value}')} MINUS {{ {pattern} }} }}"


def _class_rule(shapes: rdflib.Graph, node: rdflib.term.Node, prop: rdflib.term.Node) -> Rule:
    path, cls = shapes.value(prop, SH.path), shapes.value(prop, SH["class"])
    if not isinstance(path, rdflib.URIRef):
        raise TypeError(f"sh:class on a complex path is not compiled: {path}")
    target, typed = _target(shapes, node), f"?value a ?_vc . FILTER(?_vc IN ({_closure([f'<{cls}>'])}))"
    query = f"SELECT DISTINCT ?this ?value WHERE {{ {FOCUS}{target} ?this <{path}> ?value . FILTER NOT EXISTS {{ {typed} }} }}"
    full = (f"SELECT DISTINCT ?this ?value WHERE {{ {_subquery('?this', target)} "
            f"{_subquery('?this ?value', f'?this <{path}> ?value')} MINUS {_subquery('?value', typed)} }}")
    return Rule(_label(shapes, node), str(node), str(shapes.value(prop, SH.message) or ""), short_term(path, _NS),
                query, full)


@dataclass(frozen=True)
class Coverage:
    """What the fast path covers: per node shape, either all of it (its local constraints compiled
    into Python checks, its cross-document ones into SPARQL rules) or none of it (`uncovered`, with
    the reason: pyshacl, the validator of record, checks that shape on the whole graph)."""

    checks: tuple[compiled.NodeCheck, ...]
    rules: tuple[Rule, ...]
    uncovered: tuple[tuple[str, str], ...]


@lru_cache(maxsize=4)
def coverage(text: str) -> Coverage:
    local = compiled.split(text)
    uncovered = dict(local.uncovered)
    rules: list[Rule] = []
    if compiled.EVERY not in uncovered:
        shapes = shapes_graph(text)
        for node in sorted(set(shapes.subjects(RDF_TYPE, SH.NodeShape)), key=str):
            if str(node) in uncovered:
                continue
            try:
                rules += _node_rules(shapes, node)
            except UnsupportedShape as exc:
                uncovered[str(node)] = str(exc)
    checks = tuple(c for c, name in zip(local.checks, local.shapes, strict=True) if name not in uncovered)
    rules = [r for r in rules if r.node not in uncovered]
    return Coverage(checks, tuple(rules), tuple(sorted(uncovered.items())))


# pre-bound variables of SHACL-SPARQL that the compiled rules do not bind (only $this is)
_UNBOUND = ("$shapesGraph", "$currentShape", "$PATH", "$value", "?shapesGraph", "?currentShape")


def _node_rules(shapes: rdflib.Graph, node: rdflib.term.Node) -> list[Rule]:
    """The node shape's cross-document constraints as rules; Unsupported naming one that is not."""
    if not _target(shapes, node):
        return []           # no focus nodes: nothing to check (as pyshacl)
    rules = []
    for constraint in shapes.objects(node, SH.sparql):
        select = shapes.value(constraint, SH.select)
        if select is None:
            raise UnsupportedShape(f"sh:sparql {constraint} has no sh:select")
        used = [v for v in _UNBOUND if v in str(select)]
        if used:
            raise UnsupportedShape(f"sh:sparql {constraint} uses {used[0]}")
        rules.append(_sparql_rule(shapes, node, constraint))
    for prop in shapes.objects(node, SH.property):
        classes = list(shapes.objects(prop, SH["class"]))
        if len(classes) > 1:
            raise UnsupportedShape(f"property shape {prop} has several sh:class")
        if classes:
            if not isinstance(shapes.value(prop, SH.path), rdflib.URIRef):
                raise UnsupportedShape(f"sh:class on the complex path {shapes.value(prop, SH.path)}")
            rules.append(_class_rule(shapes, node, prop))
    return rules


def cross_rules(text: str) -> tuple[Rule, ...]:
    return coverage(text).rules


def warn_uncovered(text: str) -> list[str]:
    """A warning for each node shape the fast path does not cover, naming the constraint; returns them."""
    said = []
    for shape, why in coverage(text).uncovered:
        said.append(f"shapes: {shape}: {why}; not compiled: pyshacl checks this shape on the whole graph "
                    "(slow on large data)")
        warnings.warn(said[-1], RuntimeWarning, stacklevel=2)
    return said


def uncovered_shapes(text: str, names: tuple[str, ...]) -> rdflib.Graph:
    """The shapes with every node shape but `names` deactivated (sh:deactivated: pyshacl skips them)."""
    graph = rdflib.Graph()
    for triple in shapes_graph(text):
        graph.add(triple)
    if compiled.EVERY not in names:
        for node in set(graph.subjects(RDF_TYPE, SH.NodeShape)):
            if str(node) not in names:
                graph.add((node, SH.deactivated, rdflib.Literal(True)))
    return graph


def run_uncovered(store: ox.Store, text: str, locate: Mapping[str, Path | str]) -> list[Violation]:
    """pyshacl on the union of the store's graphs for the node shapes the fast path does not cover."""
    names = tuple(shape for shape, _why in coverage(text).uncovered)
    if not names:
        return []
    graph = to_graph(list(store.quads_for_pattern(None, None, None, None)), [])
    return shacl_report(graph, uncovered_shapes(text, names), locate)


def _fill(message: str, row: dict[str, Term | None]) -> str:
    """pyshacl's substitution of {$this} and {?var} in sh:message."""
    def sub(match: re.Match[str]) -> str:
        term = row.get(match.group(1))
        return "" if term is None else value_of(term)
    return re.sub(r"\{[$?](\w+)\}", sub, message)


def _queries(rule: Rule, focus: list[str] | None) -> list[str]:
    """The rule's query, or one query per slice of focus nodes, each bound first by VALUES."""
    if focus is None:
        return [rule.full or rule.query]
    return [rule.query.replace(FOCUS, "VALUES ?this { " + " ".join(f"<{n}>" for n in focus[i:i + 5000]) + " }\n")
            for i in range(0, len(focus), 5000)]


def _solutions(store: ox.Store, rule: Rule, focus: list[str] | None) -> list[tuple[Term, Term | None]]:
    """(this, value) rows of one rule, read in the thread that ran the query (results are bound to it)."""
    wants_value = "value" in rule.query
    return [(s["this"], s["value"] if wants_value else None)
            for q in _queries(rule, focus) for s in solutions(store.query(q, use_default_graph_as_union=True))]


def run_cross(store: ox.Store, shapes_text: str, locate: Mapping[str, Path | str],
              focus: list[str] | None = None, rules: tuple[Rule, ...] | None = None) -> list[Violation]:
    """Every cross-document result over the store's union graph; with `focus`, only those whose focus
    node is listed (bound by VALUES first; class targets use an expanded subclass list so the plan
    starts from them, see expand_closures). Rules run on two threads: Oxigraph releases the GIL while
    a query runs."""
    memo: dict[str, str] = {}
    rules = tuple(replace(rule, query=expand_closures(rule.query, store, memo), full=expand_closures(rule.full, store, memo))
                  for rule in (rules if rules is not None else cross_rules(shapes_text)))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda rule: _solutions(store, rule, focus), rules))
    out = []
    for rule, rows in zip(rules, answers, strict=True):
        for this, value in rows:
            row = {"this": this, "value": value}
            shown = value if value is not None else this
            file, line = locate_focus(value_of(this), locate)
            out.append(Violation(rule.shape, value_of(this), _fill(rule.message, row), rule.path,
                                 short_term(_rdflib(shown), _NS), "Violation", file, line))
    return out


# ---------------------------------------------------------------- nodes several documents describe

def quad_order(q: ox.Quad) -> tuple[str, str, str, str]:
    """The stable order of the shared shard's quads (its cache key hashes them in this order)."""
    return value_of(q.subject), q.predicate.value, str(q.object), value_of(q.graph_name)


def shared_key(nquads: bytes, shapes_text: str, subclass_nt: bytes) -> str:
    """The shared shard's cache key: the shapes and the shard's quads (as sorted N-Quads)."""
    digest = hashlib.sha256(shapes_text.encode() + subclass_nt)
    digest.update(nquads)
    return digest.hexdigest()[:32]


def run_shared(quads: list[ox.Quad], shapes_text: str, subclass_nt: bytes,
               locate: Mapping[str, Path | str]) -> list[Violation]:
    subclass = [q.triple for q in ox.parse(subclass_nt, format=ox.RdfFormat.N_TRIPLES)] if subclass_nt else []
    keep = {value_of(q.subject) for q in quads}
    return [v for v in run_local(quads, subclass, shapes_text, locate) if v.focus in keep]
