"""The /path page: each chain of ties between two entities as a diagram (who, which tie, which way
it points, whether anyone asserts it) and, hop by hop, every claim with its quote, in the site's
layout (templates/path.html).

The diagram is an inline SVG drawn top to bottom, one entity per row, so that it reads the same on a
390 px phone and on a desktop: labels are never shrunk with the picture, they wrap. Every piece of
data text is escaped here; the template only places the markup."""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from ..querying.connections import Hop, PathAnswer, TieInfo, claim_notes

WIDTH = 360            # viewBox width: at 390 px the SVG is drawn at about its own size
ROW = 118              # vertical distance between two entities
BOX_H, WRAP = 46, 34   # entity box height; characters per label line
ARROW_X = 48           # ties run down the left; their labels to the right of them
Href = Callable[[str], str]


@dataclass(frozen=True)
class TieLine:
    text: str            # "Matthew Heimbach –membership→ Traditionalist Worker Party"
    category: str
    href: str
    forward: bool        # the tie points from this hop's start to its end
    asserted: bool
    claims: list[dict[str, object]]


@dataclass(frozen=True)
class HopView:
    start: dict[str, str]
    end: dict[str, str]
    ties: list[TieLine]


@dataclass(frozen=True)
class ChainView:
    number: int
    names: str
    svg: Markup
    hops: list[HopView]


def _claims(tie: TieInfo, href: Href) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for c in tie.claims:
        source = href(c.source) if c.source else ""
        out.append({"stance": c.stance, "asserts": "yes" if c.asserts else "",
                    "speaker": "the article itself" if c.speaker == c.source else c.speaker_label,
                    "speaker_href": "" if c.speaker == c.source else href(c.speaker),
                    "quote": " ".join(c.quote.split()), "source": c.source_label, "source_href": source,
                    "quote_href": f"{source}#claim-{c.claim.rsplit('/', 1)[-1]}" if source else "",
                    "claim_href": href(c.claim),
                    # the claim's own hedge, outlet, qualifiers and the source's review (issue 10)
                    "modality": c.modality, "hedge": c.hedge, "reported_by": c.reported_by,
                    "notes": claim_notes(c)})
    return out


def _tie_line(hop: Hop, tie: TieInfo, href: Href) -> TieLine:
    forward = tie.subject == hop.start
    first, second = (hop.start_label, hop.end_label) if forward else (hop.end_label, hop.start_label)
    return TieLine(f"{first} –{tie.category}→ {second}", tie.category, href(tie.tie), forward, tie.asserted,
                   _claims(tie, href))


def _box(x: float, y: float, label: str, link: str, end: bool) -> str:
    lines = textwrap.wrap(label, WRAP)[:2] or [label]
    if len(textwrap.wrap(label, WRAP)) > 2:
        lines[-1] = lines[-1][:WRAP - 1] + "…"
    text = "".join(f'<tspan x="{x:.0f}" dy="{0 if i == 0 else 17}">{escape(line)}</tspan>'
                   for i, line in enumerate(lines))
    first_y = y + 5 - (len(lines) - 1) * 8.5
    body = (f'<rect x="{x - 165:.0f}" y="{y - BOX_H / 2:.0f}" width="330" height="{BOX_H}" rx="8"/>'
            f'<text x="{x:.0f}" y="{first_y:.1f}">{text}</text>')
    cls = "entity end" if end else "entity"
    if link:
        return f'<a href="{escape(link)}" class="{cls}"><title>{escape(label)}</title>{body}</a>'
    return f'<g class="{cls}"><title>{escape(label)}</title>{body}</g>'


def _edge(number: int, y1: float, y2: float, line: TieLine, offset: int, count: int) -> str:
    """One tie between two rows: an arrow in the tie's direction, dashed when nobody asserts it."""
    x = ARROW_X + offset * 14
    top, bottom = y1 + BOX_H / 2 + 2, y2 - BOX_H / 2 - 2
    start, stop = (top, bottom) if line.forward else (bottom, top)
    cls = "tie" if line.asserted else "tie unasserted"
    return (f'<line class="{cls}" x1="{x:.0f}" y1="{start:.0f}" x2="{x:.0f}" y2="{stop:.0f}" '
            f'marker-end="url(#arrow-{number})"><title>{escape(line.text)}</title></line>')


def _edge_label(y1: float, y2: float, lines: list[TieLine]) -> str:
    words = [f"{t.category}{'' if t.asserted else ' (not asserted)'}" for t in lines]
    mid = (y1 + y2) / 2
    x = ARROW_X + 14 * len(lines) + 6
    spans = "".join(f'<tspan x="{x:.0f}" dy="{0 if i == 0 else 17}">{escape(w)}</tspan>' for i, w in enumerate(words))
    return f'<text class="tie-label" x="{x:.0f}" y="{mid + 5 - 8.5 * (len(words) - 1):.1f}">{spans}</text>'


def chain_svg(number: int, hops: list[HopView], start_label: str) -> str:
    """The diagram of one chain: entities top to bottom, ties as arrows between them."""
    labels = [start_label] + [h.end["label"] for h in hops]
    links = [hops[0].start["href"]] + [h.end["href"] for h in hops]
    height = 30 + ROW * len(hops) + BOX_H
    ys = [15 + BOX_H / 2 + ROW * i for i in range(len(labels))]
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chain" viewBox="0 0 {WIDTH} {height:.0f}" role="group" '
            f'aria-labelledby="chain-{number}-title"><title id="chain-{number}-title">Chain {number}: '
            f'{escape(" – ".join(labels))}</title>'
            f'<defs><marker id="arrow-{number}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="4" '
            f'markerHeight="4" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>')]
    for i, hop in enumerate(hops):
        for k, line in enumerate(hop.ties):
            out.append(_edge(number, ys[i], ys[i + 1], line, k, len(hop.ties)))
        out.append(_edge_label(ys[i], ys[i + 1], hop.ties))
    for i, (label, link) in enumerate(zip(labels, links, strict=True)):
        out.append(_box(WIDTH / 2, ys[i], label, link, i in (0, len(labels) - 1)))
    out.append("</svg>")
    return "".join(out)


def chains(answer: PathAnswer, href: Href) -> list[ChainView]:
    out = []
    for number, path in enumerate(answer.paths, 1):
        hops = [HopView({"label": h.start_label, "href": href(h.start)}, {"label": h.end_label, "href": href(h.end)},
                        [_tie_line(h, t, href) for t in h.ties]) for h in path]
        names = " → ".join([path[0].start_label] + [h.end_label for h in path])
        # Markup: chain_svg escapes every piece of data text itself
        out.append(ChainView(number, names, Markup(chain_svg(number, hops, path[0].start_label)), hops))
    return out
