"""A synthetic corpus in tieslod's own authoring format (docs/authoring.md), scaled by article count.

    python benchmarks/synth.py OUT_DIR --articles 2500 [--seed 1] [--defects 11]

Every article has a source text, ties of every category (category, subject and object only), claims
with every stance and their qualifiers as printed in their own sentence (so the grounding check holds),
hedged claims, a descriptor claim (statement claims and claims on ties defined by another article
too), a review, and quotes that occur exactly once in the generated text. `defects=N` plants N known SHACL violations (one violation each) and returns them,
so tests can check that each is reported. About 400 triples per article: 25 articles ~ 10k triples,
250 ~ 100k, 2500 ~ 1M.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tieslod.vocab import AUTHORING_PREFIXES

BASE = "https://w3id.org/tieslod/"
TRIPLES_PER_ARTICLE = 400
ENTITIES_PER_FILE = 1000

# category -> (verb as printed, subject kind, object kind)
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "Funding": ("gave a “grant” to", "org", "org"), "Meeting": ("met with", "person", "person"),
    "Leadership": ("leads", "person", "org"), "Membership": ("is a member of", "person", "org"),
    "Founding": ("co-founded", "person", "org"), "Attendance": ("attended", "person", "event"),
    "Organizing": ("organised", "org", "event"), "Hosting": ("hosted", "org", "person"),
    "Travel": ("travelled to", "person", "place"), "Collaboration": ("worked with", "org", "org"),
    "Operation": ("runs the page", "org", "page"), "Targeting": ("targeted", "org", "org"),
    "Support": ("publicly backed", "person", "org"), "Display": ("displayed the flag of", "org", "org"),
    "Sanction": ("placed sanctions on", "gov", "org"), "MediaCoverage": ("interviewed", "media", "person"),
    "Association": ("has “ties” to", "org", "org"),
}
STANCES = ("Asserts", "Denies", "DeclinesToComment", "NoResponse")
VERDICTS = ("Doubted", "LikelyExaggerated", "Unclear", "Unlikely")
STATUSES = ("Occurred", "Ongoing", "Planned", "FellThrough")
KINDS = {"person": "Person", "org": "Organization", "gov": "GovernmentOrganization", "media": "NewsMediaOrganization",
         "event": "Event", "place": "City", "page": "WebPage", "party": "PoliticalParty"}
DEFECTS = ("tie-missing-object", "bad-stance", "unknown-tie", "unknown-entity", "orphan-tie", "bad-year",
           "bad-currency", "bad-verdict", "bad-publisher", "conflicting-status", "entity-two-labels",
           "modality-without-hedge", "own-voice-reported-by", "shared-tie-qualifier", "own-voice-speaker-text")
# claim-level defects: planted on the first claim of the tie at this index of the article
CLAIM_DEFECTS = {"bad-year": 3, "bad-currency": 6, "modality-without-hedge": 5, "own-voice-reported-by": 0,
                 "own-voice-speaker-text": 2}
HEDGES = {"Claimed": "claimed", "Suspected": "have long suspected", "Alleged": "alleged"}
SYLLABLES = ("ka", "lo", "mir", "van", "te", "dor", "sa", "lin", "bre", "gov", "u", "nik", "zo", "ra", "pel", "ost")
WHENS = ("late 2014", "earlier this month", "last year", "in the spring", "two weeks ago", "in December")
FILLER = ("The meeting drew little notice at the time.", "Neither group has a large following.",
          "Officials did not explain the decision.", "The details could not be independently confirmed.",
          "Several people familiar with the matter spoke on condition of anonymity.")


@dataclass
class Entity:
    key: str
    kind: str
    label: str
    alias: str


@dataclass
class Tie:
    key: str
    category: str
    subj: Entity
    obj: Entity
    lines: list[str] = field(default_factory=list)


@dataclass
class Defect:
    kind: str
    article: str     # article key or entity file name
    focus: str       # the absolute IRI pyshacl reports as focus node


def _name(rng: random.Random, words: int) -> str:
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
                    for _ in range(words))


def _entities(rng: random.Random, count: int) -> dict[str, list[Entity]]:
    pool: dict[str, list[Entity]] = {k: [] for k in KINDS}
    kinds = list(KINDS)
    for i in range(count):
        kind = kinds[i % len(kinds)] if i < 2 * len(kinds) else rng.choice(("person", "person", "org", "org", *kinds))
        words = 2 if kind == "person" else 3
        label = f"{_name(rng, words)} {i}"
        pool[kind].append(Entity(f"syn-{kind}-{i}", kind, label, label.split()[0]))
    return pool


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _entity_files(pool: dict[str, list[Entity]], defect_keys: set[str]) -> dict[str, str]:
    every = sorted((e for es in pool.values() for e in es), key=lambda e: e.key)
    files = {}
    for start in range(0, len(every), ENTITIES_PER_FILE):
        lines = [AUTHORING_PREFIXES]
        for ent in every[start:start + ENTITIES_PER_FILE]:
            extra = f' ; rdfs:label "{_esc(ent.label)} (again)"' if ent.key in defect_keys else ""
            lines.append(f'e:{ent.key} a schema:{KINDS[ent.kind]} ;\n    rdfs:label "{_esc(ent.label)}"{extra} ; '
                         f'skos:altLabel "{_esc(ent.alias)}" .\n')
        files[f"synth-{start // ENTITIES_PER_FILE:04d}.ttl"] = "\n".join(lines)
    return files


class ArticleWriter:
    """Writes one article's Turtle and text; sentences are made unique so each quote occurs once."""

    def __init__(self, key: str, rng: random.Random) -> None:
        self.key, self.rng = key, rng
        self.ttl: list[str] = [AUTHORING_PREFIXES]
        self.sentences: list[str] = []
        self.claims = 0

    def sentence(self, text: str) -> str:
        while text in self.sentences or any(text in s or s in text for s in self.sentences):
            text = text[:-1] + f", report {len(self.sentences)}."
        self.sentences.append(text)
        if self.rng.random() < 0.3:
            self.sentences.append(self.rng.choice(FILLER))
        return text

    def claim(self, target: str, stance: str, speaker: str, summary: str, quote: str, extra: str = "") -> str:
        self.claims += 1
        key = f"{self.key}-{self.claims:02d}"
        self.ttl.append(f'c:{key} a tl:Claim ;\n    {target} ;\n    tl:stance tl:{stance} ;\n    tl:speaker {speaker} ;'
                        f'{extra}\n    tl:summary "{_esc(summary)}" ;\n    tl:quote "{_esc(quote)}" .\n')
        return key

    def text(self) -> str:
        return "\n\n".join(" ".join(self.sentences[i:i + 4]) for i in range(0, len(self.sentences), 4)) + "\n"


