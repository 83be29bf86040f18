"""Connection paths: shortest chains of ties, each hop with its tie, stance, speaker and quote."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tieslod.api import path as connection_paths
from tieslod.cli import app as cli
from tieslod.config import Settings
from tieslod.errors import UsageError
from tieslod.querying.connections import PathAnswer

E = "https://w3id.org/tieslod/id/"
HEIMBACH, ROGOZIN = E + "matthew-heimbach", E + "dmitry-rogozin"
VIA_RIM = [HEIMBACH, E + "russian-imperial-movement", E + "rodina", ROGOZIN]
VIA_TWP = [HEIMBACH, E + "traditionalist-worker-party", E + "russian-imperial-movement", E + "rodina", ROGOZIN]


def nodes(chain: list) -> list[str]:
    return [chain[0].start] + [hop.end for hop in chain]


def source_texts(settings: Settings) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (settings.data_dir / "sources").glob("*.txt"))


@pytest.fixture(scope="module")
def heimbach_rogozin(real_settings: Settings) -> PathAnswer:
    return connection_paths(real_settings, "Matthew Heimbach", "Dmitry Rogozin", max_depth=4, alternatives=5)


def test_competency_heimbach_to_rogozin(heimbach_rogozin: PathAnswer, real_settings: Settings) -> None:
    chains = [nodes(c) for c in heimbach_rogozin.paths]
    assert chains[0] == VIA_RIM                       # the shortest: via the Russian Imperial Movement
    assert VIA_TWP in chains                          # and via the Traditionalist Worker Party
    assert [len(c) for c in chains] == sorted(len(c) for c in chains)
    texts = source_texts(real_settings)
    for chain in heimbach_rogozin.paths:
        for hop in chain:
            assert hop.ties, hop
            for tie in hop.ties:
                assert tie.asserted and {tie.subject, tie.object} == {hop.start, hop.end}
                asserting = [c for c in tie.claims if c.asserts]
                assert asserting and all(c.quote and c.quote in texts and c.speaker_label for c in asserting)


def test_rodina_hop_rests_on_quotes(heimbach_rogozin: PathAnswer) -> None:
    last = heimbach_rogozin.paths[0][-1]
    assert (last.start_label, last.end_label) == ("Rodina", "Dmitry Rogozin")
    quotes = [c.quote for t in last.ties for c in t.claims]
    assert any("co-founded by" in q and "Rogozin" in q for q in quotes)
    assert all(c.stance == "asserted" for t in last.ties for c in t.claims)


def test_depth_limit(real_settings: Settings) -> None:
    assert connection_paths(real_settings, "Heimbach", "Rogozin", max_depth=2).paths == []
    one = connection_paths(real_settings, "Heimbach", "Rogozin", max_depth=3, alternatives=10)
    assert one.paths and all(len(c) <= 3 for c in one.paths)


def test_only_asserted_ties_by_default(mini_settings: Settings) -> None:
    # bob-jones-met-carol is only denied (and met with no response): no evidence of a connection
    assert connection_paths(mini_settings, "Acme Corp", "Carol").paths == []
    marked = connection_paths(mini_settings, "Acme Corp", "Carol", include_denied=True)
    assert [nodes(c) for c in marked.paths] == [[E + "acme", E + "bob-jones", E + "carol"]]
    first, second = marked.paths[0]
    assert first.ties[0].asserted and not second.ties[0].asserted
    assert {c.stance for c in second.ties[0].claims} == {"denied", "did not respond"}
    assert {c.speaker_label for c in second.ties[0].claims} == {"Bob Jones", "Carol"}


def test_ambiguous_or_unknown_names(mini_settings: Settings) -> None:
    with pytest.raises(UsageError, match="no entity"):
        connection_paths(mini_settings, "Nobody Atall Zq", "Carol")
    assert connection_paths(mini_settings, "acme", E + "bob-jones").paths    # key and URI work too


def test_cli_path(real_settings: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["path", "Matthew Heimbach", "Dmitry Rogozin", "--out", str(real_settings.out_dir)])
    assert result.exit_code == 0, result.output
    assert "Matthew Heimbach → Russian Imperial Movement → Rodina → Dmitry Rogozin" in result.stdout
    assert "co-founded by" in result.stdout and "asserted by" in result.stdout


