"""`python -m tieslod` is the CLI."""
from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "tieslod", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "validate" in done.stdout and "serve" in done.stdout


def test_python_dash_m_usage_error_exits_2() -> None:
    done = subprocess.run([sys.executable, "-m", "tieslod", "no-such-command"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "tieslod: error:" in done.stderr
