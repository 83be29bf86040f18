"""The linked-data side of the server: dereferenceable URIs with content negotiation, entity and
source pages, the landing page and search. `routes(ctx)` is what create_app includes."""
from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import BackendError, NotAcceptable, TiesError, UnknownFormat
from ..formats import HTML_PAGE, JSON_DATA, Format, content_type
from ..querying.neighbourhood import legend, neighbourhood_query, picture
from ..querying.resource import Description, safe_local, serialize
from ..vocab import LABEL, RDFS, SCHEMA, TL, value_of
from . import crawl, downloads, queryui, views
from .conneg import choose, split_suffix
from .context import AppContext, QueryRequest
from .httpcache import is_fresh, not_modified, validator_headers
from .site import TEMPLATES, Site, json_for_script
from .sourcetext import segments, spans


def _link_header(alternates: list[dict[str, str]]) -> str:
    return ", ".join(f'<{a["href"]}>; rel="alternate"; type="{a["media_type"]}"' for a in alternates)


def _doc_headers(site: Site, request: Request, stem: str, fmt: Format) -> dict[str, str]:
    release = site.release()
    doc = site.origin(request) + site.map.route(f"id/{stem}.{fmt.extension}")
    headers = validator_headers(release.etag(fmt.name), release.last_modified)
    headers.update({"Vary": "Accept", "Content-Location": doc,
                    "Link": _link_header(site.alternates(request, stem, fmt))})
    return headers


def schema_org(desc: Description, page: str) -> dict[str, object]:
    """A small schema.org object for search engines (the full description is one link away)."""
    types = [t.removeprefix(SCHEMA) for t in desc.types(desc.iri) if t.startswith(SCHEMA)]
    data: dict[str, object] = {"@context": "https://schema.org", "@id": desc.iri, "@type": types[0] if types else "Thing",
                  "name": desc.label(desc.iri), "url": page}
    aliases = views.aliases(desc)
    if aliases:
        data["alternateName"] = aliases
    described = sorted({value_of(d) for d in desc.all(desc.iri, SCHEMA + "description")})   # one per article
    if described:
        data["description"] = "; ".join(described)
    return data


async def entity_page(site: Site, request: Request, desc: Description, stem: str, headers: dict[str, str]) -> Response:
    href = site.map.href
    body = await site.ctx.run_query(QueryRequest(neighbourhood_query(desc.iri), result_format="json"))
    types = desc.types(desc.iri)
    pic = picture(body.body, desc.iri, desc.label(desc.iri), types[0] if types else None, href)
    page = site.origin(request) + site.map.route("id/" + stem)
    return site.render(
        "entity.html", request, headers=headers, title=desc.label(desc.iri), iri=desc.iri,
        types=views.type_names(desc), aliases=views.aliases(desc),
        descriptions=views.descriptions(desc, href),
        alternates=site.alternates(request, stem, HTML_PAGE), jsonld=json_for_script(schema_org(desc, page)),
        svg=Markup(pic.svg), depth=pic.depth, node_count=pic.nodes, neighbours=pic.neighbours, legend=legend(),
        groups=views.entity_groups(desc, href), others=views.other_claims(desc, href),
        related=views.related(desc, href, site.map.base + "id/"), facts=views.facts(desc, href, desc.iri))


def source_page(site: Site, request: Request, desc: Description, stem: str, headers: dict[str, str]) -> Response:
    text = desc.text(desc.iri, SCHEMA + "text")
    found = spans(desc, desc.iri, text)
    publisher = desc.one(desc.iri, SCHEMA + "publisher")
    return site.render(
        "source.html", request, headers=headers, title=desc.label(desc.iri), iri=desc.iri,
        headline=desc.text(desc.iri, SCHEMA + "headline"), sha256=desc.text(desc.iri, TL + "sha256"),
        publisher=views.link(desc, site.map.href, value_of(publisher)) if publisher else None,
        segments=segments(text, found), span_count=len(found),
        claim_count=len({s.target for s in found if s.kind == "claim"}),
        review_count=len({s.target for s in found if s.kind == "review"}),
        alternates=site.alternates(request, stem, HTML_PAGE), facts=views.facts(desc, site.map.href, desc.iri))


def resource_page(site: Site, request: Request, desc: Description, stem: str, headers: dict[str, str]) -> Response:
    """Ties, claims and reviews: their tie with its claims (only this one for a claim), then all facts."""
    href = site.map.href
    kind = stem.split("/", 1)[0]
    groups, claims = [], []
    if kind == "tie":
        groups = [views.tie_view(desc, href, desc.iri, desc.subjects(TL + "tie", desc.iri))]
    else:
        claim = desc.iri if kind == "claim" else desc.text(desc.iri, SCHEMA + "itemReviewed")
        tie = desc.text(claim, TL + "tie") if claim else ""
        if tie:
            groups = [views.tie_view(desc, href, tie, [claim])]
        elif claim:       # a statement claim: its card (modality, descriptors, reviews) without a tie
            claims = [views.claim_view(desc, href, claim)]
    return site.render("resource.html", request, headers=headers, title=desc.label(desc.iri), iri=desc.iri,
                       types=views.type_names(desc), groups=groups, claims=claims,
                       alternates=site.alternates(request, stem, HTML_PAGE), facts=views.facts(desc, href, desc.iri))


