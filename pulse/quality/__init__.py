"""Spike-detector quality evaluation: labeled series, baselines, metrics (`python -m pulse.quality`)."""
