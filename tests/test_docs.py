"""The README stays short and every link into docs/ (and any relative link) resolves."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_MAX = 15 * 1024
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def relative_links(path: Path) -> list[str]:
    return [target for target in LINK.findall(path.read_text(encoding="utf-8"))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_readme_is_at_most_15_kb() -> None:
    assert (ROOT / "README.md").stat().st_size <= README_MAX


def test_readme_links_into_docs_resolve() -> None:
    links = relative_links(ROOT / "README.md")
    assert sum(link.startswith("docs/") for link in links) >= 10
    missing = [link for link in links if not (ROOT / link).exists()]
    assert missing == []


def test_links_between_docs_resolve() -> None:
    missing = [f"{doc.relative_to(ROOT)} -> {link}" for doc in sorted((ROOT / "docs").glob("*.md"))
               for link in relative_links(doc) if not (doc.parent / link).exists()]
    assert missing == []