def not_found(site: Site, request: Request, iri: str, fmt: Format | None) -> Response:
    if fmt is not None and fmt is not HTML_PAGE:
        return PlainTextResponse(f"404 Not Found: nothing is published at {iri}\n", 404)
    guess = iri.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0].replace("-", " ")
    return site.render("status.html", request, status=404, title="Not found", iri=iri, guess=guess)


def gone(site: Site, request: Request, desc: Description, fmt: Format) -> Response:
    """410 with a tombstone: a page for people, the lifecycle triples for machines."""
    headers = {"Vary": "Accept", "Cache-Control": "public, max-age=300"}
    if fmt is not HTML_PAGE:
        return Response(serialize(desc, fmt, site.settings), 410, headers=headers, media_type=content_type(fmt))
    return site.render("status.html", request, status=410, headers=headers, title="Withdrawn", iri=desc.iri,
                       label=desc.text(desc.iri, LABEL.value), reason=desc.text(desc.iri, RDFS + "comment"))


def moved(site: Site, request: Request, successor: str, fmt: Format | None) -> Response:
    target = site.map.href(successor)
    if target.startswith("/"):
        target = site.origin(request) + target + (f".{fmt.extension}" if fmt is not None else "")
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=301, headers={"Vary": "Accept"})


async def resource(site: Site, request: Request) -> Response:
    """GET /id/...: negotiate, then 301 (renamed/merged), 410 (withdrawn), 404, 304 or 200."""
    stem, suffix = split_suffix(request.path_params["rest"])
    iri = site.map.base + "id/" + stem
    if not safe_local(stem):
        return not_found(site, request, iri, suffix)
    try:
        fmt = choose(request.headers.get("accept"), request.query_params.get("format"), suffix)
    except UnknownFormat as exc:
        return PlainTextResponse(f"{exc}\n", 400)
    except NotAcceptable as exc:
        return PlainTextResponse(f"406 Not Acceptable: {exc}\n", 406, headers={
            "Vary": "Accept", "Link": _link_header(site.alternates(request, stem))})
    try:
        desc = await site.describe(iri)
    except BackendError:
        raise   # the remote database failed: 502/503/504 with Retry-After (app.backend_failed)
    except TiesError as exc:
        return PlainTextResponse(f"503 Service Unavailable: {exc}\n", 503, headers={"Retry-After": "5"})
    if desc.successor:
        return moved(site, request, desc.successor, suffix)
    if desc.withdrawn:
        return gone(site, request, desc, fmt)
    if not desc.exists:
        return not_found(site, request, iri, fmt)
    headers = _doc_headers(site, request, stem, fmt)
    if is_fresh(request, headers["ETag"], site.release().mtime):
        return not_modified(headers)
    if fmt is not HTML_PAGE:
        return Response(serialize(desc, fmt, site.settings), headers=headers, media_type=content_type(fmt))
    if stem.startswith("source/"):
        return source_page(site, request, desc, stem, headers)
    if stem.startswith(("tie/", "claim/", "review/")):
        return resource_page(site, request, desc, stem, headers)
    return await entity_page(site, request, desc, stem, headers)


async def landing(site: Site, request: Request) -> Response:
    release = site.release()
    headers = validator_headers(release.etag("landing"), release.last_modified)
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    sources = [{"href": site.map.href(e.iri), "label": e.label} for e in await site.index()
               if e.iri.startswith(site.map.base + "id/source/")]
    return site.render("landing.html", request, headers=headers, title="Home", counts=release.manifest["counts"],
                       sources=sources, examples=site.examples())


SEARCH_OFFERS = (HTML_PAGE, JSON_DATA)


async def search(site: Site, request: Request) -> Response:
    """Label and alias search: a page, or JSON for `Accept: application/json` / `?format=json`."""
    query = request.query_params.get("q", "")[:200]
    try:
        fmt = choose(request.headers.get("accept"), request.query_params.get("format"), None, SEARCH_OFFERS)
    except (UnknownFormat, NotAcceptable) as exc:
        return PlainTextResponse(f"{exc}\n", 400 if isinstance(exc, UnknownFormat) else 406)
    hits = await site.search(query)
    if fmt is JSON_DATA:
        origin = site.origin(request)
        results = [{**h, "href": origin + h["href"] if h["href"].startswith("/") else h["href"]} for h in hits]
        return JSONResponse({"query": query, "results": results}, headers={"Vary": "Accept"})
    if len(hits) == 1 and request.query_params.get("go"):
        return RedirectResponse(hits[0]["href"], status_code=303)
    response = site.render("search.html", request, title=f"Search: {query}" if query else "Search",
                           query=query, hits=hits)
    response.headers["Vary"] = "Accept"
    return response


def routes(ctx: AppContext) -> list[BaseRoute]:
    site = Site(ctx)

    return [
        Route("/", site.bind(landing), name="landing"),
        Route("/search", site.bind(search), name="search"),
        Route(site.map.route("id/{rest:path}"), site.bind(resource), name="resource"),
        *downloads.routes(site),
        *crawl.routes(site),
        *queryui.routes(ctx),
        Mount("/static", app=StaticFiles(directory=str(TEMPLATES.parent / "static")), name="static"),
    ]