def _tie(rng: random.Random, pool: dict[str, list[Entity]], key: str, category: str, index: int) -> Tie:
    _verb, sk, ok = CATEGORIES[category]
    subj, obj = rng.choice(pool[sk]), rng.choice(pool[ok])
    tie = Tie(f"{key}-{category.lower()}-{index}", category, subj, obj)
    tie.lines = [f"tl:subject e:{subj.key}", f"tl:object e:{obj.key}"]
    return tie


def _write_tie(w: ArticleWriter, tie: Tie) -> None:
    body = " ;\n    ".join(tie.lines)
    w.ttl.append(f"t:{tie.key} a tl:{tie.category} ;\n    {body} .\n")


@dataclass
class Qualified:
    """One claim's qualifiers: Turtle lines, and the words its sentence must print (as printed)."""

    lines: list[str] = field(default_factory=list)
    tail: str = ""            # printed after the relation: role, purpose, item, time
    amount: bool = False


def _qualifiers(rng: random.Random, pool: dict[str, list[Entity]], tie: Tie) -> Qualified:
    category, out = tie.category, Qualified()
    verb = CATEGORIES[category][0]
    out.lines.append(f'tl:relationText "{_esc(verb)}"')
    if category == "Funding":
        out.amount = True
    if category in ("Attendance", "Travel", "Meeting") and rng.random() < 0.6:
        out.lines.append(f"tl:event e:{rng.choice(pool['event']).key}")
    if category in ("Meeting", "Attendance"):
        out.lines.append(f"schema:location e:{rng.choice(pool['place']).key}")
    if category in ("Membership", "Leadership"):
        role = rng.choice(("foreign minister", "chairman", "western European representative"))
        out.lines.append(f'tl:role "{role}"')
        out.tail += f" as its {role}"
    if rng.random() < 0.3:
        out.lines.append(f"tl:participant e:{rng.choice(pool['person']).key}")
    if rng.random() < 0.3:
        out.lines.append(f"tl:onBehalfOf e:{rng.choice(pool['org']).key}")
    if category in ("Support", "Funding") and rng.random() < 0.5:
        out.lines.append('tl:purpose "to pay for the conference"')
        out.tail += " to pay for the conference"
    if category == "Display":
        out.lines.append('tl:item "the movement’s flag"')
        out.tail += ", showing the movement’s flag"
    if rng.random() < 0.5:
        when = rng.choice(WHENS)
        out.lines.append(f'tl:when "{when}"')
        out.tail += f" {when}"
    if rng.random() < 0.3:
        year = rng.randint(2010, 2020)
        out.lines.append(f'tl:year "{year}"^^xsd:gYear')
        out.tail += f" in {year}"
    if rng.random() < 0.4:
        out.lines.append(f"tl:status tl:{rng.choice(STATUSES)}")
    return out


