"""URI persistence: `data/uris.txt` lists every URI ever published, relative to the base URI.

The build checks that each listed URI is still described by the data, or is accounted for in
`data/lifecycle.ttl` (renamed or merged: `dct:isReplacedBy` / `owl:sameAs`, answered with 301;
withdrawn: `owl:deprecated true`, answered with 410). A URI may never silently disappear.
URIs that are new since the ledger was last updated only produce a notice: `tieslod ledger`
appends them, and a test keeps the committed ledger complete."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..config import Settings
from ..errors import LedgerError
from ..vocab import DCT, OWL, Term, solutions, value_of

LEDGER_NAME = "uris.txt"
HEADER = (
    "# tieslod URI ledger: every URI ever published, relative to the base URI (one per line).\n"
    "# Append-only: never delete a line. Rename, merge or withdraw a URI in data/lifecycle.ttl instead.\n"
    "# `tieslod ledger` appends new URIs; `tieslod build` fails if a listed URI is no longer accounted for.\n"
)


@dataclass
class LedgerReport:
    listed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)     # in the ledger, gone without a lifecycle record
    unlisted: list[str] = field(default_factory=list)    # published now, not yet in the ledger
    conflicts: list[str] = field(default_factory=list)   # both published and replaced/withdrawn

    @property
    def ok(self) -> bool:
        return not self.missing and not self.conflicts

    def as_text(self) -> str:
        lines = [f"URI {u} disappeared: describe it again or record it in data/lifecycle.ttl"
                 for u in self.missing]
        lines += [f"URI {u} is published and also renamed or withdrawn in data/lifecycle.ttl"
                  for u in self.conflicts]
        return "\n".join(lines)


def ledger_path(settings: Settings) -> Path:
    return settings.data_dir / LEDGER_NAME


def read_ledger(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _relative(iri: str, base: str) -> str | None:
    """'id/x' for base + 'id/x#frag'; None for IRIs outside our URI space (base + 'id/')."""
    if not iri.startswith(base + "id/"):
        return None
    return iri[len(base):].split("#", 1)[0]


def _rows(store: ox.Store, query: str) -> list[list[Term]]:
    return [list(row) for row in solutions(store.query(query))]   # consumed here: results are thread-bound


def published(store: ox.Store, settings: Settings) -> set[str]:
    """Every document URI the data describes: subjects under base + 'id/' outside the lifecycle
    graph, fragments dropped. Asked of the release's store, so it scales with the build."""
    base, lifecycle_graph = settings.base_uri, settings.graph_iri("lifecycle")
    rows = _rows(store, f"""SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
        FILTER (?g != <{lifecycle_graph}> && isIRI(?s) && STRSTARTS(STR(?s), "{base}id/")) }}""")
    return {rel for (s,) in rows if (rel := _relative(value_of(s), base))}


def lifecycle(store: ox.Store, settings: Settings) -> dict[str, str]:
    """URI (relative) -> 'replaced' or 'withdrawn', from the lifecycle graph."""
    rows = _rows(store, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{settings.graph_iri('lifecycle')}> {{ ?s ?p ?o }} }}")
    records: dict[str, str] = {}
    for s, p, o in rows:
        rel = _relative(s.value, settings.base_uri) if isinstance(s, ox.NamedNode) else None
        if rel is None:
            continue
        if value_of(p) in (DCT + "isReplacedBy", OWL + "sameAs"):
            records[rel] = "replaced"
        elif value_of(p) == OWL + "deprecated" and value_of(o) in ("true", "1"):
            records.setdefault(rel, "withdrawn")
    return records


def check(store: ox.Store, settings: Settings, listed: list[str]) -> LedgerReport:
    live, records = published(store, settings), lifecycle(store, settings)
    report = LedgerReport(listed=listed)
    report.missing = sorted(u for u in set(listed) if u not in live and u not in records)
    report.unlisted = sorted((live | set(records)) - set(listed))
    report.conflicts = sorted(u for u in records if u in live)
    return report


def enforce(store: ox.Store, settings: Settings, say: Callable[[str], None] | None = None) -> LedgerReport | None:
    """The build's hook: fail if a listed URI vanished; mention new ones. No ledger, no check
    (throwaway datasets such as test fixtures have none)."""
    path = ledger_path(settings)
    if not path.is_file():
        return None
    report = check(store, settings, read_ledger(path))
    if not report.ok:
        raise LedgerError(f"{path}: {len(report.missing) + len(report.conflicts)} URI(s) not accounted for:\n"
                          + report.as_text())
    if report.unlisted and say is not None:
        say(f"ledger: {len(report.unlisted)} new URI(s) not yet in {path.name}; run `tieslod ledger`")
    return report


def write_ledger(path: Path, uris: list[str]) -> None:
    """Sorted, with the header; written atomically so a crash never truncates the ledger."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(HEADER + "".join(f"{u}\n" for u in sorted(set(uris))), encoding="utf-8")
    tmp.replace(path)


def update(store: ox.Store, settings: Settings) -> LedgerReport:
    """Append every new URI to the ledger (never removes one); the report says what was added."""
    path = ledger_path(settings)
    listed = read_ledger(path)
    report = check(store, settings, listed)
    if report.unlisted or not path.is_file():
        write_ledger(path, listed + report.unlisted)
    return report
