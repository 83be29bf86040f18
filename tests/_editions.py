"""The mini dataset's second edition, for the release, changelog and feed tests (moved from
tests/publishing/test_versions.py, issue 12)."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def second_edition(data: Path) -> None:
    """One entity added, one renamed, one claim reworded, one claim withdrawn."""
    entities = data / "entities" / "entities.ttl"
    edit(entities, 'rdfs:label "Carol" .', 'rdfs:label "Carol Example" .')
    entities.write_text(entities.read_text(encoding="utf-8") + 'e:dave a schema:Person ; rdfs:label "Dave" .\n',
                        encoding="utf-8")
    article = data / "articles" / "mini.ttl"
    edit(article, 'tl:summary "Acme gave Bob Jones a grant of $10." ;', 'tl:summary "Acme Corp gave Bob Jones $10." ;')
    text = article.read_text(encoding="utf-8")
    article.write_text(re.sub(r"c:mini-03 a tl:Claim ;.*?\.\n", "", text, flags=re.DOTALL), encoding="utf-8")
