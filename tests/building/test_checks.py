"""The one validation (checks.py): `check` is the build's validation with nothing published."""
from __future__ import annotations

from tieslod.building.checks import check, cross_focus
from tieslod.building.storeupdate import StoreUpdate
from tieslod.config import Settings


def test_check_conforms_on_the_mini_fixture_and_writes_nothing(mini_settings: Settings) -> None:
    report = check(mini_settings)
    assert report.conforms and report.checked_quads > 0
    assert not mini_settings.out_dir.exists()


def test_a_fresh_store_means_checking_every_node() -> None:
    assert cross_focus(None, StoreUpdate("fresh")) is None  # type: ignore[arg-type]
