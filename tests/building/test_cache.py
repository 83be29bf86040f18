"""The build cache: a chunk's entries are trusted from its metadata on, so a damaged cache must say so."""
from __future__ import annotations

import shutil

import pytest

from tieslod.building.release import build
from tieslod.config import Settings
from tieslod.errors import InternalError, outcome


def test_a_missing_entry_is_reported_as_a_damaged_cache(mini_settings: Settings) -> None:
    """make_all trusts a chunk's other entries once its metadata is there (written last); an entry
    deleted by hand must stop the build with a message saying what to do, not a TypeError."""
    build(mini_settings)
    out = mini_settings.out_dir
    shutil.rmtree(out / "releases")          # nothing to copy from: every body is read from the cache
    (out / "current").unlink()
    body = min((out / "cache" / "body").rglob("*.pickle"))
    body.unlink()
    with pytest.raises(InternalError, match="delete .*cache and build again") as caught:
        build(mini_settings, force=True)
    assert outcome(caught.value).exit_code == 3
    shutil.rmtree(out / "cache")
    assert build(mini_settings, force=True).release_dir.is_dir()
