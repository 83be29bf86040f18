"""Web routes for reconciliation (/reconcile), connection paths (/path) and versioned releases
(/dumps/<version>/..., /releases/index.json, /releases/feed.atom). create_app includes routes(ctx).

The entity index and tie graph are built once per release from the store through ctx.run_query,
so they follow the release being served. CORS is handled app-wide, JSONP is not offered."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import BackendError, TiesError
from ..formats import ATOM_FEED, JSON_DATA, by_suffix
from ..publishing.versions import archive_root
from ..querying import connections as paths_mod
from ..querying import extend as extend_mod
from ..querying import reconcile as rec
from . import pathpage
from .context import AppContext, QueryRequest
from .site import Site
from .urimap import UriMap

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class VersionConvertor(Convertor[str]):
    """16 hex digits or `latest`: leaves every other /dumps/... path to the downloads listing."""

    regex = "[0-9a-f]{16}|latest"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("tlversion", VersionConvertor())


T = TypeVar("T")


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message}, status_code=status)


class Extras:
    """Handlers with what they share: the context and per-release caches."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.map = UriMap.from_settings(ctx.settings)
        self.site = Site(ctx)
        self._cache: dict[str, Any] = {}

    def origin(self, request: Request) -> str:
        if self.ctx.settings.public_url:
            return self.ctx.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    async def _cached(self, name: str, query: str, parse: Callable[[bytes], T]) -> T:
        key = f"{name}:{self.ctx.version()}"
        if key not in self._cache:
            answer = await self.ctx.run_query(QueryRequest(query))
            self._cache = {k: v for k, v in self._cache.items() if not k.startswith(name + ":")}
            self._cache[key] = parse(answer.body)
        found: T = self._cache[key]   # made by this same `parse`: the key names it
        return found

    async def index(self) -> rec.EntityIndex:
        base = self.ctx.settings.base_uri
        return await self._cached("index", rec.entity_query(self.ctx.settings),
                                  lambda body: rec.EntityIndex.from_srj(body, base))

    async def ties(self) -> dict[str, paths_mod.TieInfo]:
        return await self._cached("ties", paths_mod.TIE_QUERY, paths_mod.ties_from_srj)

    # ------------------------------------------------------------------ reconciliation
    async def _params(self, request: Request) -> dict[str, str]:
        """Query string plus the form or JSON body; ValueError (answered 400) for a body that is not
        JSON or not a JSON object (issue 11: `{bad` and `[1]` were a 500 with a traceback)."""
        params = dict(request.query_params)
        if request.method == "POST":
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    body = json.loads(await request.body())
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise ValueError(f"the body is not JSON: {exc}") from None
                if not isinstance(body, dict):
                    raise ValueError("the JSON body must be an object, e.g. {\"queries\": {...}}")
                params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
            else:
                form = await request.form()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    async def reconcile(self, request: Request) -> Response:
        try:
            params = await self._params(request)
        except ValueError as exc:
            return _error(f"bad reconciliation request: {exc}")
        service = self.origin(request) + "/reconcile"
        if not {"queries", "query", "extend"} & set(params):
            view = self.origin(request) + self.map.route("id/{{id}}")
            return JSONResponse(rec.manifest(self.ctx.settings, service, view))
        try:
            index = await self.index()
            if "extend" in params:   # data extension: property values of reconciled entities
                return JSONResponse(extend_mod.extend(index, await self.ties(), json.loads(params["extend"]), service))
            if "queries" in params:
                return JSONResponse(rec.reconcile_batch(index, json.loads(params["queries"])))
            raw = params["query"]   # protocol 0.1: one query, as JSON or as plain text
            single = json.loads(raw) if raw.lstrip().startswith("{") else {"query": raw}
            return JSONResponse({"result": rec.reconcile_one(index, single)})
        except BackendError:
            raise   # the remote database failed: 502/503/504 with Retry-After (app.backend_failed)
        except (json.JSONDecodeError, ValueError, TiesError) as exc:
            return _error(f"bad reconciliation request: {exc}")

    async def suggest_entity(self, request: Request) -> Response:
        q = request.query_params
        try:
            start = int(q.get("cursor") or q.get("start") or 0)
            limit = rec.parse_limit(q.get("limit"), 10)
        except ValueError:
            return _error("cursor must be a whole number")
        except TiesError as exc:
            return _error(str(exc))
        return JSONResponse(rec.suggest_entities(await self.index(), q.get("prefix", ""), q.get("type"),
                                                 max(start, 0), limit))

    async def suggest_property(self, request: Request) -> Response:
        try:
            limit = rec.parse_limit(request.query_params.get("limit"), 10)
        except TiesError as exc:
            return _error(str(exc))
        return JSONResponse(extend_mod.suggest(await self.ties(), request.query_params.get("prefix", ""), limit))

    async def propose_properties(self, request: Request) -> Response:
        try:
            limit = rec.parse_limit(request.query_params.get("limit"), rec.MAX_LIMIT)
        except TiesError as exc:
            return _error(str(exc))
        return JSONResponse(extend_mod.propose(await self.ties(), request.query_params.get("type"), limit))

    async def suggest_type(self, request: Request) -> Response:
        try:
            limit = rec.parse_limit(request.query_params.get("limit"), 10)
        except TiesError as exc:
            return _error(str(exc))
        return JSONResponse(rec.suggest_types(request.query_params.get("prefix", ""), limit))

    async def _entity(self, request: Request) -> rec.Entity | None:
        return (await self.index()).get(request.query_params.get("id", ""))

    async def preview(self, request: Request) -> Response:
        entity = await self._entity(request)
        if entity is None:
            return HTMLResponse("<!DOCTYPE html><p>No such entity.</p>", status_code=404)
        view = self.origin(request) + self.map.route("id/" + entity.key)
        # OpenRefine shows this card in an iframe of its own origin: framing allowed, scripts not
        return HTMLResponse(rec.preview_html(entity, view), headers={"Content-Security-Policy": PREVIEW_POLICY})

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
        include_denied = q.get("include_denied", "") in ("1", "true", "yes", "on")
        if not q.get("from") or not q.get("to"):
            if as_json:
                return _error("give ?from= and ?to= (entity names, keys or URIs)")
            return self.path_page(request, None, include_denied, "", headers)
        try:
            depth = int(q.get("depth") or paths_mod.DEFAULT_DEPTH)
            alternatives = int(q.get("alternatives") or paths_mod.DEFAULT_ALTERNATIVES)
            answer = paths_mod.find_paths(await self.ties(), await self.index(), q["from"], q["to"],
                                          min(depth, 6), min(alternatives, 10), include_denied)
        except BackendError:
            raise
        except (ValueError, TiesError) as exc:
            if as_json:
                return _error(str(exc))
            return self.path_page(request, None, include_denied, str(exc), headers, 400)
        if as_json:
            return Response(answer.to_json(), media_type=JSON_DATA.media_type, headers=headers)
        return self.path_page(request, answer, include_denied, "", headers)

    def path_page(self, request: Request, answer: paths_mod.PathAnswer | None, include_denied: bool, error: str,
                  headers: dict[str, str], status: int = 200) -> Response:
        """The page in the site's layout (templates/path.html, diagrams from server/pathpage.py)."""
        q = request.query_params
        json_query = urlencode({k: v for k, v in q.items() if k != "format"} | {"format": "json"})
        return self.site.render("path.html", request, status=status, headers=headers, title="How are they connected?",
                                q=q, answer=answer, chains=pathpage.chains(answer, self.map.href) if answer else [],
                                include_denied=include_denied, error=error, json_query=json_query,
                                max_depth=answer.max_depth if answer else paths_mod.DEFAULT_DEPTH)

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
        fmt = by_suffix(path.suffix)
        media = fmt.media_type if fmt is not None else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=media, headers=headers)

    def releases_file(self, name: str, media: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            path = self._archived("releases", name)
            if path is None:
                return PlainTextResponse("No release has been published yet (run `tieslod release`).\n",
                                         status_code=404)
            return FileResponse(path, media_type=media, headers={"Cache-Control": REVALIDATE})
        return endpoint


def routes(ctx: AppContext) -> list[BaseRoute]:
    x = Extras(ctx)
    return [
        Route("/reconcile", x.reconcile, methods=["GET", "POST"]),
        Route("/reconcile/suggest/entity", x.suggest_entity),
        Route("/reconcile/suggest/type", x.suggest_type),
        Route("/reconcile/suggest/property", x.suggest_property),
        Route("/reconcile/extend/propose", x.propose_properties),
        Route("/reconcile/flyout/entity", x.flyout),
        Route("/reconcile/preview", x.preview),
        Route("/path", x.path),
        Route("/dumps/{version:tlversion}/{name}", x.archived_file),
        Route("/releases/index.json", x.releases_file("index.json", JSON_DATA.media_type)),
        Route("/releases/feed.atom", x.releases_file("feed.atom", ATOM_FEED.media_type)),
    ]
