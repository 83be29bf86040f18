"""`/sparql`: the query side of the SPARQL 1.1 Protocol, read-only.

GET ?query=, POST application/x-www-form-urlencoded, POST application/sparql-query; default-graph-uri
and named-graph-uri; the format from `format=` or `Accept` (q-values, via server/conneg.py over the
one format table); a Service Description on a GET without a query. Queries run through
ctx.run_query, i.e. in the worker pool with its deadline and size limit."""
from __future__ import annotations

import asyncio
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import BackendError, NotAcceptable, Problem, TiesError, TooManyRequests, outcome
from ..formats import GRAPH_PARAM_ALIASES, RDF_FORMATS, RESULT_FORMATS, Format, content_type
from ..vocab import SD, VOID
from .budget import client_of, client_of_scope
from .conneg import by_name, negotiate
from .context import AppContext, QueryRequest
from .httpcache import Release
from .queryui import QueryPage, wants_page

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
READ_ONLY = "this endpoint is read-only: SPARQL Update is not accepted here"
FORMATS_NS = "http://www.w3.org/ns/formats/"


@dataclass
class Params:
    query: list[str] = field(default_factory=list)
    update: bool = False
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)

    def add(self, pairs: list[tuple[str, str]]) -> None:
        for key, value in pairs:
            if key == "query":
                self.query.append(value)
            elif key == "update":
                self.update = True
            elif key == "default-graph-uri":
                self.default_graphs.append(value)
            elif key == "named-graph-uri":
                self.named_graphs.append(value)
            elif key == "format":
                self.formats.append(value)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes the limit (declared or actually sent)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the request body is over the limit of {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"the request body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, f"the {what} is not UTF-8: {exc}") from None


async def read_params(request: Request, limit: int) -> Params:
    params = Params()
    params.add(parse_qsl(request.url.query, keep_blank_values=True))
    if request.method != "POST":
        return params
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == UPDATE_BODY:
        raise Problem(400, READ_ONLY)
    if not media and request.headers.get("content-length", "0") == "0":
        return params   # an empty POST: answered "no query given" below, not 415
    if media not in (FORM, QUERY_BODY):
        raise Problem(415, f"POST a query as {FORM} or {QUERY_BODY} (got {media or 'no Content-Type'})")
    body = await read_body(request, limit)
    if media == FORM:
        params.add(parse_qsl(_decode(body, "form body"), keep_blank_values=True))
    else:
        params.query.append(_decode(body, "query"))
    return params


def _first(values: tuple[str, ...], offers: tuple[Format, ...], aliases: dict[str, str]) -> Format | None:
    for value in values:
        fmt = by_name(aliases.get(value.strip().lower(), value), offers)
        if fmt is not None:
            return fmt
    return None


def _negotiate(accept: str | None, offers: tuple[Format, ...]) -> Format | None:
    try:
        return negotiate(accept, offers)
    except NotAcceptable:
        return None


@lru_cache(maxsize=512)   # clients send few distinct Accept headers; scoring them was 15% of a cached answer
def choose_formats(accept: str | None, format_values: tuple[str, ...]) -> tuple[Format | None, Format | None]:
    """(format for SELECT/ASK, format for CONSTRUCT/DESCRIBE): `format=` wins over Accept.
    The query's kind is known only once it is parsed, so both are chosen up front."""
    if format_values:
        pair = _first(format_values, RESULT_FORMATS, {}), _first(format_values, RDF_FORMATS, GRAPH_PARAM_ALIASES)
        if pair == (None, None):
            raise Problem(400, f"unknown format {format_values[0]!r}; expected one of: "
                          + ", ".join(f.name for f in (*RESULT_FORMATS, *RDF_FORMATS)))
        return pair
    pair = _negotiate(accept, RESULT_FORMATS), _negotiate(accept, RDF_FORMATS)
    if pair == (None, None):
        raise Problem(406, "nothing acceptable: results are offered as "
                      + ", ".join(f.media_type for f in (*RESULT_FORMATS, *RDF_FORMATS)))
    return pair


def to_request(params: Params, accept: str | None) -> QueryRequest:
    if params.update:
        raise Problem(400, READ_ONLY)
    if len(params.query) != 1:
        raise Problem(400, "give exactly one query parameter" if params.query else "no query given")
    results, graphs = choose_formats(accept, tuple(params.formats))
    return QueryRequest(params.query[0], results.name if results else "", graphs.name if graphs else "",
                        tuple(params.default_graphs), tuple(params.named_graphs))


def _graphs_of(release: Release) -> tuple[tuple[str, int], ...]:
    return tuple((g["iri"], g["quads"]) for _, g in sorted(release.manifest.get("graphs", {}).items()))


def service_description(endpoint: str, release: Release, fmt: Format) -> bytes:
    """SPARQL 1.1 Service Description: what this endpoint speaks and which graphs it holds."""
    node = ox.NamedNode

    def sd(local: str) -> ox.NamedNode:
        return ox.NamedNode(SD + local)
    rdf_type = node("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, dataset, default = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [ox.Triple(service, rdf_type, sd("Service")), ox.Triple(service, sd("endpoint"), node(endpoint)),
               ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
               ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
               ox.Triple(service, sd("defaultDataset"), dataset),
               ox.Triple(dataset, rdf_type, sd("Dataset")), ox.Triple(dataset, sd("defaultGraph"), default),
               ox.Triple(default, rdf_type, sd("Graph"))]
    triples += [ox.Triple(service, sd("resultFormat"), node(FORMATS_NS + str(f.w3c)))
                for f in (*RESULT_FORMATS, *RDF_FORMATS)]
    for iri, quads in _graphs_of(release):
        named, graph = ox.BlankNode(), ox.BlankNode()
        triples += [ox.Triple(dataset, sd("namedGraph"), named), ox.Triple(named, sd("name"), node(iri)),
                    ox.Triple(named, sd("graph"), graph), ox.Triple(graph, rdf_type, sd("Graph")),
                    ox.Triple(graph, node(VOID + "triples"), ox.Literal(str(quads), datatype=node(
                        "http://www.w3.org/2001/XMLSchema#integer")))]
    prefixes = None if fmt.name == "jsonld" else {"sd": SD, "void": VOID, "formats": FORMATS_NS}
    assert isinstance(fmt.oxigraph, ox.RdfFormat)   # an offer of RDF_FORMATS
    body = ox.serialize(triples, format=fmt.oxigraph, prefixes=prefixes)
    assert body is not None   # no output file given: the bytes are returned
    return body


def _problem(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


class SparqlEndpoint:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.page = QueryPage(ctx)   # the query UI, for browsers (issue 14)

    def endpoint_url(self, request: Request) -> str:
        public = self.ctx.settings.public_url
        return public.rstrip("/") + "/sparql" if public else str(request.url.replace(query=""))

    async def handle(self, request: Request) -> Response:
        if wants_page(request):
            return self.page.render(request)
        try:
            params = await read_params(request, self.ctx.settings.max_body_bytes)
            if request.method == "GET" and not params.query and not params.update:
                return self.describe(request)
            req = to_request(params, request.headers.get("accept"))
            # run_query reads the release before its first await, so nothing can switch it between
            # these two lines: the header names the release that answered.
            release = self.ctx.version()
            answer = await self.ctx.run_query(req, client=client_of(request, self.ctx.settings.trust_forwarded_for))
        except Problem as exc:
            return _problem(exc.status, exc.message, exc.headers)
        except TooManyRequests as exc:
            return _problem(exc.http_status, str(exc), {"Retry-After": str(exc.retry_after)})
        except BackendError:
            raise   # the remote database failed: 502/503/504 with Retry-After (app.backend_failed)
        except TiesError as exc:
            return _problem(outcome(exc).http_status, str(exc))
        return Response(answer.body, media_type=content_type(answer.fmt),
                        headers={"Vary": "Accept", "X-Tieslod-Release": release})

    def describe(self, request: Request) -> Response:
        fmt = _negotiate(request.headers.get("accept"), RDF_FORMATS)
        if fmt is None:
            raise Problem(406, "the service description is offered as "
                          + ", ".join(f.media_type for f in RDF_FORMATS))
        body = service_description(self.endpoint_url(request), self.ctx.release(), fmt)
        return Response(body, media_type=content_type(fmt), headers={"Vary": "Accept"})


def routes(ctx: AppContext, endpoint: SparqlEndpoint | None = None) -> list[BaseRoute]:
    return [Route("/sparql", (endpoint or SparqlEndpoint(ctx)).handle, methods=["GET", "POST"])]


GZIP_MIN = 1000              # as app.py's GZipMiddleware: smaller answers are sent as they are
GZIP_IN_THREAD = 128 * 1024  # as Starlette does it: bigger ones are compressed off the event loop


def _gzip(body: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)   # GZipMiddleware's settings
    return packer.compress(body) + packer.flush()


class LeanRoute:
    """`GET /sparql?query=...` from a client that sends no Origin (scripts, SPARQLWrapper, curl; a
    browser's cross-origin request takes the routed path, with CORS) is answered here, in front of
    Starlette: its middleware stack, router and Request cost several times what the query trip does
    (docs/notes/issue-13.md). The answer is the routed path's, header for header: the handler's
    Content-Type, Vary and X-Tieslod-Release, gzip and Vary: Accept-Encoding as GZipMiddleware adds
    them, Retry-After on 503 and 429 as headers.ResponseHeaders does (tests/server/test_sparql.py
    compares the two). Anything else goes on to `app`."""

    def __init__(self, app: ASGIApp, endpoint: SparqlEndpoint,
                 backend_failed: Callable[[Request, Exception], Response]) -> None:
        self.app, self.endpoint, self.backend_failed = app, endpoint, backend_failed
        self.ctx = endpoint.ctx
        self.retry_after = str(max(1, math.ceil(self.ctx.settings.timeout))).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/sparql" \
                or b"query=" not in scope["query_string"]:
            await self.app(scope, receive, send)
            return
        accept: str | None = None
        gzip_ok = False
        for key, value in scope["headers"]:
            if key == b"origin":   # CORS headers: the routed path's CORSMiddleware
                await self.app(scope, receive, send)
                return
            if key == b"accept":
                accept = value.decode("latin-1")
            elif key == b"accept-encoding":
                gzip_ok = b"gzip" in value
        try:
            text = scope["query_string"].decode()
        except UnicodeDecodeError:
            await self.app(scope, receive, send)   # whatever the routed path makes of it
            return
        params = Params()
        params.add(parse_qsl(text, keep_blank_values=True))
        if not params.query and not params.update:   # e.g. `?xquery=`: the service description or the page
            await self.app(scope, receive, send)
            return
        await self._answer(scope, receive, send, params, accept, gzip_ok)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, params: Params, accept: str | None,
                      gzip_ok: bool) -> None:
        ctx = self.ctx
        try:
            req = to_request(params, accept)
            release = ctx.version()   # before run_query's first await: see SparqlEndpoint.handle
            answer = await ctx.run_query(req, client=client_of_scope(scope, ctx.settings.trust_forwarded_for))
        except Problem as exc:
            response = _problem(exc.status, exc.message, exc.headers)
        except TooManyRequests as exc:
            response = _problem(exc.http_status, str(exc), {"Retry-After": str(exc.retry_after)})
        except BackendError as exc:
            response = self.backend_failed(Request(scope, receive), exc)
        except TiesError as exc:
            response = _problem(outcome(exc).http_status, str(exc))
        else:
            headers = [(b"content-type", content_type(answer.fmt).encode()), (b"vary", b"Accept"),
                       (b"x-tieslod-release", release.encode())]
            await self._send(send, 200, headers, answer.body, gzip_ok)
            return
        headers = list(response.raw_headers)
        if response.status_code in (429, 503) and not any(k == b"retry-after" for k, _ in headers):
            headers.append((b"retry-after", self.retry_after))
        await self._send(send, response.status_code, [h for h in headers if h[0] != b"content-length"],
                         bytes(response.body), gzip_ok)

    @staticmethod
    async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, gzip_ok: bool) -> None:
        if len(body) >= GZIP_MIN:
            vary = [i for i, (k, _) in enumerate(headers) if k == b"vary"]
            if vary:
                headers[vary[0]] = (b"vary", headers[vary[0]][1] + b", Accept-Encoding")
            else:
                headers.append((b"vary", b"Accept-Encoding"))
            if gzip_ok:
                body = await asyncio.to_thread(_gzip, body) if len(body) >= GZIP_IN_THREAD else _gzip(body)
                headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
