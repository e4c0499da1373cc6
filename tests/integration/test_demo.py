"""`pulse demo --duration`: the whole main job on the local stack, ending with a true summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.integration.conftest import ROOT, Pipeline


def test_demo_runs_and_summarizes(pipeline: Pipeline) -> None:
    # The demo starts (finds) the shared test stack, so it keeps the stack's data folder; topics and
    # the database are this test's own.
    env = dict(pipeline.env, PULSE_DATA_DIR=os.environ.get("PULSE_DATA_DIR", ".pulse"))
    result = subprocess.run([sys.executable, "-m", "pulse", "demo", "--duration", "25", "--rate", "200"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    out = " ".join(result.stdout.split())
    summary = re.search(r"summary: events produced ([\d,]+) \(unique valid ([\d,]+), duplicates ([\d,]+), "
                        r"malformed ([\d,]+)\); unique events in ClickHouse ([\d,]+); dead letters ([\d,]+)", out)
    assert summary, out[-2000:]
    produced, unique, dups, malformed, stored, dead = (int(g.replace(",", "")) for g in summary.groups())
    assert produced > 1000 and produced == unique + dups + malformed
    assert stored == unique == pipeline.scalar("SELECT count() FROM {db}.events")
    assert dead == malformed
    assert "where to look" in out and "engagement_by_minute" in out
