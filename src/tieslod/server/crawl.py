"""What crawlers and browsers ask every site for: /robots.txt, /sitemap.xml (every entity and
source page) and /favicon.ico."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .httpcache import is_fresh, not_modified, validator_headers

if TYPE_CHECKING:
    from .site import Site

SITEMAP_LIMIT = 50_000   # the sitemaps.org protocol's most URLs per file
# Crawlers are welcome on the pages; the query services are for people and programs that mean it.
ROBOTS = """User-agent: *
Disallow: /sparql
Disallow: /path
Disallow: /reconcile
Disallow: /search
Allow: /

Sitemap: {origin}/sitemap.xml
"""


async def robots(site: Site, request: Request) -> Response:
    return PlainTextResponse(ROBOTS.format(origin=site.origin(request)), headers={"Cache-Control": "public, max-age=3600"})


async def sitemap(site: Site, request: Request) -> Response:
    release = site.release()
    headers = validator_headers(release.etag("sitemap"), release.last_modified)
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    origin = site.origin(request)
    lastmod = datetime.fromtimestamp(release.mtime, UTC).date().isoformat()   # a W3C date
    pages = [origin + "/", *(origin + site.map.href(e.iri) for e in await site.index())][:SITEMAP_LIMIT]
    body = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<url><loc>{escape(url)}</loc><lastmod>{lastmod}</lastmod></url>" for url in pages]
    body.append("</urlset>\n")
    return Response("\n".join(body), headers=headers, media_type="application/xml; charset=utf-8")


def routes(site: Site) -> list[BaseRoute]:
    return [
        Route("/robots.txt", site.bind(robots), name="robots"),
        Route("/sitemap.xml", site.bind(sitemap), name="sitemap"),
        Route("/favicon.ico", lambda request: RedirectResponse("/static/favicon.svg", 301), name="favicon"),
    ]
