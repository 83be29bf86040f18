"""Quick authoring check for one article file (used while curating; the build does the full check).

Usage: /work/venv/bin/python tools/check_article.py data/articles/<key>.ttl
"""
import sys
from pathlib import Path

import rdflib

TL = rdflib.Namespace("https://w3id.org/tieslod/ontology#")
BASE = "https://w3id.org/tieslod/"
path = Path(sys.argv[1])
root = path.resolve().parents[2]
g = rdflib.Graph()
g.parse(path, format="turtle", publicID=BASE)
ents = rdflib.Graph()
for f in sorted((root / "data" / "entities").glob("*.ttl")):
    ents.parse(f, format="turtle", publicID=BASE)
text = (root / "data" / "sources" / (path.stem + ".txt")).read_text(encoding="utf-8")
known = set(ents.subjects()) | set(g.subjects())
bad = 0
for s, q in g.subject_objects(TL.quote):
    n = text.count(str(q))
    if n != 1:
        bad += 1
        print(f"QUOTE occurs {n} times: {s}: {q!r}")
for p in (TL.subject, TL.object, TL.speaker, TL.reportedBy, TL.tie, TL.about, TL.participant,
          TL.onBehalfOf, TL.event, rdflib.URIRef("http://schema.org/location")):
    for s, o in g.subject_objects(p):
        if isinstance(o, rdflib.URIRef) and o not in known:
            print(f"UNKNOWN node {o} (via {p} of {s})")
            bad += 1
claims = set(g.subjects(rdflib.RDF.type, TL.Claim))
ties = {t for t in g.subjects(rdflib.RDF.type) if str(t).startswith(BASE + "id/tie/")}
print(f"{len(claims)} claims, {len(ties)} ties, {bad} problems")
sys.exit(1 if bad else 0)
