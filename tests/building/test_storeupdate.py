"""The release store (storeupdate.py): a fresh load through a pipe holds exactly the N-Quads given, and
a failure on either side of the pipe is the build's error, not a hang or a partial store."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from tieslod.building.storeupdate import load_store

BODIES = [f"<https://x/s{i}> <https://x/p> \"{i}\" <https://x/g{i % 3}> .\n".encode() for i in range(5000)]


def test_a_fresh_load_holds_every_quad_given(tmp_path: Path) -> None:
    update = load_store(tmp_path / "store", lambda: iter(BODIES))
    assert update.mode == "fresh"
    store = ox.Store.read_only(str(tmp_path / "store"))
    assert set(store) == set(ox.parse(b"".join(BODIES), format=ox.RdfFormat.N_QUADS))


def test_an_error_of_the_feeder_is_raised(tmp_path: Path) -> None:
    def failing() -> Iterator[bytes]:
        yield BODIES[0]
        raise OSError("a damaged cache entry")
    with pytest.raises(OSError, match="a damaged cache entry"):
        load_store(tmp_path / "store", failing)


def test_bad_n_quads_fail_the_load_and_stop_the_feeder(tmp_path: Path) -> None:
    with pytest.raises(SyntaxError):
        load_store(tmp_path / "store", lambda: iter([b"not n-quads\n"] + BODIES * 20))
