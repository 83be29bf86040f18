"""The terminal table of `tieslod query` (moved from tests/test_cli.py, issue 12)."""
from __future__ import annotations

import json


def test_render_table_cuts_only_literals_and_shows_the_cut() -> None:
    from tieslod.table import render_table
    long_iri = "https://w3id.org/tieslod/id/claim/" + "a-very-long-key-" * 6
    body = json.dumps({"head": {"vars": ["iri", "other", "text"]}, "results": {"bindings": [{
        "iri": {"type": "uri", "value": long_iri}, "other": {"type": "uri", "value": "http://x.example/" + "y" * 70},
        "text": {"type": "literal", "value": "word " * 30}}]}}).encode()
    row = render_table(body, prefixes={"claim": "https://w3id.org/tieslod/id/claim/"}).splitlines()[2]
    iri, other, text = (cell.strip() for cell in row.split(" | "))
    assert iri == "claim:" + "a-very-long-key-" * 6 and other == "<http://x.example/" + "y" * 70 + ">"
    assert len(text) == 60 and text.endswith("…")