def _quote(w: ArticleWriter, tie: Tie, stance: str, who: str, hedge: str = "", tail: str = "",
           stated: str = "") -> str:
    verb = CATEGORIES[tie.category][0]
    lead = {"Asserts": f"{who} {hedge or 'said'} that", "Denies": f"{who} denied that",
            "DeclinesToComment": f"{who} declined to comment on whether",
            "NoResponse": f"{who} did not respond to questions on whether"}[stance]
    lead = f"{stated}, {lead}" if stated else lead
    return w.sentence(f"{lead} {tie.subj.label}\u00a0{verb} {tie.obj.label}{tail} — {w.rng.choice(WHENS)}.")


def _claim_extra(w: ArticleWriter, rng: random.Random, pool: dict[str, list[Entity]], tie: Tie, stance: str,
                 speaker: Entity | None, source: str, planted: str) -> tuple[str, str]:
    """The claim's Turtle lines beyond target, stance and speaker, and its quote (printing them)."""
    q = _qualifiers(rng, pool, tie)
    who, hedge, stated, lines = speaker.label if speaker else "The newspaper", "", "", list(q.lines)
    if speaker is not None and rng.random() < 0.5:
        lines.append(f"tl:reportedBy e:{rng.choice(pool['media']).key}")
    if planted == "own-voice-reported-by":
        lines.append(f"tl:reportedBy e:{rng.choice(pool['media']).key}")
    if planted == "own-voice-speaker-text":     # an unnamed speaker given as the article's own voice
        who = "officials of the movement"
        lines.append(f'tl:speakerText "{who}"')
    if speaker is not None and speaker.kind == "org" and rng.random() < 0.5:
        who = f"officials of {speaker.label}"
        lines.append(f'tl:speakerText "{_esc(who)}"')
    if rng.random() < 0.2:
        stated = f"In an interview {rng.choice(WHENS)}"
        lines.append(f'tl:statedWhen "{stated}"')
    if stance == "Asserts" and (rng.random() < 0.3 or planted == "modality-without-hedge"):
        modality = rng.choice(sorted(HEDGES))
        hedge = HEDGES[modality]
        lines.append(f"tl:modality tl:{modality}")
        if planted != "modality-without-hedge":
            lines.append(f'tl:hedge "{hedge}"')
    if planted == "bad-year":
        lines = [x for x in lines if not x.startswith("tl:year")] + ['tl:year "20x6"']
    if planted == "conflicting-status":
        lines = [x for x in lines if not x.startswith("tl:status")] + ["tl:status tl:FellThrough, tl:Ongoing"]
    if q.amount:
        lines.append(f"schema:amount <id/claim/{w.key}-{w.claims + 1:02d}#amount>")
    quote = _quote(w, tie, stance, who, hedge, q.tail, stated)
    return "".join(f"\n    {x} ;" for x in lines), quote


def _amount(w: ArticleWriter, claim: str, bad_currency: bool) -> None:
    cur = "usd" if bad_currency else "USD"
    w.ttl.append(f'<id/claim/{claim}#amount> a schema:MonetaryAmount ;\n    schema:value {w.rng.randint(1, 99) * 1000} ;'
                 f' schema:currency "{cur}" .\n')


