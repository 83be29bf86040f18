"""Render SPARQL JSON results as a plain text table for the terminal.

IRIs are shortened with prefixes (`e:alexander-ionov`, `claim:texas-flag-moscow-08`) and never cut,
so a cell never shows a misleading fragment of an IRI; only long literals are cut, visibly (`…`)."""
from __future__ import annotations

import json

ELLIPSIS = "…"


def shorten(iri: str, prefixes: dict[str, str]) -> str:
    """`prefix:local` with the longest matching namespace, else `<iri>`."""
    best = max((ns for ns in prefixes.values() if iri.startswith(ns) and len(iri) > len(ns)), key=len, default=None)
    if best is None:
        return f"<{iri}>"
    name = next(k for k, ns in prefixes.items() if ns == best)
    return f"{name}:{iri[len(best):]}"


def _cell(binding: dict[str, str] | None, prefixes: dict[str, str], width: int) -> str:
    if binding is None:
        return ""
    value = " ".join(binding.get("value", "").split())
    if binding.get("type") == "uri":
        return shorten(value, prefixes)
    if binding.get("type") == "bnode":
        return "_:" + value
    return value if len(value) <= width else value[:width - 1] + ELLIPSIS


def render_table(srj: bytes, width: int = 60, prefixes: dict[str, str] | None = None) -> str:
    data = json.loads(srj)
    if "boolean" in data:
        return ("true" if data["boolean"] else "false") + "\n"
    names = data["head"]["vars"]
    rows = [[_cell(b.get(n), prefixes or {}, width) for n in names] for b in data["results"]["bindings"]]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]

    def line(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(names), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
