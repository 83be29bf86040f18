"""`/sparql`: the query side of the SPARQL 1.1 Protocol, read-only.

GET ?query=, POST application/x-www-form-urlencoded, POST application/sparql-query; default-graph-uri
and named-graph-uri; the format from `format=` or `Accept` (q-values, via server/conneg.py over the
one format table); a Service Description on a GET without a query. Queries run through
ctx.run_query, i.e. in the worker pool with its deadline and size limit."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import BackendError, Problem, TiesError, TooManyRequests, outcome
from ..formats import GRAPH_PARAM_ALIASES, RDF_FORMATS, RESULT_FORMATS, Format, content_type
from ..vocab import SD, VOID
from .budget import client_of
from .context import AppContext, QueryRequest
from .httpcache import Release
from .conneg import NotAcceptable, by_name, negotiate
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


def status_of(exc: TiesError) -> int:
    return outcome(exc).http_status   # errors.py maps every exception, for the CLI and the server


def _graphs_of(release: Release) -> tuple[tuple[str, int], ...]:
    return tuple((g["iri"], g["quads"]) for _, g in sorted(release.manifest.get("graphs", {}).items()))


def service_description(endpoint: str, release: Release, fmt: Format) -> bytes:
    """SPARQL 1.1 Service Description: what this endpoint speaks and which graphs it holds."""
    sd, node = (lambda local: ox.NamedNode(SD + local)), ox.NamedNode
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
    return ox.serialize(triples, format=fmt.oxigraph, prefixes=prefixes)


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
            return _problem(status_of(exc), str(exc))
        return Response(answer.body, media_type=content_type(answer.fmt),
                        headers={"Vary": "Accept", "X-Tieslod-Release": release})

    def describe(self, request: Request) -> Response:
        fmt = _negotiate(request.headers.get("accept"), RDF_FORMATS)
        if fmt is None:
            raise Problem(406, "the service description is offered as "
                          + ", ".join(f.media_type for f in RDF_FORMATS))
        body = service_description(self.endpoint_url(request), self.ctx.release(), fmt)
        return Response(body, media_type=content_type(fmt), headers={"Vary": "Accept"})


def routes(ctx: AppContext) -> list[BaseRoute]:
    return [Route("/sparql", SparqlEndpoint(ctx).handle, methods=["GET", "POST"])]
