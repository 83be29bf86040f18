"""Data extension and property suggest of the Reconciliation API (0.2), for OpenRefine users: once a
column is reconciled to our entities, "Add columns from reconciled values" fetches their type,
aliases, description and reported ties by category.

A tie value is an entity at the other end of a tie *that some source asserts*: a tie that was only
denied or left unanswered is no evidence of a connection (as in paths.py), and would put words in
no one's mouth. Who said so, and the quote, are on the entity's page (the `view` URL). Ties have a
direction, so each category is two properties: the entity as the tie's subject (→) or its object (←)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .connections import TieInfo
from .reconcile import TYPES, EntityIndex

MAX_IDS = 500         # entity ids in one extension request (OpenRefine sends ten or so at a time)
TIE_PREFIX = "ties:"


@dataclass(frozen=True)
class Property:
    id: str
    name: str
    description: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "description": self.description}


BASIC = (
    Property("type", "type", "the schema.org classes of the entity"),
    Property("aliases", "aliases", "other names the articles print for it"),
    Property("description", "description", "a one-line description of the entity"),
)


def _slug(category: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", category.casefold()).strip("-") or "tie"


def properties(ties: dict[str, TieInfo]) -> list[Property]:
    """Every property we can fill: the basic ones, then two per category of asserted tie."""
    categories = sorted({t.category for t in ties.values() if t.asserted})
    out = list(BASIC)
    for category in categories:
        slug = _slug(category)
        out.append(Property(f"{TIE_PREFIX}{slug}:out", f"{category} →",
                            f"entities this one has a reported {category} tie to (it is the subject), asserted by a source"))
        out.append(Property(f"{TIE_PREFIX}{slug}:in", f"{category} ←",
                            f"entities with a reported {category} tie to this one (it is the object), asserted by a source"))
    return out


def propose(ties: dict[str, TieInfo], type_id: str | None, limit: int) -> dict[str, Any]:
    """GET extend/propose: the properties for a type (ours are the same for every type)."""
    answer: dict[str, Any] = {"properties": [p.as_json() for p in properties(ties)[:limit]], "limit": limit}
    if type_id:
        answer["type"] = type_id
    return answer


def suggest(ties: dict[str, TieInfo], prefix: str, limit: int) -> dict[str, Any]:
    """GET suggest/property: properties whose name or id has a word starting with the prefix."""
    wanted = prefix.strip().casefold()
    found = [p for p in properties(ties)
             if not wanted or any(w.startswith(wanted) for w in re.split(r"[^\w]+", f"{p.name} {p.id}".casefold()))]
    return {"result": [p.as_json() for p in found[:limit]]}


def parse_query(raw: Any) -> tuple[list[str], list[str]]:
    """(ids, property ids) of an `extend` query, or UsageError saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise UsageError("'extend' must be a JSON object with 'ids' and 'properties'")
    ids, props = raw.get("ids"), raw.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise UsageError("'extend.ids' must be a list of entity ids (strings)")
    if len(ids) > MAX_IDS:
        raise UsageError(f"at most {MAX_IDS} ids per extension request (got {len(ids)})")
    if not isinstance(props, list) or not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in props):
        raise UsageError("'extend.properties' must be a list of objects with a string 'id'")
    return ids, [p["id"] for p in props]


def _tie_values(index: EntityIndex, ties: dict[str, TieInfo], uri: str, slug: str, out: bool) -> list[dict[str, str]]:
    values: list[dict[str, str]] = []
    seen: set[str] = set()
    for tie in ties.values():
        if not tie.asserted or _slug(tie.category) != slug or (tie.subject if out else tie.object) != uri:
            continue
        other = tie.object if out else tie.subject
        if other in seen:
            continue
        seen.add(other)
        entity = index.get(other)
        values.append({"id": entity.key, "name": entity.label} if entity else {"str": other})
    return sorted(values, key=lambda v: v.get("name", v.get("str", "")).casefold())


def extend(index: EntityIndex, ties: dict[str, TieInfo], raw: Any, service_url: str) -> dict[str, Any]:
    """The data extension response: meta (one entry per property asked for) and a row per id."""
    ids, wanted = parse_query(raw)
    known = {p.id: p for p in properties(ties)}
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise UsageError(f"unknown property {unknown[0]!r}; the service proposes: " + ", ".join(known))
    meta = []
    for pid in wanted:
        item: dict[str, Any] = {"id": pid, "name": known[pid].name}
        if pid.startswith(TIE_PREFIX):   # values are our entities: OpenRefine can keep them reconciled
            item.update({"type": {"id": "http://schema.org/Thing", "name": "Thing"}, "service": service_url})
        meta.append(item)
    rows: dict[str, dict[str, list[dict[str, str]]]] = {}
    for key in ids:
        entity = index.get(key)
        row: dict[str, list[dict[str, str]]] = {}
        for pid in wanted:
            if entity is None:
                row[pid] = []
            elif pid == "type":
                row[pid] = [{"id": t, "name": TYPES.get(t, (t.rsplit("/", 1)[-1], None))[0]} for t in entity.types]
            elif pid == "aliases":
                row[pid] = [{"str": a} for a in entity.aliases]
            elif pid == "description":
                row[pid] = [{"str": entity.description}] if entity.description else []
            else:
                _, slug, way = pid.split(":")
                row[pid] = _tie_values(index, ties, entity.uri, slug, way == "out")
        rows[key] = row
    return {"meta": meta, "rows": rows}
