"""api.py: one function per command; the only place that builds."""
from __future__ import annotations

from pathlib import Path

import pytest

from tieslod import api
from tieslod.config import Settings
from tieslod.errors import ServiceRefused, UsageError


def test_export_is_the_dump_of_the_current_release(real_settings: Settings) -> None:
    body = api.export(real_settings, "nquads")
    assert body == (real_settings.out_dir / "current" / "dumps" / "tieslod.nq").read_bytes()


def test_query_table_shortens_iris(real_settings: Settings) -> None:
    table = api.query(real_settings, "PREFIX tl: <https://w3id.org/tieslod/ontology#> "
                                     "SELECT ?c WHERE { ?c a tl:Claim } ORDER BY ?c LIMIT 1", "table").decode()
    assert "claim:" in table


def test_refusals_come_before_any_build(tmp_path: Path) -> None:
    settings = Settings(out_dir=tmp_path / "out")
    with pytest.raises(ServiceRefused, match="no outbound requests"):
        api.query(settings, "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "json")
    with pytest.raises(UsageError, match="unknown query output format"):
        api.query(settings, "ASK {}", "yaml")
    assert not (tmp_path / "out").exists()
