"""Downloads and descriptions: /dumps/ (every file the build wrote, from manifest.json),
/.well-known/void, the ontology at its namespace URI (HTML docs, Turtle, JSON-LD by negotiation)
and the JSON-LD context at a stable URL."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..config import ONTOLOGY_IRI
from ..errors import NotAcceptable, UnknownFormat
from ..formats import HTML_PAGE, TEXT_MEDIA, Format, content_type, rdf_format, serialize_rdf
from ..querying.resource import Description, serialize
from ..vocab import PREFIXES
from .conneg import ENTITY_OFFERS, by_name, choose
from .context import QueryRequest
from .httpcache import is_fresh, not_modified, validator_headers
from .ontodoc import ontology_query, sections, summary

if TYPE_CHECKING:
    from .site import Site

# /dumps/<name> holds whatever the current release is: revalidate soon (the ETag makes that cheap).
# Only /dumps/<version>/<name> (server/extras.py) is cached as immutable.
CURRENT_DUMP_CACHE = "public, max-age=300"
RDFLIB_TRIPLES = "rdflib: <code>Graph().parse(url)</code>"
RDFLIB_QUADS = "rdflib: <code>Dataset().parse(url)</code>; a plain <code>Graph</code> sees none of it"
# What each file is for, shown on /dumps/ (the .gz of each: see gz_purpose).
PURPOSES = {
    "tieslod.ttl": f"Every triple of every graph (the union), in Turtle: the file to read. {RDFLIB_TRIPLES}.",
    "tieslod.nt": f"The same union of triples, one per line (N-Triples): for grep, sort and streaming loaders. "
                  f"{RDFLIB_TRIPLES}.",
    "tieslod.nq": "The dataset with its named graphs (one per article, plus the entities and the ontology), in "
                  f"N-Quads: to load into a triple store graph by graph. {RDFLIB_QUADS}.",
    "tieslod.trig": f"The same named graphs in TriG. {RDFLIB_QUADS}.",
    "tieslod.jsonld": "The same named graphs in JSON-LD, compacted with our context. "
                      f"{RDFLIB_QUADS}; for the union as triples use tieslod.ttl.",
    "tieslod-claims.csv": "One row per claim (speaker, stance, tie, quote, source): for spreadsheets. Not RDF.",
    "void.ttl": "The VoID/DCAT description of this release (also at /.well-known/void).",
}


def gz_purpose(name: str) -> str:
    return (f"{name} compressed with gzip, to download (a tool reading RDF from a URL cannot read it: use "
            f"{name} itself, which is sent gzip-compressed to every client that accepts that).")


def _dump_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith(TEXT_MEDIA) else media_type


async def dumps_index(site: Site, request: Request) -> Response:
    release = site.release()
    headers = validator_headers(release.etag("dumps"), release.last_modified)
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    m = release.manifest
    if release.path is None:   # a front end over a remote database with no local copy of this release
        return site.render("dumps-remote.html", request, headers=headers, title="Downloads", version=m["version"],
                           dumps=m.get("remote_dumps", []), endpoint=site.origin(request) + "/sparql",
                           graphs=len(m.get("graphs", {})))
    files = [{**f, "purpose": Markup(gz_purpose(f["name"][:-3]) if f["name"].endswith(".gz")
                                     else PURPOSES.get(f["name"], ""))} for f in m["files"]]
    return site.render("dumps.html", request, headers=headers, title="Downloads", files=files,
                       version=m["version"], release_name=m.get("release_name"), tieslod=m.get("tieslod", ""))


async def dump_file(site: Site, request: Request) -> Response:
    """One file of the release, with its checksum as ETag; unknown names are 404, never a path walk."""
    release = site.release()
    name = request.path_params["name"]
    if release.path is None:
        return PlainTextResponse("404 Not Found: this server answers from a SPARQL database and holds no dump "
                                 "files; /dumps/ says where the data lives\n", 404)
    listed = {f["name"]: f for f in release.manifest["files"]}
    if name == "SHA256SUMS":
        info = {"name": name, "media_type": "text/plain", "sha256": release.version + "-sums"}
    elif name in listed:
        info = listed[name]
    else:
        return PlainTextResponse(f"404 Not Found: no file {name!r} in this release\n", 404)
    headers = validator_headers(f'"{info["sha256"]}"', release.last_modified, CURRENT_DUMP_CACHE)
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    # Not the build's .gz as Content-Encoding: those are multi-member gzip (one member per piece, so that
    # a rebuild can copy them), and httpx decodes only the first member, silently. GZipMiddleware
    # compresses this answer on the fly for clients that accept gzip.
    return FileResponse(release.path / "dumps" / name, headers=headers, media_type=_dump_type(info["media_type"]))
    return False


VOID_OFFERS = tuple(f for f in ENTITY_OFFERS if f is not HTML_PAGE)


@lru_cache(maxsize=16)
def _void_as(path: Path, fmt: Format) -> bytes:
    """void.ttl of a release in another RDF format (a release never changes, so neither does this)."""
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    return serialize_rdf(triples, fmt.rdf_format, prefixes=None if fmt.name == "jsonld" else PREFIXES)


async def void(site: Site, request: Request) -> Response:
    """The VoID/DCAT description, negotiated: Turtle, JSON-LD, N-Triples or RDF/XML (a browser, which
    prefers HTML, gets the Turtle as before)."""
    release = site.release()
    try:
        fmt = choose(request.headers.get("accept"), request.query_params.get("format"), None, ENTITY_OFFERS)
    except (UnknownFormat, NotAcceptable) as exc:
        return PlainTextResponse(f"{exc}\n", 400 if isinstance(exc, UnknownFormat) else 406)
    fmt = VOID_OFFERS[0] if fmt is HTML_PAGE else fmt
    headers = validator_headers(release.etag("void-" + fmt.name), release.last_modified)
    headers["Vary"] = "Accept"
    if fmt.name == "turtle":
        headers["Content-Location"] = site.origin(request) + "/dumps/void.ttl"
    if is_fresh(request, headers["ETag"], release.mtime):
        return not_modified(headers)
    if release.path is None:   # remote: the description push wrote into the database
        triples = list(ox.parse(release.manifest["description"], format=ox.RdfFormat.N_TRIPLES))
        body = serialize_rdf(triples, fmt.rdf_format, prefixes=None if fmt.name == "jsonld" else PREFIXES)
        return Response(body, headers=headers, media_type=content_type(fmt))
    path = release.path / "dumps" / "void.ttl"
    if fmt.name == "turtle":
        return FileResponse(path, headers=headers, media_type=content_type(fmt))
    return Response(_void_as(path, fmt), headers=headers, media_type=content_type(fmt))


async def context_doc(site: Site, request: Request) -> Response:
    """Our JSON-LD context; CORS-open because JSON-LD processors in browsers fetch it cross-origin."""
    data = (site.settings.ontology_dir / "context.jsonld").read_bytes()
    headers = validator_headers(f'"{hashlib.sha256(data).hexdigest()[:32]}"', site.release().last_modified)
    headers["Access-Control-Allow-Origin"] = "*"
    if is_fresh(request, headers["ETag"], site.release().mtime):
        return not_modified(headers)
    return Response(data, headers=headers, media_type=rdf_format("jsonld").media_type)


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
    return [
        Route("/dumps", lambda request: RedirectResponse("/dumps/", 301)),
        Route("/dumps/", site.bind(dumps_index), name="dumps"),
        Route("/dumps/{name}", site.bind(dump_file), name="dump"),
        Route("/.well-known/void", site.bind(void), name="void"),
        Route(site.map.route("dataset"), site.bind(void), name="dataset"),
        Route("/context.jsonld", site.bind(context_doc), name="context"),
        Route("/ontology", site.bind(ontology), name="ontology"),
        Route("/ontology.{ext}", site.bind(ontology), name="ontology-doc"),
    ]
