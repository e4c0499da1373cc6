"""Expected failures: the CLI prints their message on one line and exits non-zero."""

from __future__ import annotations


class PulseError(Exception):
    """An expected failure with a one-line message saying what happened and what to do."""

    exit_code = 1
