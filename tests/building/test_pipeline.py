"""Incremental builds: after one article changes, only it is remade, and every dump is byte-identical
to a full build's; the store is updated in place of a reload and holds the same quads."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyld import jsonld

from synthetic import generate
from tieslod.building import checks
from tieslod.building.dumpparts import PARTS, Parts, Planned
from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.errors import NonConformance


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synth") / "data"
    generate(data, 25, seed=5)
    return data


def _built_copy(corpus: Path, tmp_path: Path) -> tuple[Path, Settings]:
    """A copy of the corpus under tmp_path, built once into tmp_path/inc: the release to rebuild from."""
    data = tmp_path / "data"
    shutil.copytree(corpus, data)
    settings = Settings(data_dir=data, out_dir=tmp_path / "inc")
    build(settings)
    return data, settings


def _dumps(release: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((release / "dumps").iterdir())}


def _store_quads(release: Path) -> set[ox.Quad]:
    return set(ox.Store.read_only(str(release / "store")))


def test_one_changed_article_rebuilds_incrementally_and_identically(corpus: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(corpus, data)
    inc = Settings(data_dir=data, out_dir=tmp_path / "inc")
    first = build(inc)
    article = data / "articles" / "syn-00007.ttl"
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Denies", "tl:Asserts"), encoding="utf-8")
    second = build(inc)
    manifest = json.loads((second.release_dir / "manifest.json").read_text())
    assert manifest["build"]["remade"] == 1 and manifest["build"]["store"] == "incremental"
    assert second.version != first.version
    full = build(Settings(data_dir=data, out_dir=tmp_path / "full"))
    assert json.loads((full.release_dir / "manifest.json").read_text())["build"]["remade"] == manifest["graphs"].__len__()
    assert _dumps(second.release_dir) == _dumps(full.release_dir)
    assert _store_quads(second.release_dir) == _store_quads(full.release_dir)


def test_removed_article_leaves_the_store_and_dumps(corpus: Path, tmp_path: Path) -> None:
    data, settings = _built_copy(corpus, tmp_path)
    for sub, ext in (("articles", "ttl"), ("sources", "txt")):
        (data / sub / f"syn-00024.{ext}").unlink()   # the last article: no other article cites its ties
    after = build(settings)
    graphs = {g.value for g in ox.Store.read_only(str(after.release_dir / "store")).named_graphs()}
    assert settings.graph_iri("syn-00024") not in graphs and settings.graph_iri("syn-00023") in graphs
    assert _dumps(after.release_dir) == _dumps(build(Settings(data_dir=data, out_dir=tmp_path / "full")).release_dir)


def test_streamed_jsonld_parses_back_to_the_same_dataset(mini_settings: Settings) -> None:
    release = build(mini_settings).release_dir
    doc = json.loads((release / "dumps" / "tieslod.jsonld").read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    assert set(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)) == \
        set(ox.parse(path=str(release / "dumps" / "tieslod.nq"), format=ox.RdfFormat.N_QUADS))
    assert set(ox.parse(path=str(release / "dumps" / "tieslod.jsonld"), format=ox.RdfFormat.JSON_LD)) == \
        set(ox.parse(path=str(release / "dumps" / "tieslod.nq"), format=ox.RdfFormat.N_QUADS))


def claim_on_foreign_tie(data: Path) -> tuple[str, Path, str]:
    """(user, owner's article file, tie): an article `user` with a claim on a tie that another
    article, `owner`, defines."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted((data / "articles").glob("*.ttl"))}
    user, owner, tie = next((stem, m.group(2), m.group(1)) for stem, text in texts.items()
                            for m in re.finditer(r"tl:tie t:((syn-\d+)-[\w-]+) ;", text)
                            if m.group(2) != stem and f"t:{m.group(1)} a tl:" not in text)
    return user, data / "articles" / f"{owner}.ttl", tie


def _retarget(text: str, tie: str) -> tuple[str, str]:
    """The article text with the tie's object changed to another entity, and that entity's IRI (a
    claim row of any article shows its tie's object; a tie carries no qualifiers to change)."""
    found = re.search(rf"t:{tie} a tl:\w+ ;\n    tl:subject e:[\w-]+ ;\n    tl:object e:([\w-]+)", text)
    assert found is not None
    new = "syn-org-1" if found.group(1) != "syn-org-1" else "syn-org-2"
    changed = text[:found.start(1)] + new + text[found.end(1):]
    return changed, f",https://w3id.org/tieslod/id/{new},"


def test_incremental_validation_finds_what_a_full_one_finds(corpus: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A change in one article that breaks a rule for a node of another article (a claim whose tie
    stops being a tie) is caught by the incremental build's narrowed cross-document checks, with
    the same report as a full build."""
    data, settings = _built_copy(corpus, tmp_path)
    # a claim in one article (`user`) on a tie another article (`owner`) defines
    user, article, tie = claim_on_foreign_tie(data)
    text = article.read_text(encoding="utf-8")
    article.write_text(re.sub(rf"t:{tie} a tl:\w+ ;", f"t:{tie} a schema:Thing ;", text), encoding="utf-8")
    narrowed: list = []
    real = checks.cross_focus
    monkeypatch.setattr(checks, "cross_focus", lambda *a: narrowed.append(real(*a)) or narrowed[-1])
    with pytest.raises(NonConformance) as inc:
        build(settings)
    assert narrowed[0] is not None and 0 < len(narrowed[0]) < 200, "only nodes near the change"
    with pytest.raises(NonConformance) as full:
        build(Settings(data_dir=data, out_dir=tmp_path / "full"))
    found = inc.value.report.violations  # type: ignore[union-attr]
    assert found == full.value.report.violations  # type: ignore[union-attr]
    assert any(f"/claim/{user}" in v.focus for v in found), "a node of the unchanged article is reported"


def test_rows_reading_a_changed_article_are_remade(corpus: Path, tmp_path: Path) -> None:
    """A claim row of one article shows a tie another article defines: when only that other article
    changes the tie, the first article's cached row is remade too (csvrows.py), byte for byte."""
    data, inc = _built_copy(corpus, tmp_path)
    user, article, tie = claim_on_foreign_tie(data)
    text = article.read_text(encoding="utf-8")
    changed, target = _retarget(text, tie)
    article.write_text(changed, encoding="utf-8")
    after = build(inc).release_dir
    table = (after / "dumps" / "tieslod-claims.csv").read_text(encoding="utf-8-sig")
    assert any(line.startswith(f"https://w3id.org/tieslod/id/claim/{user}") and target in line
               for line in table.splitlines())
    assert _dumps(after) == _dumps(build(Settings(data_dir=data, out_dir=tmp_path / "full")).release_dir)


def test_claim_rows_after_a_failed_build(corpus: Path, tmp_path: Path) -> None:
    """A build that fails validation has already cached claim rows for its own inputs (csvrows.ROWS
    records which); the next build, from other inputs again, must still remake exactly what differs:
    its dumps equal a full build's, and the row showing a tie the failed build changed is right."""
    data, inc = _built_copy(corpus, tmp_path)
    user, article, tie = claim_on_foreign_tie(data)
    text = article.read_text(encoding="utf-8")
    purpose, target = _retarget(text, tie)
    article.write_text(re.sub(rf"t:{tie} a tl:\w+ ;", f"t:{tie} a schema:Thing ;", purpose), encoding="utf-8")
    with pytest.raises(NonConformance):
        build(inc)
    for i, version in enumerate((purpose, text)):      # the tie fixed with its purpose, then as at first
        article.write_text(version, encoding="utf-8")
        after = build(inc).release_dir
        table = (after / "dumps" / "tieslod-claims.csv").read_text(encoding="utf-8-sig")
        shown = any(line.startswith(f"https://w3id.org/tieslod/id/claim/{user}") and target in line
                    for line in table.splitlines())
        assert shown == (version == purpose)
        assert _dumps(after) == _dumps(build(Settings(data_dir=data, out_dir=tmp_path / f"full-{i}")).release_dir)


def _count_reused(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reused: list[str] = []
    real = Parts._reused

    def spy(self: Parts, kind: str, part: Planned) -> tuple[bytes, bytes] | None:
        found = real(self, kind, part)
        if found is not None:
            reused.append(part.key)
        return found
    monkeypatch.setattr(Parts, "_reused", spy)
    return reused


def test_unchanged_article_whose_union_body_changed_is_not_reused(corpus: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An incremental build reuses dump parts of the previous release (dumpparts.py) only when their key
    names the same bytes. An unchanged article's Turtle/N-Triples body depends on what earlier articles
    state (a triple an earlier graph states is dropped), so when the earlier article stops stating a
    triple the later one restates, the later article's part must be written anew: reusing the stale
    part would leave the triple out of the union dumps, and this test fails."""
    data, settings = _built_copy(corpus, tmp_path)
    user, owner, tie, category = next(
        (p.stem, m.group(2), m.group(1), m.group(3)) for p in sorted((data / "articles").glob("*.ttl"))
        for m in re.finditer(r't:((syn-\d+)-[\w-]+) a tl:(\w+) \.', p.read_text(encoding="utf-8"))
        if m.group(2) != p.stem)
    article = data / "articles" / f"{owner}.ttl"
    text = article.read_text(encoding="utf-8")
    changed = text.replace(f"t:{tie} a tl:{category} ;\n", f"t:{tie}\n")
    assert changed != text
    article.write_text(changed, encoding="utf-8")
    reused = _count_reused(monkeypatch)
    after = build(settings).release_dir
    assert reused, "the unchanged parts were taken from the previous release"
    line = (f"<https://w3id.org/tieslod/id/tie/{tie}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            f"<https://w3id.org/tieslod/ontology#{category}> .\n")
    assert (after / "dumps" / "tieslod.nt").read_text(encoding="utf-8").count(line) == 1, user
    monkeypatch.undo()
    assert _dumps(after) == _dumps(build(Settings(data_dir=data, out_dir=tmp_path / "full")).release_dir)


def test_a_missing_previous_part_is_made_again(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A part the previous manifest records but its folder lacks is written from the cache."""
    data = tmp_path / "data"
    shutil.copytree(corpus, data)
    settings = Settings(data_dir=data, out_dir=tmp_path / "inc")
    first = build(settings).release_dir
    for part in (first / PARTS).glob("*.nq"):
        part.unlink()
    article = data / "articles" / "syn-00007.ttl"
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Denies", "tl:Asserts"), encoding="utf-8")
    reused = _count_reused(monkeypatch)
    after = build(settings).release_dir
    assert reused, "the other dumps' parts were reused"
    assert len(list((after / PARTS).glob("*.nq"))) == len(json.loads((after / "manifest.json").read_text())["parts"]["nq"])
    monkeypatch.undo()
    assert _dumps(after) == _dumps(build(Settings(data_dir=data, out_dir=tmp_path / "full")).release_dir)


def test_rebuild_checksums_are_the_files_own(corpus: Path, tmp_path: Path) -> None:
    """A rebuild takes most parts from the previous release, but SHA256SUMS and the manifest are the
    checksums of the files it publishes, checked here with hashlib."""
    import hashlib

    data, inc = _built_copy(corpus, tmp_path)
    article = data / "articles" / "syn-00020.ttl"
    article.write_text(article.read_text(encoding="utf-8").replace("tl:Asserts", "tl:Denies", 1), encoding="utf-8")
    after = build(inc).release_dir
    sums = dict(reversed(line.split("  ")) for line in (after / "dumps" / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((after / "dumps" / name).read_bytes()).hexdigest() == digest, name
    files = json.loads((after / "manifest.json").read_text())["files"]
    assert all(f["sha256"] == sums[f["name"]] for f in files)
    assert _dumps(after) == _dumps(build(Settings(data_dir=data, out_dir=tmp_path / "full")).release_dir)
