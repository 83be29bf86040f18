"""Tools for curators adding an article: register its text, write the claims file, find exact quotes.

`add-source` never overwrites anything; `quote` reads only. Both work on data/ directly, without a
build, so that a curator can run them while the claims file is still half written."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import InputError, UsageError
from ..model.graph import anchor
from ..model.sources import parse_turtle, read_text
from ..querying.reconcile import Entity, EntityIndex, reconcile_one
from ..vocab import ALT_LABEL, AUTHORING_PREFIXES, LABEL, SCHEMA, TYPE, value_of

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESERVED = {"entities", "ontology", "lifecycle"}
NEWS = SCHEMA + "NewsMediaOrganization"


def slugify(text: str) -> str:
    """A key as the authoring format wants it: lower case, a-z0-9 and single hyphens."""
    from ..querying.reconcile import normalize
    return re.sub(r"\s+", "-", normalize(text).replace("_", " ")).strip("-")


def turtle_string(value: str) -> str:
    """A Turtle string literal; curly quotes and dashes stay as they are (they are the evidence)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


@dataclass(frozen=True)
class NewSource:
    key: str
    text_path: Path
    claims_path: Path
    entities_path: Path            # new people and organisations go here (and a new publisher)
    publisher: str | None          # entity key


def _entity_index(settings: Settings) -> EntityIndex:
    """Entities as written in data/entities (no build needed)."""
    found: dict[str, Entity] = {}
    prefix = settings.base_uri + "id/"
    for path in sorted((settings.data_dir / "entities").glob("*.ttl")):
        for q in parse_turtle(path, settings.base_uri).quads:
            uri = value_of(q.subject)
            if not uri.startswith(prefix):
                continue
            entity = found.setdefault(uri, Entity(uri, uri[len(prefix):]))
            if q.predicate == LABEL:
                entity.label = value_of(q.object)
            elif q.predicate == ALT_LABEL:
                entity.aliases.append(value_of(q.object))
            elif q.predicate == TYPE:
                entity.types.append(value_of(q.object))
    return EntityIndex([e for e in found.values() if e.label], settings.base_uri)


def _publisher(settings: Settings, name: str, key: str) -> tuple[str, str | None]:
    """(entity key, Turtle for a new entity or None) for --publisher, by key, name or alias."""
    index = _entity_index(settings)
    entity = index.get(name)
    if entity is None:
        found = reconcile_one(index, {"query": name, "limit": 1})   # any type: never duplicate a name
        entity = index.get(found[0]["id"]) if found and found[0]["match"] else None
    if entity is not None:
        if NEWS not in entity.types:
            raise UsageError(f"{entity.label!r} ({entity.key}) is not a news organisation (schema:NewsMediaOrganization)")
        return entity.key, None
    pub_key = slugify(name)
    if index.get(pub_key) is not None:
        raise UsageError(f"an entity {pub_key!r} exists but is not a news organisation; pass its exact name")
    return pub_key, f"e:{pub_key} a schema:NewsMediaOrganization ;\n    rdfs:label {turtle_string(name)} .\n"


def entities_template(key: str, publisher_block: str | None) -> str:
    """data/entities/new-<key>.ttl: where the people and organisations new with this article go."""
    return (f"# Entities first named by data/sources/{key}.txt (to be merged into entities.ttl).\n"
            "# One block per person, organisation, event or place that is not in data/entities/ yet;\n"
            "# keys are lower-case with hyphens, aliases only as printed in a source.\n"
            "#\n# e:first-last a schema:Person ;            # or schema:Organization, schema:Event, schema:Place\n"
            "#     rdfs:label \"First Last\" ;\n#     skos:altLabel \"Another spelling\" .\n"
            "# No schema:description: what an article calls them is a claim with tl:descriptor.\n"
            + AUTHORING_PREFIXES + ("\n" + publisher_block if publisher_block else ""))


def claims_template(key: str, title: str, publisher: str | None) -> str:
    pub = f"    schema:publisher e:{publisher} ;\n" if publisher else ""
    return f"""# Claims taken from data/sources/{key}.txt. Fill in the ties and claims below
# (docs/authoring.md has the full format). Find exact quotes with:
#     tieslod quote {key} "a few words from the article"
{AUTHORING_PREFIXES}
# ---------------------------------------------------------------- the source

s:{key} a tl:Source, schema:NewsArticle ;
    tl:sourceFile "{key}.txt" ;
    schema:headline {turtle_string(title)} ;
{pub}    rdfs:label {turtle_string(title)} .

# ---------------------------------------------------------------- ties
# One block per reported relation: its category, subject and object, nothing else. Categories:
# tl:Funding tl:Meeting tl:Leadership tl:Membership tl:Professional tl:Personal tl:Founding
# tl:Attendance tl:Organizing tl:Hosting tl:Travel tl:Collaboration tl:Operation tl:Targeting
# tl:Support tl:Display tl:Sanction tl:MediaCoverage tl:Association
#
# t:SUBJECT-met-OBJECT a tl:Meeting ;
#     tl:subject e:SUBJECT-KEY ;
#     tl:object e:OBJECT-KEY .

# ---------------------------------------------------------------- claims (in article order)
# One block per source stance on a tie; number them {key}-01, {key}-02, ...
#
# c:{key}-01 a tl:Claim ;
#     tl:tie t:SUBJECT-met-OBJECT ;
#     tl:stance tl:Asserts ;        # tl:Asserts | tl:Denies | tl:DeclinesToComment | tl:NoResponse
#     tl:speaker s:{key} ;          # whose word: e:PERSON-KEY, or s:{key} when the article says it itself
#     tl:relationText "the words of the relation, as printed" ;   # qualifiers: only as printed in this
#     tl:when "earlier this month" ;                              # claim's own sentence (checked)
#     tl:summary "One neutral sentence saying what the claim says." ;
#     tl:quote "the exact words, as printed by tieslod quote" .
"""


