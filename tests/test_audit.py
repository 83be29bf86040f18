"""The paragraph audit (docs/audit/<key>.md, format in docs/audit.md) covers every paragraph of every
source: each paragraph lists its assertions, each with a fragment printed in that paragraph and the
claims or reviews that model it (or why none does), and every claim and review is named."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tieslod.model.grounding import normalise

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "data" / "sources").glob("*.txt"))
BULLET = re.compile(r'^- "(?P<fragment>.+)" → (?P<target>.+)$')
KEY = re.compile(r"\b([cr]):([a-z0-9-]+-\d\d)\b")


def paragraphs(source: Path) -> list[str]:
    return [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]


def sections(audit: Path) -> dict[int, list[str]]:
    """Paragraph number -> the bullet lines under its heading."""
    found: dict[int, list[str]] = {}
    current: int | None = None
    for line in audit.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (.*)$", line)
        if heading:
            number = re.fullmatch(r"Paragraph (\d+)", heading.group(1).strip())
            current = int(number.group(1)) if number else None
            if current is not None:
                assert current not in found, f"{audit.name}: paragraph {current} twice"
                found[current] = []
        elif current is not None and line.startswith("- "):
            found[current].append(line)
    return found


def modelled(key: str) -> set[str]:
    """Every claim and review key the article file defines, as c:KEY / r:KEY."""
    text = (ROOT / "data" / "articles" / f"{key}.ttl").read_text(encoding="utf-8")
    return {f"{m[0]}:{m[1]}" for m in re.findall(r"^([cr]):([a-z0-9-]+-\d\d) a ", text, re.MULTILINE)}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_the_audit_covers_every_paragraph_and_every_claim(source: Path) -> None:
    key = source.stem
    audit = ROOT / "docs" / "audit" / f"{key}.md"
    assert audit.is_file(), f"no audit for {key}"
    texts = paragraphs(source)
    found = sections(audit)
    assert sorted(found) == list(range(1, len(texts) + 1)), f"{audit.name}: paragraphs listed {sorted(found)}"
    known = modelled(key)
    named: set[str] = set()
    for number, bullets in found.items():
        assert bullets, f"{audit.name}: paragraph {number} lists nothing"
        paragraph = normalise(texts[number - 1])
        for bullet in bullets:
            match = BULLET.match(bullet)
            assert match, f"{audit.name} ¶{number}: not '- \"fragment\" → keys or none: reason': {bullet}"
            assert normalise(match["fragment"]) in paragraph, f"{audit.name} ¶{number}: not printed there: {bullet}"
            target = match["target"].strip()
            if target.startswith("none:"):
                assert len(target) > len("none:") + 5, f"{audit.name} ¶{number}: a reason is needed: {bullet}"
                continue
            keys = {f"{m[0]}:{m[1]}" for m in KEY.findall(target)}
            assert keys, f"{audit.name} ¶{number}: no claim or review key: {bullet}"
            assert keys <= known, f"{audit.name} ¶{number}: unknown {sorted(keys - known)}"
            named |= keys
    assert known <= named, f"{audit.name}: claims/reviews not in the audit: {sorted(known - named)}"


def test_the_combined_audit_links_every_article(repo_root: Path) -> None:
    combined = (repo_root / "docs" / "audit.md").read_text(encoding="utf-8")
    for source in SOURCES:
        assert f"audit/{source.stem}.md" in combined, source.stem


def test_the_combined_audit_table_counts_what_the_files_hold(repo_root: Path) -> None:
    """docs/audit.md's table (paragraphs, assertions, not modelled, claims, reviews) is measured, not typed."""
    combined = (repo_root / "docs" / "audit.md").read_text(encoding="utf-8")
    for source in SOURCES:
        key = source.stem
        row = re.search(rf"^\| \[{key}\]\(audit/{key}\.md\) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$",
                        combined, re.MULTILINE)
        assert row, key
        bullets = [b for v in sections(ROOT / "docs" / "audit" / f"{key}.md").values() for b in v]
        unmodelled = [b for b in bullets if BULLET.match(b)["target"].strip().startswith("none:")]
        known = modelled(key)
        assert tuple(map(int, row.groups())) == (
            len(paragraphs(source)), len(bullets), len(unmodelled),
            len([k for k in known if k.startswith("c:")]), len([k for k in known if k.startswith("r:")])), key
