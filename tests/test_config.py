"""One settings object: it holds every option, validates it once, and its defaults are the CLI's."""
from __future__ import annotations

from dataclasses import fields

import pytest
import typer

from tieslod.cli import app
from tieslod.config import DEFAULTS, Settings
from tieslod.errors import UsageError


def options_of(command: str) -> dict[str, object]:
    group = typer.main.get_command(app)
    return {p.name: p.default for p in group.commands[command].params}   # type: ignore[attr-defined]


def test_serve_defaults_come_from_settings() -> None:
    found = options_of("serve")
    names = {f.name for f in fields(Settings)}
    shared = {name: default for name, default in found.items() if name in names}
    assert len(shared) >= 18
    assert shared == {name: getattr(DEFAULTS, name) for name in shared}
    assert found["cache_mb"] * 1_000_000 == DEFAULTS.cache_bytes
    assert found["worker_memory_mb"] * 1_000_000 == DEFAULTS.worker_memory_bytes
    assert found["out"] == DEFAULTS.out_dir and found["base_uri"] == DEFAULTS.base_uri


def test_settings_hold_the_server_process_options() -> None:
    for name in ("http_workers", "access_log", "cache_bytes", "workers", "timeout"):
        assert name in {f.name for f in fields(Settings)}


@pytest.mark.parametrize(("change", "message"), [({"port": 70000}, "--port"), ({"http_workers": 0}, "--http-workers"),
                                                  ({"cache_bytes": -1}, "--cache-mb"),
                                                  ({"worker_memory_bytes": -1}, "--worker-memory-mb"),
                                                  ({"max_result_bytes": 0}, "--max-result-bytes")])
def test_settings_validate_once(change: dict[str, int], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        DEFAULTS.with_(**change)
