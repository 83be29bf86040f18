"""What changed between two releases (publishing/changelog.py), as JSON, as RDF, and from `tieslod diff`
(moved from test_versions.py, issue 12)."""
from __future__ import annotations

import json

import pyoxigraph as ox
from typer.testing import CliRunner

from tieslod.cli import app as cli
from tieslod.publishing.feeds import AS
from tieslod.publishing.versions import archive_root, diff_builds

E = "https://w3id.org/tieslod/id/"


def test_changelog_names_what_changed(two_releases) -> None:
    settings, first, second = two_releases
    changes = second.changelog.changes
    assert changes["entities"] == {"added": [E + "dave"], "changed": [E + "carol"], "withdrawn": []}
    assert changes["claims"] == {"added": [], "changed": [E + "claim/mini-01"], "withdrawn": [E + "claim/mini-03"]}
    assert changes["ties"]["changed"] == [E + "tie/bob-jones-met-carol"]    # its label names Carol
    assert first.changelog.summary()["claims"]["added"] == 3
    # the same as RDF (Activity Streams), as JSON, and from `tieslod diff`
    folder = archive_root(settings) / "dumps" / second.version
    store = ox.Store()
    store.load(path=str(folder / "changes.ttl"), format=ox.RdfFormat.TURTLE)
    deleted = [str(r["o"].value) for r in store.query(
        f"SELECT ?o WHERE {{ ?a a <{AS}Delete> ; <{AS}object> ?o }}")]
    assert deleted == [E + "claim/mini-03"]
    assert json.loads((folder / "changes.json").read_text(encoding="utf-8"))["changes"] == changes
    assert diff_builds(settings, first.version, second.version).changes == changes
    result = CliRunner().invoke(cli, ["diff", first.version, second.version, "--out", str(settings.out_dir)])
    assert result.exit_code == 0, result.output
    assert f"+ {E}dave  Dave" in result.stdout and f"- {E}claim/mini-03" in result.stdout
