"""A source's text cut into segments at every evidence boundary, so overlapping spans (a review's
quote inside a claim's quote) are all highlighted. Offsets are the build's oa:start / oa:end, in
code points like Python's str indices; a span whose text no longer matches oa:exact is skipped."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from ..querying.resource import Description
from ..vocab import OA, PROV, RDF, SCHEMA, TL, value_of
from .views import local_key


@dataclass(frozen=True)
class Span:
    anchor: str        # the element id: claim-<key> or review-<key>[-n]
    start: int
    end: int
    target: str        # the claim or review IRI
    label: str
    kind: str          # "claim" or "review"


@dataclass
class Segment:
    text: str
    spans: list[Span] = field(default_factory=list)     # covering spans, innermost first
    anchors: list[Span] = field(default_factory=list)   # spans that start here

    @property
    def main(self) -> Span | None:
        return self.spans[0] if self.spans else None


def _positions(desc: Description, evidence: str) -> tuple[int, int, str] | None:
    for sel in desc.all(evidence, OA + "hasSelector"):
        node = value_of(sel)
        types = [value_of(t) for t in desc.all(node, RDF + "type")]
        if OA + "TextPositionSelector" in types:
            start, end = desc.one(node, OA + "start"), desc.one(node, OA + "end")
            if start is not None and end is not None:
                exact = next((desc.text(value_of(s), OA + "exact") for s in desc.all(evidence, OA + "hasSelector")
                              if desc.text(value_of(s), OA + "exact")), "")
                return int(value_of(start)), int(value_of(end)), exact
    return None


def spans(desc: Description, source: str, text: str) -> list[Span]:
    out = []
    for node in desc.subjects(PROV + "wasDerivedFrom", source):
        kind = "review" if SCHEMA + "ClaimReview" in desc.types(node) else "claim"
        for n, ev in enumerate(sorted(value_of(e) for e in desc.all(node, TL + "evidence")), 1):
            found = _positions(desc, ev)
            if found is None:
                continue
            start, end, exact = found
            if not (0 <= start < end <= len(text)) or (exact and text[start:end] != exact):
                continue   # stale offsets: better no highlight than a wrong one
            anchor = f"{kind}-{local_key(node)}" + (f"-{n}" if n > 1 else "")
            out.append(Span(anchor, start, end, node, desc.label(node), kind))
    return sorted(out, key=lambda s: (s.start, -s.end, s.anchor))


def segments(text: str, found: list[Span]) -> list[Segment]:
    cuts = sorted({0, len(text), *(s.start for s in found), *(s.end for s in found)})
    out = []
    for a, b in pairwise(cuts):
        covering = sorted((s for s in found if s.start <= a and b <= s.end), key=lambda s: (s.end - s.start))
        out.append(Segment(text[a:b], covering, [s for s in found if s.start == a]))
    return out
