"""Downloads and descriptions: /dumps/ (every file the build wrote, from manifest.json),
/.well-known/void, the ontology at its namespace URI (HTML docs, Turtle, JSON-LD by negotiation)
and the JSON-LD context at a stable URL."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..config import ONTOLOGY_IRI
from ..describe_entity import Description, serialize
from ..formats import HTML_PAGE, content_type
from .context import QueryRequest
from .conneg import ENTITY_OFFERS, NotAcceptable, UnknownFormat, by_name, choose
from .httpcache import DUMP_CACHE, is_fresh, not_modified, validator_headers
from .ontodoc import ontology_query, sections, summary

if TYPE_CHECKING:
    from .site import Site

TEXT_TYPES = ("text/", "application/n-triples", "application/n-quads", "application/trig", "application/ld+json")


def _dump_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith(TEXT_TYPES) else media_type


async def dumps_index(site: Site, request: Request) -> Response:
    release = site.release()
    headers = validator_headers(release.etag("dumps"), release.last_modified)
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    m = release.manifest
    return site.render("dumps.html", request, headers=headers, title="Downloads", files=m["files"],
                       version=m["version"], release_name=m.get("release_name"), tieslod=m.get("tieslod", ""))


async def dump_file(site: Site, request: Request) -> Response:
    """One file of the release, with its checksum as ETag; unknown names are 404, never a path walk."""
    release = site.release()
    name = request.path_params["name"]
    listed = {f["name"]: f for f in release.manifest["files"]}
    if name == "SHA256SUMS":
        info = {"name": name, "media_type": "text/plain", "sha256": release.version + "-sums"}
    elif name in listed:
        info = listed[name]
    else:
        return PlainTextResponse(f"404 Not Found: no file {name!r} in this release\n", 404)
    headers = validator_headers(f'"{info["sha256"]}"', release.last_modified, DUMP_CACHE)
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    return FileResponse(release.path / "dumps" / name, headers=headers, media_type=_dump_type(info["media_type"]))


async def void(site: Site, request: Request) -> Response:
    release = site.release()
    headers = validator_headers(release.etag("void"), release.last_modified)
    headers["Content-Location"] = site.origin(request) + "/dumps/void.ttl"
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    return FileResponse(release.path / "dumps" / "void.ttl", headers=headers, media_type=content_type(
        by_name("turtle", ENTITY_OFFERS)))  # type: ignore[arg-type]


async def context_doc(site: Site, request: Request) -> Response:
    """Our JSON-LD context; CORS-open because JSON-LD processors in browsers fetch it cross-origin."""
    data = (site.settings.ontology_dir / "context.jsonld").read_bytes()
    headers = validator_headers(f'"{hashlib.sha256(data).hexdigest()[:32]}"', site.release().last_modified)
    headers["Access-Control-Allow-Origin"] = "*"
    if is_fresh(request, headers["ETag"], site.release().mtime):
        return not_modified(headers)
    return Response(data, headers=headers, media_type="application/ld+json")


async def ontology(site: Site, request: Request) -> Response:
    ext = request.path_params.get("ext")
    suffix = by_name(ext, ENTITY_OFFERS) if ext else None
    if ext and suffix is None:
        return PlainTextResponse("404 Not Found\n", 404)
    try:
        fmt = choose(request.headers.get("accept"), request.query_params.get("format"), suffix)
    except (UnknownFormat, NotAcceptable) as exc:
        return PlainTextResponse(f"{exc}\n", 400 if isinstance(exc, UnknownFormat) else 406)
    release = site.release()
    origin = site.origin(request)
    headers = validator_headers(release.etag("ontology-" + fmt.name), release.last_modified)
    headers.update({"Vary": "Accept", "Content-Location": f"{origin}/ontology.{fmt.extension}",
                    "Link": ", ".join(f'<{origin}/ontology.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                                      for f in ENTITY_OFFERS if f is not fmt)})
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    answer = await site.ctx.run_query(QueryRequest(ontology_query(site.settings), graph_format="ntriples"))
    desc = Description.from_ntriples(ONTOLOGY_IRI, answer.body)
    if fmt is not HTML_PAGE:
        return Response(serialize(desc, fmt, site.settings), headers=headers, media_type=content_type(fmt))
    return site.render("ontology.html", request, headers=headers, **summary(desc),
                       sections=sections(desc, site.map.href))


def routes(site: Site) -> list[BaseRoute]:
    def bind(handler):  # noqa: ANN001, ANN202
        async def endpoint(request: Request) -> Response:
            return await handler(site, request)
        return endpoint

    return [
        Route("/dumps", lambda request: RedirectResponse("/dumps/", 301)),
        Route("/dumps/", bind(dumps_index), name="dumps"),
        Route("/dumps/{name}", bind(dump_file), name="dump"),
        Route("/.well-known/void", bind(void), name="void"),
        Route(site.map.route("dataset"), bind(void), name="dataset"),
        Route("/context.jsonld", bind(context_doc), name="context"),
        Route("/ontology", bind(ontology), name="ontology"),
        Route("/ontology.{ext}", bind(ontology), name="ontology-doc"),
    ]
