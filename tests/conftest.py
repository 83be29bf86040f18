"""Shared fixtures. Area-specific fixtures live in the test modules that use them."""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from tieslod.build import BuildResult, build
from tieslod.config import Settings

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture()
def mini_data(tmp_path: Path) -> Path:
    """A private copy of the tiny fixture dataset (one article, four entities) to modify freely."""
    target = tmp_path / "data"
    shutil.copytree(TEST_DATA / "mini", target)
    return target


@pytest.fixture()
def mini_settings(mini_data: Path, tmp_path: Path) -> Settings:
    return Settings(data_dir=mini_data, out_dir=tmp_path / "build")


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The bundled dataset, built once per test session into a temporary directory."""
    out = tmp_path_factory.mktemp("real-build")
    return build(Settings(out_dir=out))


@pytest.fixture(scope="session")
def real_settings(real_build: BuildResult) -> Settings:
    return Settings(out_dir=real_build.release_dir.parent.parent)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
