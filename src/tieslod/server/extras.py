"""Web routes for reconciliation (/reconcile), connection paths (/path) and versioned releases
(/dumps/<version>/..., /releases/index.json, /releases/feed.atom). create_app includes routes(ctx).

The entity index and tie graph are built once per release from the store through ctx.run_query,
so they follow the release being served. CORS is handled app-wide, JSONP is not offered."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from .. import paths as paths_mod
from .. import reconcile as rec
from ..errors import TiesError
from ..versions import archive_root
from .context import AppContext, QueryRequest
from .urimap import UriMap

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MEDIA = {".nq": "application/n-quads", ".nt": "application/n-triples", ".ttl": "text/turtle",
         ".trig": "application/trig", ".jsonld": "application/ld+json", ".json": "application/json",
         ".csv": "text/csv; charset=utf-8", ".gz": "application/gzip", ".atom": "application/atom+xml"}


class VersionConvertor(Convertor[str]):
    """16 hex digits or `latest`: leaves every other /dumps/... path to the downloads listing."""

    regex = "[0-9a-f]{16}|latest"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("tlversion", VersionConvertor())


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message}, status_code=status)


class Extras:
    """Handlers with what they share: the context and per-release caches."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.map = UriMap.from_settings(ctx.settings)
        self._cache: dict[str, Any] = {}

    def origin(self, request: Request) -> str:
        if self.ctx.settings.public_url:
            return self.ctx.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    async def _cached(self, name: str, query: str, parse: Any) -> Any:
        key = f"{name}:{self.ctx.release()}"
        if key not in self._cache:
            answer = await self.ctx.run_query(QueryRequest(query))
            self._cache = {k: v for k, v in self._cache.items() if not k.startswith(name + ":")}
            self._cache[key] = parse(answer.body)
        return self._cache[key]

    async def index(self) -> rec.EntityIndex:
        base = self.ctx.settings.base_uri
        return await self._cached("index", rec.entity_query(self.ctx.settings),
                                  lambda body: rec.EntityIndex.from_srj(body, base))

    async def ties(self) -> dict[str, paths_mod.TieInfo]:
        return await self._cached("ties", paths_mod.TIE_QUERY, paths_mod.ties_from_srj)

    # ------------------------------------------------------------------ reconciliation
    async def _params(self, request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            if request.headers.get("content-type", "").startswith("application/json"):
                body = await request.json()
                params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
            else:
                form = await request.form()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    async def reconcile(self, request: Request) -> Response:
        params = await self._params(request)
        service = self.origin(request) + "/reconcile"
        if "queries" not in params and "query" not in params:
            view = self.origin(request) + self.map.route("id/{{id}}")
            return JSONResponse(rec.manifest(self.ctx.settings, service, view))
        try:
            index = await self.index()
            if "queries" in params:
                return JSONResponse(rec.reconcile_batch(index, json.loads(params["queries"])))
            raw = params["query"]   # protocol 0.1: one query, as JSON or as plain text
            single = json.loads(raw) if raw.lstrip().startswith("{") else {"query": raw}
            return JSONResponse({"result": rec.reconcile_one(index, single)})
        except (json.JSONDecodeError, ValueError, TiesError) as exc:
            return _error(f"bad reconciliation request: {exc}")

    async def suggest_entity(self, request: Request) -> Response:
        q = request.query_params
        try:
            start, limit = int(q.get("cursor") or q.get("start") or 0), int(q.get("limit") or 10)
        except ValueError:
            return _error("cursor and limit must be integers")
        return JSONResponse(rec.suggest_entities(await self.index(), q.get("prefix", ""), q.get("type"),
                                                 max(start, 0), max(1, min(limit, 100))))

    async def suggest_type(self, request: Request) -> Response:
        return JSONResponse(rec.suggest_types(request.query_params.get("prefix", "")))

    async def _entity(self, request: Request) -> rec.Entity | None:
        return (await self.index()).get(request.query_params.get("id", ""))

    async def preview(self, request: Request) -> Response:
        entity = await self._entity(request)
        if entity is None:
            return HTMLResponse("<!DOCTYPE html><p>No such entity.</p>", status_code=404)
        view = self.origin(request) + self.map.route("id/" + entity.key)
        return HTMLResponse(rec.preview_html(entity, view))

    async def flyout(self, request: Request) -> Response:
        entity = await self._entity(request)
        return JSONResponse(rec.flyout(entity)) if entity else _error("no such entity", 404)

    # ------------------------------------------------------------------ paths
    async def path(self, request: Request) -> Response:
        q = request.query_params
        fmt = q.get("format") or ""
        accept = request.headers.get("accept", "")
        as_json = fmt == "json" or (not fmt and "application/json" in accept and "text/html" not in accept)
        headers = {"Vary": "Accept"}
        if not q.get("from") or not q.get("to"):
            if as_json:
                return _error("give ?from= and ?to= (entity names, keys or URIs)")
            return HTMLResponse(path_page(None, q, self.map, ""), headers=headers)
        try:
            depth = int(q.get("depth") or paths_mod.DEFAULT_DEPTH)
            alternatives = int(q.get("alternatives") or paths_mod.DEFAULT_ALTERNATIVES)
            answer = paths_mod.find_paths(await self.ties(), await self.index(), q["from"], q["to"],
                                          min(depth, 6), min(alternatives, 10),
                                          q.get("include_denied", "") in ("1", "true", "yes", "on"))
        except (ValueError, TiesError) as exc:
            if as_json:
                return _error(str(exc))
            return HTMLResponse(path_page(None, q, self.map, str(exc)), status_code=400, headers=headers)
        if as_json:
            return Response(answer.to_json(), media_type="application/json", headers=headers)
        return HTMLResponse(path_page(answer, q, self.map, ""), headers=headers)

    # ------------------------------------------------------------------ releases
    def _archived(self, *parts: str) -> Path | None:
        root = archive_root(self.ctx.settings)
        path = root.joinpath(*parts)
        try:
            path.resolve().relative_to(root.resolve())
        except ValueError:
            return None
        return path if path.is_file() else None

    async def archived_file(self, request: Request) -> Response:
        version, name = request.path_params["version"], request.path_params["name"]
        path = self._archived("dumps", version, name)
        if path is None or name.startswith("."):
            return PlainTextResponse("Not found. The versions published are listed at /releases/index.json.\n",
                                     status_code=404)
        headers = {"Cache-Control": IMMUTABLE}
        if version == "latest":
            real = path.resolve().parent.name
            headers = {"Cache-Control": REVALIDATE, "Content-Location": f"/dumps/{real}/{name}"}
        media = MEDIA.get(path.suffix, "text/plain; charset=utf-8")
        return FileResponse(path, media_type=media, headers=headers)

    def releases_file(self, name: str, media: str):  # noqa: ANN201 - a Starlette endpoint
        async def endpoint(request: Request) -> Response:
            path = self._archived("releases", name)
            if path is None:
                return PlainTextResponse("No release has been published yet (run `tieslod release`).\n",
                                         status_code=404)
            return FileResponse(path, media_type=media, headers={"Cache-Control": REVALIDATE})
        return endpoint


def _h(value: object) -> str:
    return html.escape(str(value))


def _hop_html(hop: paths_mod.Hop, link: UriMap) -> str:
    out = [f"<li><a href=\"{_h(link.href(hop.start))}\">{_h(hop.start_label)}</a> — "
           f"<a href=\"{_h(link.href(hop.end))}\">{_h(hop.end_label)}</a><ul>"]
    for tie in hop.ties:
        mark = "" if tie.asserted else " <strong class=\"na\">not asserted (only denied or unanswered)</strong>"
        out.append(f"<li><a href=\"{_h(link.href(tie.tie))}\">{_h(tie.category)}</a>{mark}<ul>")
        for c in tie.claims:
            who = "the article itself" if c.speaker == c.source else _h(c.speaker_label)
            hedged = f" <span class=\"modality\">({_h(c.modality)}: “{_h(c.hedge)}”)</span>" if c.modality else ""
            outlet = f", reported by {_h(c.reported_by)}" if c.reported_by else ""
            notes = "".join(f"<li>{_h(note)}</li>" for note in paths_mod.claim_notes(c))
            out.append(f"<li class=\"claim\"><span class=\"stance\">{_h(c.stance)}</span>{hedged} by {who}{outlet}, in "
                       f"<a href=\"{_h(link.href(c.source))}\">{_h(c.source_label)}</a>"
                       f"<blockquote>{_h(' '.join(c.quote.split()))}</blockquote>"
                       + (f"<ul class=\"qualifiers\">{notes}</ul>" if notes else "") + "</li>")
        out.append("</ul></li>")
    out.append("</ul></li>")
    return "".join(out)


def path_page(answer: paths_mod.PathAnswer | None, q: Any, link: UriMap, error: str) -> str:
    """The /path page: a form, then each chain hop by hop, every value escaped."""
    checked = " checked" if q.get("include_denied") else ""
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>How are they connected?</title>"
             "<style>body{font:16px/1.45 system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
             "blockquote{margin:.2rem 0 .6rem 1rem;color:#333;border-left:3px solid #ccc;padding-left:.5rem}"
             ".stance{font-weight:600}.na{color:#a00}.error{color:#a00}</style></head><body>",
             "<h1>How are they connected?</h1><form method=\"get\" action=\"/path\">"
             f"<label>From <input name=\"from\" value=\"{_h(q.get('from', ''))}\"></label> "
             f"<label>To <input name=\"to\" value=\"{_h(q.get('to', ''))}\"></label> "
             f"<label><input type=\"checkbox\" name=\"include_denied\" value=\"1\"{checked}> include ties that "
             "were only denied or unanswered</label> <button>Find</button></form>"]
    if error:
        parts.append(f"<p class=\"error\">{_h(error)}</p>")
    if answer is not None:
        if not answer.paths:
            parts.append(f"<p>No connection within {answer.max_depth} ties.</p>")
        for number, chain in enumerate(answer.paths, 1):
            names = " → ".join([chain[0].start_label] + [hop.end_label for hop in chain])
            parts.append(f"<h2>{number}. {_h(names)}</h2><ol class=\"chain\">")
            parts.extend(_hop_html(hop, link) for hop in chain)
            parts.append("</ol>")
        query = urlencode({k: v for k, v in q.items() if k != "format"} | {"format": "json"})
        parts.append(f"<p><a href=\"/path?{_h(query)}\">This answer as JSON</a></p>")
    parts.append("</body></html>")
    return "".join(parts)


def routes(ctx: AppContext) -> list[BaseRoute]:
    x = Extras(ctx)
    return [
        Route("/reconcile", x.reconcile, methods=["GET", "POST"]),
        Route("/reconcile/suggest/entity", x.suggest_entity),
        Route("/reconcile/suggest/type", x.suggest_type),
        Route("/reconcile/flyout/entity", x.flyout),
        Route("/reconcile/preview", x.preview),
        Route("/path", x.path),
        Route("/dumps/{version:tlversion}/{name}", x.archived_file),
        Route("/releases/index.json", x.releases_file("index.json", "application/json")),
        Route("/releases/feed.atom", x.releases_file("feed.atom", "application/atom+xml")),
    ]
