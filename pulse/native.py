"""Which pipeline modules run compiled (mypyc, `make native`; see setup.py), and whether any is stale.

A compiled module is a C extension beside its source (`state.py` and `state.cpython-311-….so`), and
Python imports the extension first: after the source is edited, the old compiled code would still
run. The build records a hash of every source it compiled (streams/_native_sources.json; file times
are no guide: a wheel installs the sources after their extensions). Commands that run the pipeline
refuse to start on a stale build, and the test suite stops.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES, SOURCE_SUFFIXES, FileFinder, SourceFileLoader
from pathlib import Path
from types import ModuleType

from pulse.errors import PulseError

PACKAGES = ("streams", "schemas", "sinks")
ROOT = Path(__file__).resolve().parents[1]  # where the packages are (the repository, or site-packages)
MANIFEST = "streams/_native_sources.json"  # source path -> sha256 of what was compiled


@dataclass(frozen=True)
class NativeBuild:
    compiled: list[str]  # sources with a compiled module beside them, relative to the root
    stale: list[str]  # those whose source changed since it was compiled


def native_build(root: Path = ROOT, packages: Sequence[str] = PACKAGES) -> NativeBuild:
    compiled: list[str] = []
    stale: list[str] = []
    manifest = root / MANIFEST
    built: dict[str, str] = json.loads(manifest.read_text()) if manifest.exists() else {}
    for package in packages:
        for suffix in EXTENSION_SUFFIXES:
            for extension in (root / package).rglob(f"*{suffix}"):
                source = extension.with_name(extension.name[: -len(suffix)] + ".py")
                if not source.exists():
                    continue
                name = source.relative_to(root).as_posix()
                compiled.append(name)
                if built.get(name) != hashlib.sha256(source.read_bytes()).hexdigest():
                    stale.append(name)
    return NativeBuild(sorted(compiled), sorted(stale))


def require_current_build(root: Path = ROOT) -> NativeBuild:
    """The build, or PulseError when a compiled module's source changed since it was compiled."""
    build = native_build(root)
    if build.stale:
        more = f" (and {len(build.stale) - 1} more)" if len(build.stale) > 1 else ""
        raise PulseError(f"{build.stale[0]}{more} changed after it was compiled: run `make native` to compile it "
                         "again, or `make pure` to run pure Python")
    return build


def build_in_use() -> NativeBuild:
    """What a pipeline command runs: no build under PULSE_PURE_PYTHON=1, else the current build."""
    return NativeBuild([], []) if pure_python() else require_current_build()


class _SourcesOnly(importlib.abc.MetaPathFinder):
    """Finds the pipeline packages' submodules as source files, never as compiled extensions."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not path or fullname.partition(".")[0] not in PACKAGES:
            return None  # top-level packages (never compiled) and everything else: as usual
        for entry in path:
            spec = FileFinder(entry, (SourceFileLoader, SOURCE_SUFFIXES)).find_spec(fullname)
            if spec is not None:
                return spec
        return None


def pure_python() -> bool:
    return any(isinstance(finder, _SourcesOnly) for finder in sys.meta_path)


def prefer_sources() -> None:
    """Import the pipeline's modules from source even where a compiled build exists (the tests run
    the pure-Python reference this way too). Call before any of them is imported."""
    if not pure_python():
        sys.meta_path.insert(0, _SourcesOnly())
