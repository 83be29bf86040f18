"""What a complete release is (manifest.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tieslod.building.manifest import complete, read_manifest
from tieslod.errors import IncompleteRelease


def test_a_built_release_is_complete_and_a_missing_dump_is_named(real_build, tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(real_build.release_dir, release, symlinks=True)
    assert complete(release) and read_manifest(release)["version"] == real_build.version
    (release / "dumps" / "tieslod.nt").unlink()
    with pytest.raises(IncompleteRelease) as caught:
        read_manifest(release)
    assert caught.value.path == release / "dumps" / "tieslod.nt"
    assert not complete(release)
