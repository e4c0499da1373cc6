"""One process per local state file: an exclusive, non-blocking lock beside it."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from pulse.errors import PulseError


def lock_state_file(path: Path, what: str, command: str) -> IO[str]:
    """Lock `<path>.lock` for the life of the returned handle; a one-line PulseError when the folder
    is unusable or another `command` holds it. `what` names the state (e.g. "the feed store")."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.with_suffix(".lock").open("w")
    except OSError as exc:
        raise PulseError(f"cannot use {path.parent} for {what} ({exc.strerror}); check PULSE_DATA_DIR") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise PulseError(f"another `{command}` is using {path.parent}; stop it, or give this one its own "
                         "PULSE_DATA_DIR") from None
    return handle
