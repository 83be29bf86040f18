"""What the HTML templates show, computed from a Description: claims grouped by tie with stance,
modality, speaker, outlet, the claim's own qualifiers, quote and a link to the quote in its source
page, and the source's reviews; the source text cut into highlighted evidence spans. A tie shows only
its category, subject and object: every qualifier is shown under the claim (and so the source) that
states it. Templates get plain data; jinja2 escapes every string."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..querying.resource import Description
from ..vocab import DCT, OA, PROV, SCHEMA, SKOS, TL, TYPE, Term, value_of

Href = Callable[[str], str]

# an entity takes part in a tie as its subject or object, or as a party a claim's own sentence names
QUALIFIER_ROLES = (TL + "participant", TL + "onBehalfOf", TL + "event", SCHEMA + "location")
CLAIM_ROLES = {"speaker": "as speaker", "reportedBy": "as the outlet", "firstReportedIn": "as first outlet"}
CLAIM_DETAILS = (("as printed", TL + "relationText"), ("role", TL + "role"), ("when", TL + "when"),
                 ("year", TL + "year"), ("status", TL + "status"), ("purpose", TL + "purpose"),
                 ("item", TL + "item"), ("event", TL + "event"), ("place", SCHEMA + "location"),
                 ("on behalf of", TL + "onBehalfOf"), ("with", TL + "participant"))


@dataclass
class Link:
    href: str
    label: str


@dataclass
class ClaimView:
    iri: str
    href: str
    key: str
    stance: str
    stance_class: str
    speakers: list[Link]
    speaker_text: str
    outlet: list[Link]
    first_outlet: list[Link]
    stated_when: str
    summary: str
    quotes: list[str]
    source: Link | None
    quote_href: str          # the source page at this claim's highlighted quote
    reviews: list[dict[str, str]] = field(default_factory=list)
    details: list[tuple[str, list[Link | str]]] = field(default_factory=list)   # this claim's own qualifiers
    modality: str = ""       # "suspected", ...; empty when stated plainly
    hedge: str = ""          # the hedge word(s) as printed
    descriptors: list[str] = field(default_factory=list)


@dataclass
class TieView:
    iri: str
    href: str
    label: str
    category: str
    subject: Link | None
    obj: Link | None
    claims: list[ClaimView]


def local_key(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].split("#", 1)[0]


def link(desc: Description, href: Href, iri: str) -> Link:
    return Link(href(iri), desc.label(iri))


def _links(desc: Description, href: Href, node: str, pred: str) -> list[Link]:
    return [link(desc, href, o.value) for o in desc.all(node, pred) if isinstance(o, ox.NamedNode)]


def _value(desc: Description, href: Href, term: Term) -> Link | str:
    if isinstance(term, ox.NamedNode):
        return link(desc, href, term.value)
    return value_of(term)


def claim_view(desc: Description, href: Href, claim: str) -> ClaimView:
    stance = desc.one(claim, TL + "stance")
    source = desc.one(claim, PROV + "wasDerivedFrom")
    key = local_key(claim)
    reviews = []
    for review in desc.subjects(SCHEMA + "itemReviewed", claim):
        verdict = desc.one(review, TL + "verdict")
        reviews.append({"verdict": desc.label(value_of(verdict)) if verdict else "reviewed",
                        "quote": desc.text(review, TL + "quote"), "href": href(review),
                        "quote_href": (href(value_of(source)) + "#review-" + local_key(review)) if source else ""})
    return ClaimView(
        iri=claim, href=href(claim), key=key,
        stance=desc.label(value_of(stance)) if stance else "states",
        stance_class=local_key(value_of(stance)).split("#")[-1] if stance else "Statement",
        speakers=_links(desc, href, claim, TL + "speaker"), speaker_text=desc.text(claim, TL + "speakerText"),
        outlet=_links(desc, href, claim, TL + "reportedBy"),
        first_outlet=_links(desc, href, claim, TL + "firstReportedIn"),
        stated_when=desc.text(claim, TL + "statedWhen"), summary=desc.text(claim, TL + "summary"),
        quotes=[value_of(q) for q in desc.all(claim, TL + "quote")],
        source=link(desc, href, value_of(source)) if source else None,
        quote_href=(href(value_of(source)) + "#claim-" + key) if source else "",
        reviews=reviews, details=claim_details(desc, href, claim),
        modality=desc.label(value_of(modality)) if (modality := desc.one(claim, TL + "modality")) else "",
        hedge=desc.text(claim, TL + "hedge"),
        descriptors=[value_of(d) for d in desc.all(claim, TL + "descriptor")])


def _amount(desc: Description, node: str) -> str:
    found = desc.one(node, SCHEMA + "amount")
    if found is None:
        return ""
    value, currency = desc.text(value_of(found), SCHEMA + "value"), desc.text(value_of(found), SCHEMA + "currency")
    return f"{value} {currency}".strip()


def claim_details(desc: Description, href: Href, claim: str) -> list[tuple[str, list[Link | str]]]:
    """The claim's own qualifiers (amount, as printed, role, time, ...), in a fixed order."""
    details: list[tuple[str, list[Link | str]]] = []
    amount = _amount(desc, claim)
    if amount:
        details.append(("amount", [amount]))
    for name, pred in CLAIM_DETAILS:
        values = [_value(desc, href, v) for v in desc.all(claim, pred)]
        if values:
            details.append((name, values))
    return details


