"""Render SPARQL JSON results as a plain text table for the terminal."""
from __future__ import annotations

import json


def _cell(binding: dict | None) -> str:
    if binding is None:
        return ""
    value = binding.get("value", "")
    return " ".join(value.split())


def render_table(srj: bytes, width: int = 60) -> str:
    data = json.loads(srj)
    if "boolean" in data:
        return ("true" if data["boolean"] else "false") + "\n"
    names = data["head"]["vars"]
    rows = [[_cell(b.get(n))[:width] for n in names] for b in data["results"]["bindings"]]
    widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(names), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