def _write_claims(w: "ArticleWriter", ties: list[Tie], orphan: Tie | None, index: int, rng: random.Random,
                  pool: dict[str, list[Entity]], source: str, defects: list[str], out: list[Defect]) -> str:
    """One or two claims per tie (all but the orphan), stances and attributions varied; the first claim's key."""
    key = source.removeprefix("s:")
    first_claim = ""
    for j, tie in enumerate(ties):
        if tie is orphan:
            continue
        for k in range(1 if j % 2 else 2):
            stance = STANCES[(index + j + k) % len(STANCES)]
            speaker = rng.choice(pool["person"] + pool["org"]) if (j + k) % 3 else None
            planted = next((d for d in defects if CLAIM_DEFECTS.get(d) == j), "") if k == 0 else ""
            if planted == "modality-without-hedge":
                stance = "Asserts"
            if planted in ("own-voice-reported-by", "own-voice-speaker-text"):
                speaker = None
            if planted == "bad-currency" and tie.category != "Funding":
                raise ValueError("bad-currency needs a Funding tie at its index")
            extra, quote = _claim_extra(w, rng, pool, tie, stance, speaker, source, planted)
            if "bad-stance" in defects and j == 4 and k == 0:
                stance = "Maybe"
                out.append(Defect("bad-stance", key, f"{BASE}id/claim/{key}-{w.claims + 1:02d}"))
            made = w.claim(f"tl:tie t:{tie.key}", stance, f"e:{speaker.key}" if speaker else source,
                           f"{tie.subj.label} {CATEGORIES[tie.category][0]} {tie.obj.label}.", quote, extra)
            if tie.category == "Funding":
                _amount(w, made, planted == "bad-currency")
            if planted:
                focus = f"{BASE}id/claim/{made}" + ("#amount" if planted == "bad-currency" else "")
                out.append(Defect(planted, key, focus))
            first_claim = first_claim or made
    return first_claim


def _shared_claim(w: ArticleWriter, rng: random.Random, shared: list[Tie], source: str, index: int,
                  defects: list[str], out: list[Defect]) -> None:
    """A claim on a tie an earlier article defines (and the defects that need one)."""
    key = w.key
    if shared:
        other = rng.choice(shared)
        quote = _quote(w, other, "Asserts", "The newspaper")
        status = "tl:FellThrough, tl:Ongoing" if "conflicting-status" in defects else f"tl:{rng.choice(STATUSES)}"
        made = w.claim(f"tl:tie t:{other.key}", "Asserts", source, "A tie reported earlier, repeated here.", quote,
                       f'\n    tl:relationText "{_esc(CATEGORIES[other.category][0])}" ;\n    tl:status {status} ;')
        if index % 2 == 0:  # half restate the tie's category (every claim agrees on it): two graphs state it
            w.ttl.append(f"t:{other.key} a tl:{other.category} .\n")
        if "conflicting-status" in defects:
            out.append(Defect("conflicting-status", key, f"{BASE}id/claim/{made}"))
        if "shared-tie-qualifier" in defects:   # the defect issue 10 found: one article's words on a shared tie
            w.ttl.append(f't:{other.key} tl:role "foreign minister" .\n')
            out.append(Defect("shared-tie-qualifier", key, f"{BASE}id/tie/{other.key}"))
    elif "conflicting-status" in defects or "shared-tie-qualifier" in defects:
        raise ValueError("conflicting-status and shared-tie-qualifier need an earlier article's tie")


