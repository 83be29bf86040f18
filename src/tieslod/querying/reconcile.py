"""Entity reconciliation: match names from other archives to our entity URIs.

Speaks the W3C Entity Reconciliation Service API as OpenRefine 3.x uses it (versions 0.1/0.2):
a service manifest, batched `queries`, candidates scored by label and alias, type filtering,
suggest (autocomplete) for entities and types, and preview cards. Identifiers are entity keys
(`nathan-smith`); identifierSpace + id is the entity URI, as with Wikidata's `Q42`.
The web routes live in server/extras.py; this module holds no request state."""
from __future__ import annotations

import csv
import difflib
import html
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import UsageError
from ..vocab import SCHEMA, prefix_block

MATCH_SCORE = 95.0        # only exact label/alias hits can be a `match`
BATCH_SIZE = 25           # queries per request, announced in the manifest and enforced
MAX_LIMIT = 100           # most candidates or suggestions asked for; larger limits are lowered to it
MIN_SCORE = 45.0          # candidates below this are noise
DEFAULT_LIMIT = 5
SERVICE_NAME = "tieslod: people and organisations in news reporting"

# schema.org classes we use, with their parent, so that a query typed Organization also finds parties.
TYPES: dict[str, tuple[str, str | None]] = {
    SCHEMA + "Person": ("Person", None),
    SCHEMA + "Organization": ("Organization", None),
    SCHEMA + "PoliticalParty": ("Political party", SCHEMA + "Organization"),
    SCHEMA + "GovernmentOrganization": ("Government organization", SCHEMA + "Organization"),
    SCHEMA + "NewsMediaOrganization": ("News media organization", SCHEMA + "Organization"),
    SCHEMA + "Event": ("Event", None),
    SCHEMA + "Place": ("Place", None),
    SCHEMA + "AdministrativeArea": ("Administrative area", SCHEMA + "Place"),
    SCHEMA + "Country": ("Country", SCHEMA + "AdministrativeArea"),
    SCHEMA + "City": ("City", SCHEMA + "AdministrativeArea"),
    SCHEMA + "LandmarksOrHistoricalBuildings": ("Landmark", SCHEMA + "Place"),
    SCHEMA + "CreativeWork": ("Creative work", None),
    SCHEMA + "WebPage": ("Web page", SCHEMA + "CreativeWork"),
    SCHEMA + "WebSite": ("Website", SCHEMA + "CreativeWork"),
}
DEFAULT_TYPES = ("Person", "Organization", "Event", "Place", "CreativeWork")


def entity_query(settings: Settings) -> str:
    """Every entity with its names, types and description, one value per row (aggregated in Python)."""
    # descriptions are derived per article graph (model/grounding.descriptions), not in the entities graph
    return prefix_block() + f"""SELECT ?e ?k ?v WHERE {{ {{ GRAPH <{settings.graph_iri('entities')}> {{
  {{ ?e rdfs:label ?v BIND("label" AS ?k) }} UNION {{ ?e skos:altLabel ?v BIND("alias" AS ?k) }}
  UNION {{ ?e a ?v BIND("type" AS ?k) }} }} }}
  UNION {{ GRAPH <{settings.graph_iri('entities')}> {{ ?e rdfs:label [] }}
           GRAPH ?g {{ ?e schema:description ?v }} BIND("description" AS ?k) }} }}"""


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"})


