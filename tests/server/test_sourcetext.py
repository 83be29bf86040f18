"""A source's text with every evidence span highlighted (server/sourcetext.py) (moved from test_pages.py,
issue 12)."""
from __future__ import annotations

import re

from _ldserver import get


def test_source_page_highlights_every_evidence_span(real_site: str) -> None:
    html = get(real_site, "/id/source/texas-flag-moscow").text
    ids = set(re.findall(r'id="(claim-texas-flag-moscow-\d\d)"', html))
    assert len(ids) >= 30
    assert 'id="review-texas-flag-moscow-01"' in html
    assert '<mark class="ev claim" id="claim-texas-flag-moscow-03"' in html