def _article(key: str, index: int, rng: random.Random, pool: dict[str, list[Entity]], shared: list[Tie],
             defects: list[str], out: list[Defect]) -> tuple[str, str, list[Tie]]:
    w = ArticleWriter(key, rng)
    cats = list(CATEGORIES)
    ties = [_tie(rng, pool, key, cats[(index * 7 + j) % len(cats)], j) for j in range(8)]
    if "bad-currency" in defects:
        ties[6] = _tie(rng, pool, key, "Funding", 6)
    source = f"s:{key}"
    publisher = rng.choice(pool["media"])
    if "bad-publisher" in defects:
        publisher = rng.choice(pool["person"])
        out.append(Defect("bad-publisher", key, f"{BASE}id/source/{key}"))
    headline = f"{ties[0].subj.label} and the {ties[0].obj.label} affair"
    w.sentence(headline + ".")
    w.ttl.append(f'{source} a tl:Source, schema:NewsArticle ;\n    tl:sourceFile "{key}.txt" ;\n'
                 f'    schema:publisher e:{publisher.key} ;\n    rdfs:label "{_esc(headline)}" .\n')
    if "tie-missing-object" in defects:
        ties[1].lines = [x for x in ties[1].lines if not x.startswith("tl:object")]
        out.append(Defect("tie-missing-object", key, f"{BASE}id/tie/{ties[1].key}"))
    if "unknown-entity" in defects:
        ties[2].lines = [x for x in ties[2].lines if not x.startswith("tl:object")] + [f"tl:object e:nobody-{key}"]
        out.append(Defect("unknown-entity", key, f"{BASE}id/tie/{ties[2].key}"))
    for tie in ties:
        _write_tie(w, tie)
    orphan = ties[-1] if "orphan-tie" in defects else None
    if orphan:
        out.append(Defect("orphan-tie", key, f"{BASE}id/tie/{orphan.key}"))
    first_claim = _write_claims(w, ties, orphan, index, rng, pool, source, defects, out)
    about = rng.choice(pool["org"])
    quote = w.sentence(f"{about.label} is described as a “movement” with a few hundred members.")
    w.claim(f"tl:about e:{about.key}", "Asserts", source, f"{about.label} is a small movement.", quote,
            '\n    tl:descriptor "a “movement” with a few hundred members" ;')
    _shared_claim(w, rng, shared, source, index, defects, out)
    if "unknown-tie" in defects:
        quote = w.sentence(f"A tie nobody recorded was mentioned in passing in {key}.")
        made = w.claim(f"tl:tie t:never-defined-{key}", "Asserts", source, "A claim on a missing tie.", quote)
        out.append(Defect("unknown-tie", key, f"{BASE}id/claim/{made}"))
    verdict = "Maybe" if "bad-verdict" in defects else VERDICTS[index % len(VERDICTS)]
    doubt = w.sentence(f"This was likely a bit of an exaggeration on the {publisher.label} side.")
    w.ttl.append(f'r:{key}-01 a schema:ClaimReview ;\n    schema:itemReviewed c:{first_claim} ;\n'
                 f'    schema:author {source} ;\n    tl:verdict tl:{verdict} ;\n    tl:quote "{_esc(doubt)}" .\n')
    if "bad-verdict" in defects:
        out.append(Defect("bad-verdict", key, f"{BASE}id/review/{key}-01"))
    return "\n".join(w.ttl), w.text(), ties


def _plan(articles: int, defects: int) -> dict[int, list[str]]:
    """Which defect kinds go into which article: spread out, never the first article (a conflicting
    status needs an earlier article's tie), never the same kind twice in one article."""
    if defects and articles < 2:
        raise ValueError("planting defects needs at least 2 articles")
    plan: dict[int, list[str]] = {}
    for i in range(defects):
        kind, at = DEFECTS[i % len(DEFECTS)], 1 + (i * 7919) % (articles - 1)
        while kind in plan.get(at, []) and kind != "entity-two-labels":
            at = 1 + at % (articles - 1)
        plan.setdefault(at, []).append(kind)
    return plan


def articles_for(triples: int) -> int:
    """The article count that gives about this many triples."""
    return max(1, round(triples / TRIPLES_PER_ARTICLE))


def generate(out_dir: Path, articles: int, seed: int = 1, defects: int = 0) -> list[Defect]:
    """Write data/{articles,sources,entities}/ under out_dir; return the planted defects (one violation each)."""
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    for sub in ("articles", "sources", "entities"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
        (out_dir / sub).mkdir(parents=True)
    pool = _entities(rng, 4 * articles + 40)
    plan = _plan(articles, defects)
    found: list[Defect] = []
    shared: list[Tie] = []
    for i in range(articles):
        key = f"syn-{i:05d}"
        kinds = plan.get(i, [])
        ttl, text, ties = _article(key, i, random.Random(rng.random()), pool, shared[-40:],
                                   [k for k in kinds if k != "entity-two-labels"], found)
        (out_dir / "articles" / f"{key}.ttl").write_text(ttl, encoding="utf-8")
        (out_dir / "sources" / f"{key}.txt").write_text(text, encoding="utf-8")
        shared.extend(t for t in ties if t.key not in {d.focus.rsplit("/", 1)[-1] for d in found})
    twice = {e.key for e in pool["person"][:sum(k.count("entity-two-labels") for k in plan.values())]}
    found += [Defect("entity-two-labels", "entities", f"{BASE}id/{k}") for k in sorted(twice)]
    for name, body in _entity_files(pool, twice).items():
        (out_dir / "entities" / name).write_text(body, encoding="utf-8")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--articles", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defects", type=int, default=0)
    args = parser.parse_args()
    found = generate(args.out_dir, args.articles, args.seed, args.defects)
    print(json.dumps([d.__dict__ for d in found], indent=1))


if __name__ == "__main__":
    main()
