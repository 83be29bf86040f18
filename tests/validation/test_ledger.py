"""URI persistence: the committed ledger covers every published URI; the build refuses to let a
listed URI disappear unless data/lifecycle.ttl accounts for it; `tieslod ledger` only appends."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tieslod.api import release_store as store_of
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.validation.ledger import LedgerError, check, ledger_path, read_ledger, update

LIFECYCLE = """@prefix dct:  <http://purl.org/dc/terms/> .
@prefix owl:  <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<id/carol-smith> dct:isReplacedBy <id/carol> ; owl:sameAs <id/carol> .
<id/dave> owl:deprecated true ; rdfs:label "Dave" ; rdfs:comment "Withdrawn." .
"""


def _store(settings: Settings):
    return store_of(settings)


def test_committed_ledger_lists_every_published_uri(real_settings: Settings) -> None:
    """Fails when data gains a URI nobody recorded: run `tieslod ledger` and commit data/uris.txt."""
    report = check(_store(real_settings), real_settings, read_ledger(ledger_path(real_settings)))
    assert report.ok, report.as_text()
    assert not report.unlisted, f"run `tieslod ledger`: {report.unlisted[:10]}"
    assert "id/alexander-ionov" in report.listed


def test_update_appends_and_never_removes(mini_settings: Settings) -> None:
    path = ledger_path(mini_settings)
    store = _store(mini_settings)
    first = update(store, mini_settings)
    listed = read_ledger(path)
    assert first.unlisted == listed and "id/acme" in listed and "id/claim/mini-01" in listed
    assert "id/tie/acme-funded-bob-jones" in listed and not any("#" in u for u in listed)
    path.write_text(path.read_text() + "id/old-thing\n")
    second = update(store, mini_settings)
    assert second.unlisted == [] and second.missing == ["id/old-thing"]
    assert "id/old-thing" in read_ledger(path)          # reported, never dropped
    assert path.read_text().startswith("# tieslod URI ledger")


def test_build_fails_when_a_listed_uri_disappears(mini_settings: Settings) -> None:
    update(_store(mini_settings), mini_settings)
    before = (mini_settings.out_dir / "current").resolve()
    entities = mini_settings.data_dir / "entities" / "entities.ttl"
    entities.write_text(entities.read_text().replace('e:fair a schema:Event ; rdfs:label "The fair" .', ""))
    article = mini_settings.data_dir / "articles" / "mini.ttl"
    article.write_text(article.read_text().replace("tl:event e:fair ;", ""))
    with pytest.raises(LedgerError, match="id/fair disappeared"):
        build(mini_settings)
    assert (mini_settings.out_dir / "current").resolve() == before   # the old release stays current


def test_lifecycle_accounts_for_renamed_and_withdrawn_uris(mini_settings: Settings) -> None:
    update(_store(mini_settings), mini_settings)
    path = ledger_path(mini_settings)
    path.write_text(path.read_text() + "id/carol-smith\nid/dave\n")
    with pytest.raises(LedgerError):
        build(mini_settings)
    (mini_settings.data_dir / "lifecycle.ttl").write_text(LIFECYCLE)
    result = build(mini_settings)
    assert result.counts["entities"] == 4


def test_no_ledger_no_check(mini_settings: Settings) -> None:
    assert not ledger_path(mini_settings).exists()
    build(mini_settings)


def test_cli_ledger_check_and_update(mini_data: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "tieslod.cli", "ledger", "--data", str(mini_data), "--out", str(tmp_path / "b")]
    checked = subprocess.run([*cmd, "--check"], capture_output=True, text=True)
    assert checked.returncode == 1 and "not listed" in checked.stderr
    updated = subprocess.run(cmd, capture_output=True, text=True)
    assert updated.returncode == 0, updated.stderr
    assert subprocess.run([*cmd, "--check"], capture_output=True, text=True).returncode == 0
