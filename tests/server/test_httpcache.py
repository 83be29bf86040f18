"""ETag / Last-Modified and 304 (server/httpcache.py) on a real server (moved from test_pages.py, issue 12)."""
from __future__ import annotations

from _ldserver import IONOV, get


def test_etag_and_last_modified_revalidate_with_304(real_site: str) -> None:
    first = get(real_site, IONOV, "text/turtle")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = get(real_site, IONOV, "text/turtle", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert get(real_site, IONOV, "text/turtle", headers={"If-Modified-Since": modified}).status_code == 304
    assert get(real_site, IONOV, "text/html", headers={"If-None-Match": etag}).status_code == 200  # other variant
    assert get(real_site, "/", headers={"If-None-Match": get(real_site, "/").headers["etag"]}).status_code == 304
