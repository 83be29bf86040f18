"""What an entity page shows (server/views.py): claims by tie with stance, links to quotes and neighbours
(moved from test_pages.py, issue 12)."""
from __future__ import annotations

import re

from _ldserver import IONOV, get


def test_entity_page_content(real_site: str) -> None:
    html = get(real_site, IONOV, "text/html").text
    assert "<h1>Alexander Ionov</h1>" in html and "Also called: Ionov" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="neighbourhood"' in html
    assert '<script type="application/ld+json">' in html
    assert html.count('<link rel="alternate"') == 4
    for stance in ("asserted", "denied", "did not respond"):
        assert f'<span class="stance">{stance}</span>' in get(real_site, "/id/texas-nationalist-movement").text
    assert re.search(r'href="/id/source/[a-z-]+#claim-[a-z-]+-\d\d"', html)
    assert 'href="/id/anti-globalization-movement-of-russia"' in html
