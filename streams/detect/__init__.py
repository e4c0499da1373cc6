"""Spike detection: pure, typed, clock-free. The stream wires it; backtest and quality evaluation reuse it.

    config.py     rules, per-key overrides, deploy/detector.toml
    model.py      the learned expectation (Gamma-Poisson level, seasonal profile, overdispersion)
    detector.py   SpikeDetector.assess (pure, O(1)) / learn (once per closed interval)
    lifecycle.py  opened / escalated / resolved with hysteresis and cooldown; deterministic alert_id
    population.py running high quantile of all keys' counts (a rule's population floor), kept by the caller
    series.py     one rule over a whole series, the stream's per-interval sequence
"""

from streams.detect.config import DetectorConfig, RuleConfig, load_detector_config
from streams.detect.detector import Assessment, KeyState, SpikeDetector
from streams.detect.lifecycle import AlertLifecycle, Transition, alert_id
from streams.detect.population import PopulationQuantile
from streams.detect.series import SeriesResult, run_series

__all__ = ["AlertLifecycle", "Assessment", "DetectorConfig", "KeyState", "PopulationQuantile", "RuleConfig",
           "SeriesResult", "SpikeDetector", "Transition", "alert_id", "load_detector_config", "run_series"]
