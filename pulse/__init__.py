"""The `pulse` command: local stack, migrations, worker, replay, demo."""

import os

# Every pipeline process starts by importing this package: with PULSE_PURE_PYTHON=1 it runs the
# pipeline's modules from source even where `make native` compiled them (pulse/native.py).
if os.environ.get("PULSE_PURE_PYTHON") == "1":
    from pulse.native import prefer_sources

    prefer_sources()
