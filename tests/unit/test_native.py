"""The mypyc build (`make native`): what runs compiled, stale builds refused, and the pure-Python switch."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from pulse.errors import PulseError
from pulse.native import MANIFEST, ROOT, native_build, require_current_build

SUFFIX = EXTENSION_SUFFIXES[0]  # e.g. .cpython-311-x86_64-linux-gnu.so


def _build(root: Path, compiled: dict[str, str]) -> None:
    """A native build of these sources (path -> text), as setup.py leaves it."""
    for name, text in compiled.items():
        source = root / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text)
        source.with_name(source.stem + SUFFIX).write_bytes(b"")
    (root / MANIFEST).write_text(json.dumps({n: hashlib.sha256(t.encode()).hexdigest() for n, t in compiled.items()}))


def test_finds_compiled_modules_and_the_edited_ones(tmp_path: Path) -> None:
    _build(tmp_path, {"streams/windows/state.py": "x = 1\n", "streams/dedupe.py": "y = 1\n"})
    (tmp_path / "sinks").mkdir()
    (tmp_path / "sinks/event_rows.py").write_text("z = 1\n")  # not compiled
    assert native_build(tmp_path).stale == []
    (tmp_path / "streams/dedupe.py").write_text("y = 2\n")
    os.utime(tmp_path / "streams/dedupe.py", (0, 0))  # file times do not matter, content does
    build = native_build(tmp_path)
    assert build.compiled == ["streams/dedupe.py", "streams/windows/state.py"]
    assert build.stale == ["streams/dedupe.py"]


def test_a_stale_build_is_refused_with_what_to_do(tmp_path: Path) -> None:
    _build(tmp_path, {"streams/dedupe.py": "y = 1\n", "schemas/event.py": "e = 1\n"})
    assert len(require_current_build(tmp_path).compiled) == 2
    (tmp_path / "streams/dedupe.py").write_text("y = 2\n")
    (tmp_path / "schemas/event.py").write_text("e = 2\n")
    with pytest.raises(PulseError, match=r"schemas/event.py \(and 1 more\) changed after it was compiled: "
                                         r"run `make native`"):
        require_current_build(tmp_path)
    (tmp_path / MANIFEST).unlink()  # a build that recorded nothing is not trusted either
    _build(tmp_path, {})
    with pytest.raises(PulseError):
        require_current_build(tmp_path)


def _imported_from(env: dict[str, str]) -> str:
    code = "import pulse, streams.windows.state as m, streams.enrich as e; print(m.__file__, e.__file__)"
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_pure_python_switch_imports_sources_where_a_build_exists() -> None:
    if "streams/windows/state.py" not in native_build().compiled:
        pytest.skip("no native build here (make native needs a C compiler)")
    env = {k: v for k, v in os.environ.items() if k != "PULSE_PURE_PYTHON"}
    compiled = _imported_from(env).split()
    assert all(path.endswith(SUFFIX) for path in compiled), compiled
    pure = _imported_from({**env, "PULSE_PURE_PYTHON": "1"}).split()
    assert pure == [str(ROOT / "streams/windows/state.py"), str(ROOT / "streams/enrich/__init__.py")]
