"""A SHA-256 state saved after n bytes and resumed later gives hashlib's digest of the whole."""
from __future__ import annotations

import hashlib
import os

import pytest

from tieslod.building import sha256state


@pytest.fixture()
def lib() -> None:
    if sha256state.library() is None:
        pytest.skip("no libcrypto")


@pytest.mark.usefixtures("lib")
@pytest.mark.parametrize("cut", [0, 1, 63, 64, 65, 1_000_003])
def test_resumed_state_gives_the_digest_of_the_whole(cut: int) -> None:
    data = os.urandom(2_000_017)
    first = sha256state.resumable()
    assert first is not None
    first.update(data[:cut])
    second = sha256state.resumable(first.state(), cut)
    assert second is not None
    second.update(data[cut:])
    assert second.hexdigest() == hashlib.sha256(data).hexdigest()
    assert first.hexdigest() == hashlib.sha256(data[:cut]).hexdigest()    # hexdigest does not consume


@pytest.mark.usefixtures("lib")
def test_a_state_for_another_offset_is_refused() -> None:
    sha = sha256state.resumable()
    assert sha is not None
    sha.update(b"x" * 100)
    assert sha256state.resumable(sha.state(), 101) is None
    assert sha256state.resumable(sha.state()[:100], 100) is None