def add_source(settings: Settings, file: Path, title: str, publisher: str | None = None,
               key: str | None = None) -> NewSource:
    """`tieslod add-source`: copy the text into data/sources/ and write the claims file to fill in."""
    if not file.is_file():
        raise UsageError(f"no such file: {file}")
    if not title.strip():
        raise UsageError("--title must not be empty")
    key = key or slugify(file.stem)
    if not KEY_RE.match(key) or key in RESERVED:
        raise UsageError(f"{key!r} cannot be a source key: use lower-case a-z, 0-9 and hyphens (--key)")
    data = settings.data_dir
    text_path, claims_path = data / "sources" / f"{key}.txt", data / "articles" / f"{key}.ttl"
    for path in (text_path, claims_path):
        if path.exists():
            raise UsageError(f"{path} exists already; choose another --key")
    read_text(file)                          # must be UTF-8; the bytes are copied exactly as received
    pub_key, new_entity = _publisher(settings, publisher, key) if publisher else (None, None)
    entities_path = data / "entities" / f"new-{key}.ttl"
    if entities_path.exists():
        raise UsageError(f"{entities_path} exists already; choose another --key")
    text_path.parent.mkdir(parents=True, exist_ok=True)
    claims_path.parent.mkdir(parents=True, exist_ok=True)
    text_path.write_bytes(file.read_bytes())
    claims_path.write_text(claims_template(key, title.strip(), pub_key), encoding="utf-8")
    entities_path.write_text(entities_template(key, new_entity), encoding="utf-8")
    return NewSource(key, text_path, claims_path, entities_path, pub_key)


# ------------------------------------------------------------------------- quote

_FOLD = {**{c: "'" for c in "‘’‚‛′`"}, **{c: '"' for c in "“”„‟″«»"}, **{c: "-" for c in "‐‑‒–—―−"}, "…": "..."}


def _fold(text: str, case: bool) -> tuple[str, list[int]]:
    """Text with quotes, dashes and runs of white space made plain, and each character's original index."""
    out: list[str] = []
    where: list[int] = []
    previous_space = False
    for i, ch in enumerate(text):
        rep = " " if ch.isspace() else _FOLD.get(ch, ch)
        if rep == " " and previous_space:
            continue
        previous_space = rep == " "
        for c in (rep.lower() if case else rep):
            out.append(c)
            where.append(i)
    return "".join(out), where


@dataclass(frozen=True)
class QuoteMatch:
    found: bool
    exact: str = ""          # the verbatim span of the source, when found exactly once
    start: int = 0           # code points, as the build's TextPositionSelector counts them
    end: int = 0
    line: int = 0
    count: int = 0           # occurrences of the (folded) text
    lines: tuple[int, ...] = ()
    near: str = ""           # nearest span, when not found
    similarity: float = 0.0

    def turtle(self) -> str:
        return f"tl:quote {turtle_string(self.exact)}"


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _occurrences(hay: str, needle: str) -> list[int]:
    found, at = [], hay.find(needle)
    while at >= 0:
        found.append(at)
        at = hay.find(needle, at + 1)
    return found


def find_quote(text: str, wanted: str) -> QuoteMatch:
    """Find `wanted` in `text` tolerating curly/straight quotes, dashes, white space, then case."""
    for case in (False, True):
        hay, where = _fold(text, case)
        needle = _fold(wanted.strip(), case)[0]
        if not needle:
            raise UsageError("give some words to look for")
        hits = _occurrences(hay, needle)
        if len(hits) == 1:
            start, end = where[hits[0]], where[hits[0] + len(needle) - 1] + 1
            anchor(text, text[start:end])      # the build's own check: found exactly once
            return QuoteMatch(True, text[start:end], start, end, _line(text, start), 1)
        if hits:
            lines = tuple(_line(text, where[h]) for h in hits)
            return QuoteMatch(False, count=len(hits), lines=lines)
    return _nearest(text, wanted)


def _nearest(text: str, wanted: str) -> QuoteMatch:
    """The most similar window of the text, starting at a word: what the curator probably meant."""
    hay, where = _fold(text, True)
    needle = _fold(wanted.strip(), True)[0]
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(needle)                 # the needle is indexed once, each window compared to it
    best, best_at = 0.0, 0
    for at in [0] + [i + 1 for i, c in enumerate(hay) if c == " "]:
        matcher.set_seq1(hay[at:at + len(needle)])
        if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
            ratio = matcher.ratio()
            if ratio > best:
                best, best_at = ratio, at
    if best < 0.5:
        return QuoteMatch(False)
    start, last = where[best_at], where[min(best_at + len(needle), len(where)) - 1]
    while last + 1 < len(text) and text[last + 1].isalnum():      # show whole words
        last += 1
    return QuoteMatch(False, near=text[start:last + 1], line=_line(text, start), similarity=round(best, 2))


def source_text(settings: Settings, source: str) -> tuple[Path, str]:
    """A source by key (data/sources/<key>.txt) or by path."""
    path = settings.data_dir / "sources" / f"{source}.txt"
    if not path.is_file():
        path = Path(source)
    if not path.is_file():
        raise UsageError(f"no source {source!r}: give a key from data/sources/ or a file")
    try:
        return path, read_text(path)
    except InputError as exc:
        raise UsageError(str(exc)) from exc


def quote(settings: Settings, source: str, wanted: str) -> tuple[Path, QuoteMatch]:
    """`tieslod quote SOURCE "text"`."""
    path, text = source_text(settings, source)
    return path, find_quote(text, wanted)
