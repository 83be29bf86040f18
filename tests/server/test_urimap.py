"""Between the IRIs in the data and paths on this server (server/urimap.py); only http(s) IRIs become
links (moved from test_pages.py, issue 12)."""
from __future__ import annotations

import re
from pathlib import Path

from _ldserver import W3ID, get
from tieslod.config import Settings


def test_only_http_and_https_iris_become_links(mini_site: str) -> None:
    """Issue 11: an IRI from the data with another scheme (javascript:, data:) is shown, never linked."""
    from _ldserver import EVIL_IRI
    html = get(mini_site, "/id/carol", "text/html").text
    assert EVIL_IRI in html and '<span class="nolink">html,x</span>' in html   # shown as text
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))], hrefs
    assert '<span class="nolink">javascript:window.__pwned=4</span>' in html
    assert 'href="http://schema.org/sameAs"' in html                         # http(s) ones stay links


def test_w3id_base_maps_to_own_paths_and_other_bases_work(tmp_path: Path, mini_data: Path) -> None:
    """With a base on this server's own origin, the IRIs in the data are the server's URLs."""
    from _ldserver import free_port  # noqa: F401 - same helper the server launcher uses
    settings = Settings(data_dir=mini_data, out_dir=tmp_path / "b", base_uri="http://lod.example.org/x/",
                        public_url="http://lod.example.org")
    from tieslod.server.urimap import UriMap
    m = UriMap.from_settings(settings)
    assert m.prefix == "/x/" and m.iri("/x/id/acme") == "http://lod.example.org/x/id/acme"
    assert m.href("http://lod.example.org/x/id/acme") == "/x/id/acme"
    assert UriMap.from_settings(Settings()).href(W3ID + "id/acme") == "/id/acme"
    assert UriMap.from_settings(Settings()).href(W3ID + "ontology#Funding") == "/ontology#Funding"
