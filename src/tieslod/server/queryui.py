"""The query UI at /sparql for browsers: YASGUI (vendored in static/yasgui/), our prefixes, the
competency questions as examples, our IRIs linking to our pages.

A GET of /sparql without a query whose Accept prefers text/html to every RDF format gets this page
instead of the service description; `*/*` alone (curl, httpx, most libraries) still gets the service
description, because the page is the server's last preference. A GET with `query=` is a query
operation and always answers data. Shared links hold the query after `#` (`/sparql#query=...`,
which never reaches the server): the page loads it into the editor and runs it."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import NotAcceptable
from ..formats import HTML_PAGE, RDF_FORMATS, RESULT_FORMATS
from ..vocab import PREFIXES
from .conneg import negotiate
from .context import AppContext
from .site import Site, json_for_script

PREFIX_LIST = "/sparql-prefixes.json"
# The page is offered last: a tie (as with */*) goes to the data formats.
OFFERS = (*RESULT_FORMATS, *RDF_FORMATS, HTML_PAGE)

DEFAULT_QUERY = """# The people and groups with the most claims about their ties
SELECT ?entity ?name (COUNT(DISTINCT ?claim) AS ?claims) WHERE {
  ?entity rdfs:label ?name .
  ?tie tl:subject|tl:object ?entity .
  ?claim tl:tie ?tie .
} GROUP BY ?entity ?name ORDER BY DESC(?claims) LIMIT 20"""


def wants_page(request: Request) -> bool:
    """A browser asking for /sparql: GET, no `query=` or `format=`, and text/html preferred."""
    if request.method != "GET" or "format" in request.query_params or "query" in request.query_params:
        return False
    try:
        return negotiate(request.headers.get("accept"), OFFERS) is HTML_PAGE
    except NotAcceptable:
        return False


class QueryPage:
    def __init__(self, ctx: AppContext) -> None:
        self.site = Site(ctx)

    def prefixes(self) -> dict[str, str]:
        """What the editor declares and the results table shortens with: ours, then the usual."""
        base = self.site.map.base
        return {"e": base + "id/", "claim": base + "id/claim/", "tie": base + "id/tie/",
                "source": base + "id/source/", **PREFIXES}

    def config(self, request: Request) -> dict[str, object]:
        prefixes = self.prefixes()
        declared = "".join(f"PREFIX {k}: <{v}>\n" for k, v in prefixes.items() if k in ("tl", "rdfs", "e"))
        return {"endpoint": self.site.origin(request) + "/sparql", "prefixes": prefixes, "prefixList": PREFIX_LIST,
                "query": declared + DEFAULT_QUERY, "base": self.site.map.base, "prefix": self.site.map.prefix}

    def prefix_list(self, request: Request) -> Response:
        """The prefixes YASQE completes and declares when one is typed (its `prefixCcApi`): ours, so
        that typing `tl:` declares our ontology, not the `tl:` of YASQE's bundled list (a timeline
        vocabulary), which would make every query answer nothing."""
        return JSONResponse(self.prefixes(), headers={"Cache-Control": "public, max-age=300"})

    def render(self, request: Request) -> Response:
        config = self.config(request)
        response = self.site.render("sparql.html", request, title="SPARQL query", examples=self.site.examples(),
                                    base=self.site.map.base, default_query=config["query"],
                                    config=json_for_script(config))
        response.headers["Vary"] = "Accept"
        return response


def routes(ctx: AppContext) -> list[BaseRoute]:
    page = QueryPage(ctx)
    return [Route(PREFIX_LIST, page.prefix_list, name="sparql-prefixes")]