def tie_view(desc: Description, href: Href, tie: str, claims: list[str]) -> TieView:
    types = [t for t in desc.types(tie) if t.startswith(TL)]
    subj, obj = desc.one(tie, TL + "subject"), desc.one(tie, TL + "object")
    ordered = sorted(claims, key=lambda c: (desc.text(c, PROV + "wasDerivedFrom"), c))
    return TieView(tie, href(tie), desc.label(tie), desc.label(types[0]) if types else "tie",
                   link(desc, href, value_of(subj)) if subj else None, link(desc, href, value_of(obj)) if obj else None,
                   [claim_view(desc, href, c) for c in ordered])


def _is_claim(desc: Description, node: str) -> bool:
    return TL + "Claim" in desc.types(node)


def ties_of(desc: Description, node: str) -> list[str]:
    """Ties the node is the subject or object of, and the ties of claims naming it as a party."""
    found = set(desc.subjects(TL + "subject", node)) | set(desc.subjects(TL + "object", node))
    for pred in QUALIFIER_ROLES:
        for claim in desc.subjects(pred, node):
            tie = desc.one(claim, TL + "tie") if _is_claim(desc, claim) else None
            if tie is not None:
                found.add(value_of(tie))
    return sorted(t for t in found if not _is_claim(desc, t) and (desc.subjects(TL + "tie", t) or desc.types(t)))


def descriptions(desc: Description, href: Href) -> list[dict[str, object]]:
    """How the sources describe the entity: each descriptor as printed, with the article that prints
    it and a link to the quote ("described as … in <article>")."""
    out: list[tuple[str, str, dict[str, object]]] = []   # (source label, text, the item): the sort order
    for claim in desc.subjects(TL + "about", desc.iri):
        source = desc.one(claim, PROV + "wasDerivedFrom")
        origin = link(desc, href, value_of(source)) if source else None
        for descriptor in desc.all(claim, TL + "descriptor"):
            text = value_of(descriptor)
            out.append((origin.label if origin else "", text, {
                "text": text, "source": origin, "href": href(claim),
                "quote_href": (href(value_of(source)) + "#claim-" + local_key(claim)) if source else href(claim)}))
    return [item for *_, item in sorted(out, key=lambda row: (row[0], row[1]))]


def entity_groups(desc: Description, href: Href) -> list[TieView]:
    """Every tie the entity takes part in, each with all its claims (best-attested first)."""
    groups = [tie_view(desc, href, t, [c for c in desc.subjects(TL + "tie", t) if _is_claim(desc, c)])
              for t in ties_of(desc, desc.iri)]
    return sorted(groups, key=lambda g: (-len(g.claims), g.label))


def other_claims(desc: Description, href: Href) -> list[tuple[str, list[ClaimView]]]:
    """Statement claims about the entity, and claims on other ties it made or relayed."""
    out = [("Statements about it", [claim_view(desc, href, c) for c in desc.subjects(TL + "about", desc.iri)])]
    own_ties = set(ties_of(desc, desc.iri))
    for prop, title in CLAIM_ROLES.items():
        claims = [c for c in desc.subjects(TL + prop, desc.iri) if desc.text(c, TL + "tie") not in own_ties]
        out.append((f"Claims on other ties, {title}", [claim_view(desc, href, c) for c in claims]))
    return [(title, claims) for title, claims in out if claims]


def related(desc: Description, href: Href, base_id: str) -> list[Link]:
    """Every entity the description links to, except the resource itself and our claims/ties/sources."""
    nodes: set[str] = set()
    for t in desc.triples:
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(base_id) and "#" not in term.value:
                nodes.add(term.value)
    own = ("tie/", "claim/", "review/", "source/")
    keep = [n for n in nodes if n != desc.iri and not n[len(base_id):].startswith(own)]
    return sorted((link(desc, href, n) for n in keep), key=lambda lk: lk.label.lower())


def facts(desc: Description, href: Href, node: str) -> list[tuple[Link, list[Link | str]]]:
    """The node's own triples, for the generic part of every page."""
    rows = []
    for pred in sorted(desc.props.get(node, {})):
        if pred in (SCHEMA + "text",):
            continue
        values = [_value(desc, href, v) for v in desc.all(node, pred)]
        rows.append((Link(href(pred), pred.replace(SCHEMA, "schema:").replace(TL, "tl:")
                          .replace(DCT, "dct:").replace(SKOS, "skos:").replace(PROV, "prov:")
                          .replace(OA, "oa:").replace(TYPE.value, "rdf:type")), values))
    return rows


def aliases(desc: Description) -> list[str]:
    return sorted(value_of(v) for v in desc.all(desc.iri, SKOS + "altLabel"))


def type_names(desc: Description) -> list[str]:
    return [t.rsplit("/", 1)[-1].rsplit("#", 1)[-1] for t in desc.types(desc.iri)]
