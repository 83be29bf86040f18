"""Shared machinery of the linked-data pages: templates, the release being served, queries for
descriptions and the label index, and the headers every negotiated document carries."""
from __future__ import annotations

import json
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..config import project_dir
from ..errors import UsageError
from ..formats import Format
from ..querying.resource import Description, describe_nodes_query, related_nodes_query
from ..vocab import prefix_block
from .conneg import ENTITY_OFFERS
from .context import AppContext, QueryRequest
from .httpcache import Release
from .urimap import UriMap

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORMAT_LABELS = {"html": "HTML", "turtle": "Turtle", "jsonld": "JSON-LD", "ntriples": "N-Triples",
                 "rdfxml": "RDF/XML"}
OWN_KINDS = ("tie/", "claim/", "review/")   # not entities: left out of search and "related"


def json_for_script(data: Any) -> Markup:
    """JSON safe inside <script>: no '</' (or '<!--') can end the element early."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def fold(text: str) -> str:
    """Case-, accent- and quote-insensitive form for search ('Russia’s' finds "Russia's")."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Entry:
    iri: str
    label: str
    names: tuple[str, ...]       # label and aliases
    kind: str


@dataclass(frozen=True)
class Example:
    name: str
    question: str
    query: str


class Site:
    """The pages' shared state; routes(site) of each page module binds its handlers to one Site."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.map = UriMap.from_settings(ctx.settings)
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                               trim_blocks=False, lstrip_blocks=False)
        self.env.globals["href"] = self.map.href
        self._index: dict[str, list[Entry]] = {}

    def bind(self, handler: Callable[[Site, Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """The Starlette endpoint that calls handler(site, request); a plain function, as Route expects."""
        async def endpoint(request: Request) -> Response:
            return await handler(self, request)
        return endpoint

    # the release -----------------------------------------------------------------------------
    def release(self) -> Release:
        return self.ctx.release()

    def origin(self, request: Request) -> str:
        """This server's origin, for absolute links in headers (public_url when behind a proxy)."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    # queries ---------------------------------------------------------------------------------
    async def describe(self, iri: str) -> Description:
        # two steps (the nodes, then their triples): Virtuoso answers the one-step describe_query with the
        # whole dataset for some IRIs (docs/notes/issue-15.md); both backends get the same queries
        rows = await self.select(related_nodes_query(iri))
        nodes = [row["n"]["value"] for row in rows if row.get("n", {}).get("type") == "uri"]
        answer = await self.ctx.run_query(QueryRequest(describe_nodes_query(iri, nodes), graph_format="ntriples"))
        return Description.from_ntriples(iri, answer.body)

    async def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        answer = await self.ctx.run_query(QueryRequest(query, result_format="json"))
        rows: list[dict[str, dict[str, str]]] = json.loads(answer.body)["results"]["bindings"]
        return rows

    async def index(self) -> list[Entry]:
        """Labels and aliases of every entity and source, read once per release."""
        release = self.release()
        if release.version not in self._index:
            base = self.map.base + "id/"
            rows = await self.select(prefix_block() + f"""
SELECT ?s ?name ?alias ?type WHERE {{
  ?s rdfs:label ?name . OPTIONAL {{ ?s skos:altLabel ?alias }} OPTIONAL {{ ?s a ?type }}
  FILTER (STRSTARTS(STR(?s), "{base}"))
}}""")
            self._index = {release.version: self._entries(rows, base)}
        return self._index[release.version]

    @staticmethod
    def _entries(rows: list[dict[str, dict[str, str]]], base: str) -> list[Entry]:
        found: dict[str, dict[str, Any]] = {}
        for row in rows:
            iri = row["s"]["value"]
            if iri[len(base):].startswith(OWN_KINDS):
                continue
            item = found.setdefault(iri, {"label": row["name"]["value"], "names": [row["name"]["value"]],
                                          "kind": "Thing"})
            if "alias" in row and row["alias"]["value"] not in item["names"]:
                item["names"].append(row["alias"]["value"])
            if "type" in row and item["kind"] in ("Thing", "NewsArticle"):
                item["kind"] = row["type"]["value"].rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        return sorted((Entry(i, v["label"], tuple(v["names"]), v["kind"]) for i, v in found.items()),
                      key=lambda e: fold(e.label))

    async def search(self, query: str, limit: int = 50) -> list[dict[str, str]]:
        needle = fold(query.strip())
        if not needle:
            return []
        hits = []
        for entry in await self.index():
            for rank, name in enumerate(entry.names):
                folded = fold(name)
                if needle in folded:
                    score = (0 if folded == needle else 1 if folded.startswith(needle) else 2, rank > 0)
                    hits.append((score, fold(entry.label), entry, name))
                    break
        hits.sort(key=lambda h: (h[0], h[1]))
        return [{"iri": e.iri, "href": self.map.href(e.iri), "label": e.label, "kind": e.kind, "matched": name}
                for _, _, e, name in hits[:limit]]

    # documents -------------------------------------------------------------------------------
    def alternates(self, request: Request, stem: str, chosen: Format | None = None) -> list[dict[str, str]]:
        origin = self.origin(request)
        doc = origin + self.map.route("id/" + stem)
        return [{"name": f.name, "label": FORMAT_LABELS.get(f.name, f.name), "media_type": f.media_type,
                 "href": f"{doc}.{f.extension}"} for f in ENTITY_OFFERS if f is not chosen]

    def render(self, name: str, request: Request, status: int = 200,
               headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
        values.setdefault("alternates", [])
        values.setdefault("status", status)
        values.setdefault("version", self.release().version)
        html = self.env.get_template(name).render(**values)
        return HTMLResponse(html, status_code=status, headers=headers)

    def examples(self) -> list[Example]:
        """The competency questions in queries/*.rq (first line `# Question: ...`), read per request
        so that a new question shows up without a restart."""
        try:
            folder = project_dir("queries")
        except UsageError:
            return []
        out = []
        for path in sorted(folder.glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            first = text.splitlines()[0] if text else ""
            question = first.split(":", 1)[1].strip() if first.lower().startswith("# question:") else path.stem
            out.append(Example(path.stem, question, text))
        return out
