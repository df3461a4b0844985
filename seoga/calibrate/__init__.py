"""Calibration: temperature scaling of scores, expected calibration error, reliability plots."""

from seoga.calibrate.metrics import expected_calibration_error, reliability_bins
from seoga.calibrate.temperature import TemperatureScaling

__all__ = ["TemperatureScaling", "expected_calibration_error", "reliability_bins"]
