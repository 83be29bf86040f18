"""/robots.txt, /sitemap.xml and /favicon.ico (server/crawl.py) on a real server (moved from
tests/test_machine.py, issue 12)."""
from __future__ import annotations

from xml.etree import ElementTree

import httpx

from _ldserver import BROWSER


def test_robots_sitemap_and_favicon(real_site: str, manifest: dict) -> None:
    robots = httpx.get(real_site + "/robots.txt")
    assert robots.headers["content-type"].startswith("text/plain")
    assert f"Sitemap: {real_site}/sitemap.xml" in robots.text and "Disallow: /sparql" in robots.text
    sitemap = httpx.get(real_site + "/sitemap.xml")
    assert sitemap.headers["content-type"].startswith("application/xml")
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    urls = [u.text for u in ElementTree.fromstring(sitemap.content).iter(ns + "loc")]
    assert real_site + "/id/alexander-ionov" in urls and real_site + "/id/source/texas-flag-moscow" in urls
    assert not [u for u in urls if "/id/claim/" in u or "/id/tie/" in u]
    assert len(urls) == 1 + manifest["counts"]["entities"] + manifest["counts"]["sources"]   # and the home page
    for url in urls[:12]:
        assert httpx.get(url, headers={"Accept": BROWSER}).status_code == 200, url
    icon = httpx.get(real_site + "/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
