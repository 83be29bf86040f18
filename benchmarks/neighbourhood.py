"""Neighbourhood-picture query: the form before issue 15's fix (the ties chosen in the same pattern as
their own triples) against querying/neighbourhood.py's (the ties chosen in a bounded sub-select), on one
built store, in the same run, for the entities with the most ties and a few ordinary ones.

    python benchmarks/neighbourhood.py --store build/current/store [--entities 6] [--repeat 3]

Prints one line per entity: rows (both forms must return the same rows), median seconds of each, ratio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from tieslod.querying.neighbourhood import neighbourhood_query, prefix_block  # noqa: E402

TL = "PREFIX tl: <https://w3id.org/tieslod/ontology#>\n"
VARS = ("tie", "s", "o", "kind", "sl", "ol", "st", "ot")


def joined_query(iri: str, limit: int = 500) -> str:
    """The query as it was before the fix (commit ec182b1), kept here as the baseline."""
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


def run(store: ox.Store, text: str, repeat: int) -> tuple[list[tuple[str, ...]], float]:
    times, rows = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        answer = store.query(text, use_default_graph_as_union=True)
        assert isinstance(answer, ox.QuerySolutions)
        rows = sorted(tuple("" if r[v] is None else str(r[v]) for v in VARS) for r in answer)
        times.append(time.perf_counter() - began)
    return rows, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--entities", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = ox.Store.read_only(str(args.store))
    half = max(1, args.entities // 2)
    ranked = f"{TL}SELECT ?e (COUNT(?t) AS ?n) WHERE {{ ?t tl:subject|tl:object ?e }} GROUP BY ?e ORDER BY DESC(?n)"
    answer = store.query(ranked, use_default_graph_as_union=True)
    assert isinstance(answer, ox.QuerySolutions)
    ranked_rows = [(str(r["e"].value), int(str(r["n"].value))) for r in answer]  # type: ignore[union-attr]
    picked = ranked_rows[:half] + ranked_rows[len(ranked_rows) // 2:][:half]
    print("entity\tties\trows\tjoined s\tsub-select s\tratio")
    for iri, ties in picked:
        old_rows, old = run(store, joined_query(iri), args.repeat)
        new_rows, new = run(store, neighbourhood_query(iri), args.repeat)
        if old_rows != new_rows:
            raise SystemExit(f"{iri}: the two forms return different rows")
        print(f"{iri.rsplit('/', 1)[-1]}\t{ties}\t{len(new_rows)}\t{old:.3f}\t{new:.4f}\t{old / new:.0f}x")


if __name__ == "__main__":
    main()
