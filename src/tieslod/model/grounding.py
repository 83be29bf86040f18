"""Every as-printed qualifier of a claim must be printed in that claim's own evidence sentence(s), and
entity descriptions are made of nothing but those printed descriptors (docs/authoring.md, "Grounding").

One code path for `tieslod build` and `tieslod validate`: graph.enrich_article calls `check` and
`descriptions` on every article before anything else is derived from it."""
from __future__ import annotations

import contextlib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import GroundingError, InputError
from ..vocab import SCHEMA, TL, Subject, Term, n, value_of
from .sources import Article, line_of

# the as-printed qualifiers, in the order docs/authoring.md lists them
QUALIFIERS = ("relationText", "when", "role", "item", "purpose", "statedWhen", "speakerText", "hedge",
              "descriptor")
_QUALIFIER_IRIS = {TL + name: name for name in QUALIFIERS}
MAX_LISTED = 20          # ungrounded qualifiers named in one error (the count says how many in all)
QUOTE, ABOUT, DESCRIPTOR, DESCRIPTION = TL + "quote", TL + "about", TL + "descriptor", SCHEMA + "description"

_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                         "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'"})
_SPACE = re.compile(r"\s+")          # \s covers NBSP (U+00A0) and the narrow NBSP (U+202F) in Python
# a sentence ends at . ? or !, optionally followed by one closing quote or bracket, then whitespace
# (or the end of the text); or at a line break
_SENTENCE_END = re.compile(r"[.?!][\"'\u201d\u2019)\]]?(?=\s|$)|\n")


def normalise(text: str) -> str:
    """Curly quotes to straight, NBSP and every run of whitespace to one space, case folded."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip().casefold()


@dataclass(frozen=True)
class Sentences:
    """A source text and where its sentences end, for evidence windows."""

    text: str
    ends: tuple[int, ...]        # offsets just after each sentence end (its mark, or the line break)

    @classmethod
    def of(cls, text: str) -> Sentences:
        return cls(text, tuple(m.end() for m in _SENTENCE_END.finditer(text)))

    def window(self, start: int, end: int) -> tuple[int, int]:
        """The quote's span [start, end) widened to the previous and the next sentence end."""
        i = bisect_right(self.ends, start) - 1
        j = bisect_left(self.ends, end)
        return (self.ends[i] if i >= 0 else 0), (self.ends[j] if j < len(self.ends) else len(self.text))

    def evidence(self, quote: str) -> str | None:
        """The evidence sentence(s) of a quote, or None if it does not occur (graph.anchor reports that)."""
        start = self.text.find(quote)
        if not quote or start < 0:
            return None
        a, b = self.window(start, start + len(quote))
        return self.text[a:b]


def _by_subject(quads: tuple[ox.Quad, ...] | list[ox.Quad]) -> dict[Term, dict[str, list[Term]]]:
    found: dict[Term, dict[str, list[Term]]] = {}
    for q in quads:
        found.setdefault(q.subject, {}).setdefault(q.predicate.value, []).append(q.object)
    return found


def _line(path: Path, node: Term, value: str) -> int | None:
    """The line, in any block describing the node, that holds the value as written (else the node's
    first line): a node may be described in several blocks of one file."""
    local = node.value.rsplit("/", 1)[-1] if isinstance(node, ox.NamedNode) else ""
    first = line_of(path, local) if local else None
    if first is None:
        return None
    starts = re.compile(r"^\s*(\S*[:/])?" + re.escape(local) + r"[\s>]")
    needles = [n for n in (value[:40], value[:40].replace("\\", "\\\\").replace('"', '\\"')) if n]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return first
    inside = False
    for number, line in enumerate(lines, 1):
        if line and not line[0].isspace():       # a new block (or a comment, prefix): is it this node's?
            inside = bool(starts.match(line))
        if inside and any(needle in line for needle in needles):
            return number
    return first


def check(article: Article, sentences: Sentences | None = None) -> None:
    """Raise GroundingError for the first as-printed qualifier (in file order) that is not inside
    the evidence sentence(s) of one of its own claim's quotes in this article's own source."""
    sentences = sentences or Sentences.of(article.text)
    path = article.ttl.path
    problems = []
    for node, props in _by_subject(article.ttl.quads).items():
        if not props.get(QUOTE):
            continue        # not a claim (a tie, say): the shapes say where qualifiers belong
        windows = [normalise(w) for q in props[QUOTE] if (w := sentences.evidence(value_of(q))) is not None]
        for pred, name in _QUALIFIER_IRIS.items():
            for value in props.get(pred, []):
                if not isinstance(value, ox.Literal) or not any(normalise(value.value) in w for w in windows):
                    problems.append((node, name, value, windows))
    if problems:
        found = sorted(((_line(path, node, value_of(value)) or 0, value_of(node), name, value_of(value), w)
                        for node, name, value, w in problems), key=lambda t: t[:3])
        line, claim, qualifier, text, in_windows = found[0]
        where = f"evidence sentence(s) {in_windows[0]!r}" if in_windows else "any evidence sentence"
        others = "".join(f"\n  also {path}:{n}: claim {c}: tl:{q} {v!r}" for n, c, q, v, _ in found[1:MAX_LISTED])
        raise GroundingError(f"claim {claim}: tl:{qualifier} {text!r} is not printed in its own {where} "
                             f"of {article.text_path.name} ({len(problems)} ungrounded qualifier(s) in this file)"
                             + others, path, line or None)


def descriptions(article: Article, graph: ox.NamedNode) -> list[ox.Quad]:
    """One schema:description per entity this article describes: its descriptors as printed, in the
    order of their quotes in the text, joined by "; ". A descriptor claim is about exactly one entity."""
    found: dict[Subject, list[tuple[int, str]]] = {}
    for node, props in _by_subject(article.ttl.quads).items():
        descriptors = props.get(DESCRIPTOR, [])
        if not descriptors:
            continue
        about = props.get(ABOUT, [])
        entity = about[0] if len(about) == 1 else None
        if entity is None or isinstance(entity, ox.Literal):   # a literal is no entity (and no quad subject)
            raise InputError(f"claim {value_of(node)} has a tl:descriptor, so it must be about exactly one entity "
                             f"(tl:about), not {'a literal' if entity else len(about)}", article.ttl.path,
                             _line(article.ttl.path, node, "tl:descriptor"))
        position = min((article.text.find(value_of(q)) for q in props.get(QUOTE, [])), default=-1)
        found.setdefault(entity, []).extend((position, value_of(d)) for d in descriptors)
    out = []
    for entity, items in found.items():
        texts = list(dict.fromkeys(text for _, text in sorted(items)))
        out.append(ox.Quad(entity, n(SCHEMA, "description"), ox.Literal("; ".join(texts)), graph))
    return out


def refuse_written_descriptions(path: Path, quads: tuple[ox.Quad, ...] | list[ox.Quad]) -> None:
    """schema:description is derived, never written by hand (a hand-written one is outside knowledge
    the grounding rule cannot check)."""
    for q in quads:
        if q.predicate.value == DESCRIPTION:
            line = None
            with contextlib.suppress(OSError):
                line = next((i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                             if "schema:description" in text or DESCRIPTION in text), None)
            raise InputError(f"{value_of(q.subject)} has a hand-written schema:description; descriptions are derived "
                             "from tl:descriptor claims only (docs/authoring.md)", path, line)