def normalize(name: str) -> str:
    """Case, accents, curly quotes, apostrophes and punctuation do not distinguish names."""
    text = unicodedata.normalize("NFKD", name.translate(_QUOTES))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("&", " and ")
    text = re.sub(r"'", "", text)                 # "Russia's" == "Russias"
    text = re.sub(r"[^\w]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


@dataclass
class Entity:
    uri: str
    key: str
    label: str = ""
    aliases: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    description: str = ""

    def type_refs(self) -> list[dict[str, str]]:
        return [{"id": t, "name": TYPES.get(t, (t.rsplit("/", 1)[-1], None))[0]} for t in self.types]

    def names(self) -> list[tuple[str, bool]]:
        """(name, is_label) for the label and every alias."""
        return [(self.label, True)] + [(a, False) for a in self.aliases]


def ancestors(type_uri: str) -> set[str]:
    out: set[str] = set()
    current: str | None = type_uri
    while current and current not in out:
        out.add(current)
        current = TYPES.get(current, ("", None))[1]
    return out


def resolve_type(name: str) -> str:
    """A type id as a client may send it: full URI, `schema:Person`, `Person` or its display name."""
    wanted = name.strip()
    if wanted in TYPES:
        return wanted
    local = wanted.split(":", 1)[1] if wanted.startswith("schema:") else wanted
    for uri, (label, _parent) in TYPES.items():
        if local in (uri[len(SCHEMA):], label):
            return uri
    return wanted   # unknown: filters everything out, as a strict client expects


class EntityIndex:
    """All entities of one release, ready to be scored against names."""

    def __init__(self, entities: list[Entity], base_uri: str) -> None:
        self.base_uri = base_uri
        self.entities = sorted(entities, key=lambda e: e.key)
        self.by_key = {e.key: e for e in self.entities}
        self._norms = [[(normalize(n), is_label) for n, is_label in e.names() if n] for e in self.entities]

    @classmethod
    def from_srj(cls, body: bytes, base_uri: str) -> EntityIndex:
        """Build from the SPARQL JSON results of entity_query()."""
        found: dict[str, Entity] = {}
        prefix = base_uri + "id/"
        for row in json.loads(body)["results"]["bindings"]:
            uri = row["e"]["value"]
            if not uri.startswith(prefix):
                continue
            entity = found.setdefault(uri, Entity(uri, uri[len(prefix):]))
            kind, value = row["k"]["value"], row["v"]["value"]
            if kind == "label":
                entity.label = value
            elif kind == "alias" and value not in entity.aliases:
                entity.aliases.append(value)
            elif kind == "type" and value not in entity.types:
                entity.types.append(value)
            elif kind == "description":   # one derived description per article graph: all of them
                parts = [d for d in entity.description.split("; ") if d]
                entity.description = "; ".join(sorted({*parts, value}))
        return cls([e for e in found.values() if e.label], base_uri)

    def get(self, id_or_uri: str) -> Entity | None:
        key = id_or_uri.removeprefix(self.base_uri + "id/")
        return self.by_key.get(key)

    def _allowed(self, entity: Entity, types: set[str] | None) -> bool:
        if not types:
            return True
        return any(types & ancestors(t) for t in entity.types)

    def score(self, query: str, types: set[str] | None = None) -> list[tuple[float, Entity, bool]]:
        """(score 0-100, entity, exact) for every plausible entity, best first."""
        wanted = normalize(query)
        if not wanted:
            return []
        scored = []
        for entity, norms in zip(self.entities, self._norms, strict=True):
            if not self._allowed(entity, types):
                continue
            best, exact = 0.0, False
            for norm, is_label in norms:
                if norm == wanted:
                    value, hit = (100.0 if is_label else 98.0), True
                else:
                    value, hit = _similarity(wanted, norm), False
                if value > best:
                    best, exact = value, hit
            if best >= MIN_SCORE:
                scored.append((round(best, 1), entity, exact))
        scored.sort(key=lambda s: (-s[0], s[1].label, s[1].key))
        return scored


def _similarity(query: str, name: str) -> float:
    """Fuzzy score, kept below MATCH_SCORE so that only exact hits are ever automatic."""
    chars = difflib.SequenceMatcher(None, query, name).ratio()
    q_tokens, n_tokens = set(query.split()), set(name.split())
    tokens = 2 * len(q_tokens & n_tokens) / (len(q_tokens) + len(n_tokens)) if q_tokens and n_tokens else 0.0
    score = 90.0 * max(chars, tokens)
    if q_tokens and q_tokens <= n_tokens:      # every word of the query is a word of the name
        score = max(score, 60.0 + 30.0 * len(q_tokens) / len(n_tokens))
    return min(score, 90.0)


def reconcile_one(index: EntityIndex, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidates for one query object ({"query", "type", "limit", ...}), as the API returns them."""
    text = query.get("query")
    if not isinstance(text, str):
        raise UsageError("each query needs a string 'query'")
    raw_type = query.get("type")
    type_list = [raw_type] if isinstance(raw_type, str) else list(raw_type or [])
    types = {resolve_type(str(t)) for t in type_list} or None
    limit = parse_limit(query.get("limit"), DEFAULT_LIMIT)
    scored = index.score(text, types)
    exact = [s for s in scored if s[2]]
    # a match only when one entity, and no other, carries the name exactly
    unique = len(exact) == 1 and exact[0] is scored[0] and scored[0][0] >= MATCH_SCORE
    return [{"id": e.key, "name": e.label, "type": e.type_refs(), "score": score,
             "match": unique and i == 0, "description": e.description}
            for i, (score, e, _hit) in enumerate(scored[:limit])]


def parse_limit(value: Any, default: int, what: str = "limit") -> int:
    """A positive whole number (JSON number or decimal string), lowered to MAX_LIMIT; UsageError
    (answered 400) for anything else: zero, negative, fractional, boolean, text."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise UsageError(f"'{what}' must be a positive whole number (got {value!r})")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 1:
        raise UsageError(f"'{what}' must be a positive whole number (got {value!r})")
    return min(value, MAX_LIMIT)


def reconcile_batch(index: EntityIndex, queries: dict[str, Any]) -> dict[str, Any]:
    """{"q0": {...}, ...} -> {"q0": {"result": [...]}, ...}"""
    if not isinstance(queries, dict):
        raise UsageError("'queries' must be a JSON object of query objects")
    if len(queries) > BATCH_SIZE:
        raise UsageError(f"at most {BATCH_SIZE} queries per request (the manifest's batchSize); got {len(queries)}")
    out = {}
    for qid, query in queries.items():
        if not isinstance(query, dict):
            raise UsageError(f"query {qid!r} must be an object")
        out[qid] = {"result": reconcile_one(index, query)}
    return out


def manifest(settings: Settings, service_url: str, view_url: str) -> dict[str, Any]:
    """The service manifest; service_url is where /reconcile answers, view_url has {{id}}."""
    return {
        "versions": ["0.1", "0.2"],
        "name": SERVICE_NAME,
        "identifierSpace": settings.base_uri + "id/",
        "schemaSpace": SCHEMA,
        "defaultTypes": [{"id": SCHEMA + t, "name": TYPES[SCHEMA + t][0]} for t in DEFAULT_TYPES],
        "view": {"url": view_url},
        "preview": {"url": service_url + "/preview?id={{id}}", "width": 430, "height": 160},
        "suggest": {
            "entity": {"service_url": service_url, "service_path": "/suggest/entity",
                       "flyout_service_url": service_url, "flyout_service_path": "/flyout/entity?id=${id}"},
            "type": {"service_url": service_url, "service_path": "/suggest/type"},
            "property": {"service_url": service_url, "service_path": "/suggest/property"},
        },
        "extend": {"propose_properties": {"service_url": service_url, "service_path": "/extend/propose"},
                   "property_settings": []},
        "batchSize": BATCH_SIZE,
    }


def suggest_entities(index: EntityIndex, prefix: str, type_id: str | None = None,
                     start: int = 0, limit: int = 10) -> dict[str, Any]:
    """Autocomplete: names that start with (a word starting with) the prefix first, then fuzzy ones."""
    wanted = normalize(prefix)
    types = {resolve_type(type_id)} if type_id else None
    ranked: list[tuple[int, float, Entity]] = []
    for score, entity, _exact in index.score(prefix, types) if wanted else []:
        names = [normalize(n) for n, _ in entity.names()]
        rank = 0 if any(n.startswith(wanted) for n in names) else \
            1 if any(w.startswith(wanted) for n in names for w in n.split()) else 2
        ranked.append((rank, -score, entity))
    if wanted:
        seen = {e.key for _r, _s, e in ranked}
        for entity in index.entities:   # prefixes too short for fuzzy scoring still complete
            if entity.key not in seen and index._allowed(entity, types) and \
                    any(normalize(n).startswith(wanted) for n, _ in entity.names()):
                ranked.append((0, -50.0, entity))
    ranked.sort(key=lambda r: (r[0], r[1], r[2].label))
    return {"result": [{"id": e.key, "name": e.label, "description": e.description,
                        "notable": e.type_refs()} for _r, _s, e in ranked[start:start + limit]]}


def suggest_types(prefix: str, limit: int = 10) -> dict[str, Any]:
    wanted = normalize(prefix)
    result = [{"id": uri, "name": label, "description": f"schema.org {uri[len(SCHEMA):]}"}
              for uri, (label, _p) in TYPES.items()
              if not wanted or any(w.startswith(wanted) for w in normalize(label + " " + uri[len(SCHEMA):]).split())]
    return {"result": result[:limit]}


def preview_html(entity: Entity, view_url: str) -> str:
    """A small self-contained card for OpenRefine's preview pane (every value escaped)."""
    esc = html.escape
    types = ", ".join(t["name"] for t in entity.type_refs())
    aliases = f"<p><small>Also: {esc('; '.join(entity.aliases))}</small></p>" if entity.aliases else ""
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{esc(entity.label)}</title></head><body style=\"font:14px sans-serif;margin:6px\">"
            f"<p><a href=\"{esc(view_url)}\" target=\"_blank\"><strong>{esc(entity.label)}</strong></a>"
            f" <small>({esc(types)})</small></p><p>{esc(entity.description)}</p>{aliases}"
            f"<p><small><code>{esc(entity.uri)}</code></small></p></body></html>")


def flyout(entity: Entity) -> dict[str, str]:
    esc = html.escape
    return {"id": entity.key, "html": f"<div><strong>{esc(entity.label)}</strong><br>"
                                      f"<small>{esc(entity.description)}</small></div>"}


def load_index(settings: Settings, release: Path) -> EntityIndex:
    """The index of a built release (api.py builds it first), for offline use."""
    from .store import open_read_only, run_query
    store = open_read_only(release)
    return EntityIndex.from_srj(run_query(store, entity_query(settings)).body, settings.base_uri)


@dataclass(frozen=True)
class CsvResult:
    rows: int
    matched: int
    body: str


def reconcile_csv(settings: Settings, release: Path, path: Path, column: str | None = None,
                  type_id: str | None = None) -> CsvResult:
    """`tieslod reconcile names.csv`: add tieslod_uri (only for unambiguous matches) and review columns."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path} as UTF-8 CSV: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    fields = list(reader.fieldnames or [])
    if not fields:
        raise UsageError(f"{path} has no header row")
    name_col = column or fields[0]
    if name_col not in fields:
        raise UsageError(f"no column {name_col!r} in {path}; columns: {', '.join(fields)}")
    index = load_index(settings, release)
    out = io.StringIO()
    extra = ["tieslod_uri", "tieslod_label", "tieslod_score", "tieslod_candidates"]
    writer = csv.DictWriter(out, fieldnames=fields + extra, lineterminator="\n")
    writer.writeheader()
    rows = matched = 0
    for row in reader:
        rows += 1
        found = reconcile_one(index, {"query": row.get(name_col) or "", "type": type_id, "limit": 3})
        best = found[0] if found and found[0]["match"] else None
        matched += best is not None
        row.update({"tieslod_uri": index.base_uri + "id/" + best["id"] if best else "",
                    "tieslod_label": best["name"] if best else "",
                    "tieslod_score": str(found[0]["score"]) if found else "",
                    "tieslod_candidates": "" if best else "; ".join(
                        f"{c['name']} <{index.base_uri}id/{c['id']}> ({c['score']})" for c in found)})
        writer.writerow(row)
    return CsvResult(rows, matched, out.getvalue())
