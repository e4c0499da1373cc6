"""Packaging metadata lives in pyproject.toml; this file only adds the optional native build.

With PULSE_NATIVE=1, mypyc compiles the modules listed in native-modules.txt to C extensions (the
same typed Python source, ~15% less worker CPU per event: BENCHMARKS.md, Session 9). `make
native` builds them in place; deploy/Dockerfile builds them into the image. Without it (a plain
`pip install`) the package is pure Python and behaves the same, only slower. mypy must resolve the
project's imports, so build without build isolation, in an environment holding the dependencies.
"""

import hashlib
import json
import os
from pathlib import Path

from setuptools import setup


def native_modules() -> list[str]:
    lines = Path(__file__).with_name("native-modules.txt").read_text().splitlines()
    return [path for line in lines if (path := line.split("#", 1)[0].strip())]


def native_extensions() -> list[object]:
    if os.environ.get("PULSE_NATIVE") != "1":
        return []
    from mypyc.build import mypycify

    modules = native_modules()
    # What was compiled, by content: pulse/native.py refuses to run a module edited since.
    sources = {path: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in modules}
    Path("streams/_native_sources.json").write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n")
    return list(mypycify(modules, group_name="streams._native", opt_level="3"))


setup(ext_modules=native_extensions())
