"""The whole suite runs on the modules `make native` compiled, or with PULSE_PURE_PYTHON=1 on their
pure-Python sources (`make test` runs the unit tests both ways). A compiled module whose source
changed since it was compiled would test old code: the run stops instead."""

from __future__ import annotations

import pytest

import pulse  # noqa: F401  (PULSE_PURE_PYTHON=1 takes effect before any pipeline module is imported)
from pulse.errors import PulseError
from pulse.native import build_in_use, pure_python


def pytest_configure(config: pytest.Config) -> None:
    try:
        build_in_use()
    except PulseError as exc:
        pytest.exit(str(exc), returncode=2)


def pytest_report_header(config: pytest.Config) -> str:
    if pure_python():
        return "pipeline modules: pure Python (PULSE_PURE_PYTHON=1)"
    return f"pipeline modules: {len(build_in_use().compiled)} compiled (make native)"
